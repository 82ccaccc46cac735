// Dates and times in query strings (?asOf=, ?end=, ?from=&to=), read as strictly as stored ones
// (time.ts): a value that is not one is a 400 naming the parameter, never a silent default, and a time
// is compared with stored times only once it is in their form (UTC, milliseconds). Compared as sent,
// `from=2026-1-5` and `from=zzz` matched nothing or everything, and `to=2026-05-01T23:30:00Z`
// (no milliseconds) or an offset other than Z cut the range in the wrong place.
import { Invalid } from './errors.ts';
import { BACKWARDS_RANGE, DAY_HINT, TIME_HINT, isDate, normaliseTime, notADay } from './time.ts';

/** A day parameter ('YYYY-MM-DD'): the day, undefined when absent, or a 400 naming the parameter. */
export function dayParam(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (isDate(value)) return value;
  const problem = notADay(value);
  throw Invalid(`${name}: ${problem ?? `"${value.slice(0, 40)}" is not a date: ${DAY_HINT.replace('Enter', 'enter')}`}`, { [name]: problem ?? DAY_HINT });
}

/** A time parameter (an ISO time with its zone, or a day): as stored, undefined when absent or empty. */
function timeParam(name: string, value: string | undefined): { at: string; day: boolean } | undefined {
  if (value === undefined || value === '') return undefined;
  const t = normaliseTime(value);
  if ('error' in t) {
    const problem = t.error === TIME_HINT ? `"${value.slice(0, 40)}" is not a date or a time: ${TIME_HINT.replace('Enter', 'enter')}` : t.error;
    throw Invalid(`${name}: ${problem}`, { [name]: t.error });
  }
  return { at: t.at, day: !value.includes('T') };
}

/**
 * `?from=&to=` as stored times, for `at >= from` and `at < to` (`to: 'exclusive'`) or `at <= to`
 * (`'inclusive'`, where a day runs to its last millisecond). A from after to is a 400 naming both.
 */
export function timeRangeParams(query: { from?: string; to?: string }, toIs: 'exclusive' | 'inclusive'): { from?: string; to?: string } {
  const from = timeParam('from', query.from);
  const to = timeParam('to', query.to);
  const upper = to && (toIs === 'inclusive' && to.day ? new Date(Date.parse(to.at) + 86_400_000 - 1).toISOString() : to.at);
  if (from && upper !== undefined && from.at > upper) {
    throw Invalid(`from (${query.from}) is after to (${query.to})`, { ...BACKWARDS_RANGE });
  }
  return { from: from?.at, to: upper };
}
