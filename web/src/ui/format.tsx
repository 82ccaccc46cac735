// Money and dates as the UI shows them everywhere: money always with currency and two decimals
// ("1,234.50 USD"), dates in the signed-in user's time zone with the zone on hover.

import { useSyncExternalStore } from 'react';

let displayZone: string | undefined;
let displayLocale: string | undefined;
const watchers = new Set<() => void>();

/**
 * Set once the user is known (from GET /api/me, read again on each navigation and when the window
 * gets focus); falls back to the browser's zone. A change (made on another tab, or by an admin)
 * redraws what shows a time (DateTime) and what depends on the zone (useDisplayPreferences).
 */
export function setDisplayPreferences(timeZone?: string | null, locale?: string | null): void {
  const zone = timeZone && isValidZone(timeZone) ? timeZone : undefined;
  const loc = locale && isValidLocale(locale) ? locale : undefined;
  if (zone === displayZone && loc === displayLocale) return;
  displayZone = zone;
  displayLocale = loc;
  for (const w of watchers) w();
}

const watch = (onChange: () => void) => {
  watchers.add(onChange);
  return () => void watchers.delete(onChange);
};
const preferences = () => `${userTimeZone()}|${displayLocale ?? ''}`;

/** The user's time zone and locale as one value, which changes (and redraws its component) when they do. */
export function useDisplayPreferences(): string {
  return useSyncExternalStore(watch, preferences);
}

function isValidZone(z: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: z });
    return true;
  } catch {
    return false;
  }
}

function isValidLocale(l: string): boolean {
  try {
    return Intl.NumberFormat.supportedLocalesOf([l]).length > 0;
  } catch {
    return false;
  }
}

export function userTimeZone(): string {
  return displayZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC';
}

/** How far `zone`'s clocks are ahead of UTC at instant `t`, in milliseconds. */
function zoneOffset(zone: string, t: number): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, x.value]));
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(t / 1000) * 1000;
}

/**
 * The first instant of a day ('YYYY-MM-DD') on the clocks of `zone` (the user's by default): its
 * midnight there, found with the zone's offset on that date, not the browser's. Where the clocks
 * skip midnight (Santiago in September, Beirut in March), the day begins when they jump; where
 * midnight comes twice, at the first.
 */
export function dayStart(day: string, zone = userTimeZone()): Date {
  const [y, m, d] = day.split('-').map(Number);
  const wall = Date.UTC(y, m - 1, d);
  // A change of offset near that midnight is within a day of it: try the offsets on either side.
  const tries = [...new Set([zoneOffset(zone, wall - 86_400_000), zoneOffset(zone, wall + 86_400_000)])].map((o) => wall - o);
  const midnights = tries.filter((t) => zoneOffset(zone, t) === wall - t);
  return new Date(midnights.length ? Math.min(...midnights) : Math.max(...tries));
}

/** The last millisecond of a day in `zone` (the user's by default): one before the next day starts (a day there may last 23 or 25 hours). */
export function dayEnd(day: string, zone = userTimeZone()): Date {
  const [y, m, d] = day.split('-').map(Number);
  const next = new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10);
  return new Date(dayStart(next, zone).getTime() - 1);
}

const MINOR_DIGITS: Record<string, number> = { JPY: 0, KRW: 0, BHD: 3, KWD: 3, JOD: 3, TND: 3, OMR: 3 };

/**
 * Money from integer minor units: formatMoney(123450, 'USD') → "1,234.50 USD".
 * Two decimals (three for currencies that have them); grouping in en-US style for a consistent look.
 */
export function formatMoney(minor: number | bigint | string | null | undefined, currency: string): string {
  if (minor === null || minor === undefined || minor === '') return '—';
  const cur = (currency || '').toUpperCase();
  const exp = MINOR_DIGITS[cur] ?? 2;
  const n = typeof minor === 'bigint' ? minor : BigInt(typeof minor === 'string' ? minor : Math.round(minor));
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const base = 10n ** BigInt(exp);
  const whole = (abs / base).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  // Show at least two decimals even for zero-decimal currencies so columns line up.
  const frac = exp > 0 ? (abs % base).toString().padStart(exp, '0') : '00';
  return `${neg ? '-' : ''}${whole}.${frac} ${cur}`.trim();
}

/** Parse "1,234.50" into minor units (for money inputs); null when not a number. */
export function parseMoney(text: string, currency = 'USD'): number | null {
  const exp = MINOR_DIGITS[currency.toUpperCase()] ?? 2;
  const t = text.replace(/[,\s]/g, '');
  if (!/^-?\d+(\.\d+)?$/.test(t)) return null;
  const [w, f = ''] = t.replace('-', '').split('.');
  if (f.length > Math.max(exp, 2)) return null;
  const minor = Number(w) * 10 ** exp + Number((f + '000').slice(0, exp) || '0');
  return t.startsWith('-') ? -minor : minor;
}

export function formatNumber(n: number | null | undefined, digits = 0): string {
  if (n === null || n === undefined) return '—';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function toDate(v: string | number | Date): Date {
  return v instanceof Date ? v : new Date(v);
}

/** "28 Nov 2026, 14:05" in the user's zone. */
export function formatDateTime(v: string | number | Date | null | undefined, opts: { seconds?: boolean } = {}): string {
  if (v === null || v === undefined || v === '') return '—';
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return new Intl.DateTimeFormat(displayLocale ?? 'en-GB', {
    timeZone: userTimeZone(),
    day: '2-digit',
    month: 'short',
    year: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: opts.seconds ? '2-digit' : undefined,
    hour12: false,
  }).format(d);
}

/** A calendar date ("2026-11-28" or an ISO timestamp) shown as "28 Nov 2026"; plain dates are not shifted by zone. */
export function formatDate(v: string | Date | null | undefined): string {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v)) {
    const d = new Date(`${v}T00:00:00Z`);
    return new Intl.DateTimeFormat(displayLocale ?? 'en-GB', { timeZone: 'UTC', day: '2-digit', month: 'short', year: 'numeric' }).format(d);
  }
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return String(v);
  return new Intl.DateTimeFormat(displayLocale ?? 'en-GB', { timeZone: userTimeZone(), day: '2-digit', month: 'short', year: 'numeric' }).format(d);
}

/** Hover text: the zone and the exact UTC instant. */
export function dateTitle(v: string | number | Date): string {
  const d = toDate(v);
  if (Number.isNaN(d.getTime())) return '';
  return `${userTimeZone()} · ${d.toISOString().replace('.000Z', 'Z')}`;
}

/** <DateTime value=…/>: the time in the user's zone, zone and UTC on hover. */
export function DateTime({ value, seconds, dateOnly }: { value: string | number | Date | null | undefined; seconds?: boolean; dateOnly?: boolean }) {
  useDisplayPreferences();
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  const iso = toDate(value);
  return (
    <time dateTime={Number.isNaN(iso.getTime()) ? undefined : iso.toISOString()} title={dateTitle(value)}>
      {dateOnly ? formatDate(typeof value === 'number' ? new Date(value) : value) : formatDateTime(value, { seconds })}
    </time>
  );
}

/** <Money minor={123450} currency="USD"/>, right-aligned in tables by the column. */
export function Money({ minor, currency }: { minor: number | bigint | string | null | undefined; currency: string }) {
  return <span className="money">{formatMoney(minor, currency)}</span>;
}
