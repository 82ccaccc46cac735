// Calendar dates ('YYYY-MM-DD', UTC) and half-open periods [start, end), and recurring-charge
// proration by day. Pure: no database, no clock.
// Proration rule: a monthly charge is priced per calendar month; a month partly covered (subscription
// starting or ending inside it, or a bill period cutting it) costs price × covered days / days in that
// month, rounded half away from zero once per month. An annual charge is billed in advance on each
// anniversary of the subscription start inside the bill period, prorated by day when the subscription
// ends before the next anniversary. Subscription end dates are exclusive: service stops that day.
import { mulRatio } from './money.ts';

const DAY_MS = 86_400_000;
const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

export { isDate } from '../platform/time.ts';

/** Days since 1970-01-01 of a calendar date. */
export function dayNumber(date: string): number {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  return Math.round(Date.UTC(+m[1], +m[2] - 1, +m[3]) / DAY_MS);
}

export function fromDayNumber(n: number): string {
  return new Date(n * DAY_MS).toISOString().slice(0, 10);
}

export function daysBetween(start: string, end: string): number {
  return dayNumber(end) - dayNumber(start);
}

export function addDays(date: string, days: number): string {
  return fromDayNumber(dayNumber(date) + days);
}

/** Same day of month `months` later, clamped to the month's last day (Jan 31 + 1 month = Feb 28/29). */
export function addMonths(date: string, months: number): string {
  const m = DATE_RE.exec(date);
  if (!m) throw new RangeError(`not a date: ${date}`);
  const total = +m[1] * 12 + (+m[2] - 1) + months;
  const y = Math.floor(total / 12);
  const mo = total - y * 12;
  const last = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
  const d = Math.min(+m[3], last);
  return `${String(y).padStart(4, '0')}-${String(mo + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
}

export function monthStart(date: string): string {
  return date.slice(0, 8) + '01';
}

export interface Period {
  start: string;
  /** exclusive */
  end: string;
}

/** The calendar month containing `date` as a period. */
export function monthOf(date: string): Period {
  const start = monthStart(date);
  return { start, end: addMonths(start, 1) };
}

export function overlap(a: Period, b: Period): Period | null {
  const start = a.start > b.start ? a.start : b.start;
  const end = a.end < b.end ? a.end : b.end;
  return start < end ? { start, end } : null;
}

export interface RecurringSlice {
  /** the service period this amount pays for */
  start: string;
  end: string;
  amount: number;
  /** covered days / days in the charge's own period (month or year); equal when not prorated */
  days: number;
  ofDays: number;
}

export interface SubscriptionSpan {
  start: string;
  /** exclusive; null while the subscription runs on */
  end: string | null;
}

const FAR_FUTURE = '9999-12-31';

/**
 * The amounts a recurring charge of `unitAmount` (minor units per interval, already × quantity)
 * earns inside the bill `period` for a subscription `span`.
 */
export function recurringSlices(interval: 'month' | 'year', unitAmount: number, span: SubscriptionSpan, period: Period): RecurringSlice[] {
  const active: Period = { start: span.start, end: span.end ?? FAR_FUTURE };
  const slices: RecurringSlice[] = [];
  if (interval === 'month') {
    for (let ms = monthStart(period.start); ms < period.end; ms = addMonths(ms, 1)) {
      const month: Period = { start: ms, end: addMonths(ms, 1) };
      const covered = overlap(overlap(month, period) ?? { start: ms, end: ms }, active);
      if (!covered) continue;
      const days = daysBetween(covered.start, covered.end);
      const ofDays = daysBetween(month.start, month.end);
      slices.push({ ...covered, days, ofDays, amount: days === ofDays ? unitAmount : mulRatio(unitAmount, days, ofDays) });
    }
    return slices;
  }
  // Annual: bill in advance on each anniversary inside the period (anniversaries computed from the
  // original start so Feb 29 does not drift to Feb 28 for ever).
  for (let k = 0; ; k++) {
    const anniversary = addMonths(span.start, 12 * k);
    if (anniversary >= period.end || anniversary >= active.end) break;
    if (anniversary < period.start) continue;
    const term: Period = { start: anniversary, end: addMonths(span.start, 12 * (k + 1)) };
    const covered = overlap(term, active)!;
    const days = daysBetween(covered.start, covered.end);
    const ofDays = daysBetween(term.start, term.end);
    slices.push({ ...covered, days, ofDays, amount: days === ofDays ? unitAmount : mulRatio(unitAmount, days, ofDays) });
  }
  return slices;
}
