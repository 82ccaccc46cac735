// Timestamps are ISO-8601 UTC strings everywhere in storage and on the wire; days are 'YYYY-MM-DD'.
// What a client sends is read strictly here, part by part (never through Date.parse, which rolls
// 2025-02-31 over to 2025-03-03), and stored as nowIso() writes it, so stored times compare as text.
let lastMs = 0;
let lastIso = '';
/**
 * Now, to the millisecond. Formatting a date costs about 1 µs (a SCIM GET by id asks three times:
 * the token's expiry, its check, the log row), reading the clock 0.05: the text is made once a millisecond.
 */
export const nowIso = (): string => {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
};
export const addSeconds = (iso: string, s: number): string => new Date(Date.parse(iso) + s * 1000).toISOString();

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A calendar day that exists, as 'YYYY-MM-DD': 2024-02-29 is one, 2025-02-29 and 2025-13-01 are not. */
export function isDate(s: string): boolean {
  const m = DATE_RE.exec(s);
  if (!m) return false;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  return d.toISOString().slice(0, 10) === s;
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/**
 * Why 'YYYY-MM-DD' text names no day ("2025-02-31 is not a day: February 2025 has 28 days", "2025-13-01
 * is not a day: there is no month 13"); null when it is a day, or when its month and day are in range
 * but isDate still refuses it (a year before 100, which Date.UTC reads as 19xx).
 */
export function notADay(day: string): string | null {
  const m = DATE_RE.exec(day);
  if (!m || isDate(day)) return null;
  const [, y, mo, d] = m;
  const month = Number(mo);
  if (month < 1 || month > 12) return `${day} is not a day: there is no month ${mo}`;
  const year = Number(y);
  const days = month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31;
  if (Number(d) >= 1 && Number(d) <= days) return null;
  return `${day} is not a day: ${MONTHS[month - 1]} ${y} has ${days} days`;
}

const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|([+-])(\d{2}):?(\d{2})))?$/;
export const TIME_HINT = 'Enter a time like 2026-01-31T12:00:00Z or a date like 2026-01-31';
/** What a day field or parameter takes (the API's field message and the UI's, alike). */
export const DAY_HINT = 'Enter a date like 2026-01-31';
/** The field messages of a from/to range whose from comes after its to, in the API and the UI alike. */
export const BACKWARDS_RANGE = { from: 'Must not be after to', to: 'Must not be before from' } as const;

/**
 * An ISO 8601 time with its zone, or a date (its midnight UTC), as stored (UTC, milliseconds), or why
 * not. Each part is checked before any arithmetic: Date.parse rolled 2025-02-31 over to 2025-03-03
 * and T24:00 to the next day, so a usage reading was billed in a period it did not happen in.
 */
export function normaliseTime(s: string): { at: string } | { error: string } {
  const m = TIME_RE.exec(s);
  if (!m) return { error: TIME_HINT };
  const [, y, mo, d, hh, mi, ss = '00', frac = '', zone, sign, oh, om] = m;
  const day = `${y}-${mo}-${d}`;
  if (!isDate(day)) return { error: notADay(day) ?? TIME_HINT };
  if (hh === undefined) return { at: `${day}T00:00:00.000Z` };
  const time = s.slice(11, 11 + (m[6] === undefined ? 5 : 8));
  if (Number(hh) > 23 || Number(mi) > 59 || Number(ss) > 59) return { error: `${time} is not a time of day (00:00:00 to 23:59:59)` };
  if (zone !== 'Z' && (Number(oh) > 23 || Number(om) > 59)) return { error: `${zone} is not a UTC offset` };
  const offsetMinutes = zone === 'Z' ? 0 : (sign === '-' ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const ms = Number(frac.padEnd(3, '0').slice(0, 3));
  const t = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(hh), Number(mi), Number(ss), ms) - offsetMinutes * 60_000;
  return { at: new Date(t).toISOString() };
}
