// Dates in query strings (?asOf=, ?end=), read as strictly as stored ones (time.ts): a value that is
// not a day is a 400 naming the parameter, never a silent default.
import { Invalid } from './errors.ts';
import { isDate, notADay } from './time.ts';

const DAY_HINT = 'Enter a date like 2026-01-31';

/** A day parameter ('YYYY-MM-DD'): the day, undefined when absent, or a 400 naming the parameter. */
export function dayParam(name: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (isDate(value)) return value;
  const problem = notADay(value);
  throw Invalid(`${name}: ${problem ?? `"${value.slice(0, 40)}" is not a date: ${DAY_HINT.replace('Enter', 'enter')}`}`, { [name]: problem ?? DAY_HINT });
}
