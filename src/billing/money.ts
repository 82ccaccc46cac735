// Money: integer minor units with an ISO 4217 currency. Never floats.
// Rounding rule (one rule, everywhere): half away from zero ("commercial half-up"), applied once per
// computed amount (a prorated charge, a rated usage line, an invoice's tax) — never on intermediate
// values. Intermediate arithmetic uses BigInt so products like quantity × unit price cannot overflow.
// Sub-minor-unit prices (e.g. $0.0015 per API call) are decimal strings in major units, parsed exactly.
import { Invalid } from '../platform/errors.ts';

/** Minor-unit exponent per currency (ISO 4217). Currencies not listed are refused. */
const EXPONENT: Record<string, number> = {
  AED: 2, AUD: 2, BHD: 3, BRL: 2, CAD: 2, CHF: 2, CLP: 0, CNY: 2, CZK: 2, DKK: 2, EUR: 2, GBP: 2,
  HKD: 2, HUF: 2, IDR: 2, ILS: 2, INR: 2, ISK: 0, JOD: 3, JPY: 0, KRW: 0, KWD: 3, MXN: 2, MYR: 2,
  NOK: 2, NZD: 2, OMR: 3, PHP: 2, PLN: 2, RON: 2, SAR: 2, SEK: 2, SGD: 2, THB: 2, TND: 3, TRY: 2,
  TWD: 2, UGX: 0, USD: 2, VND: 0, ZAR: 2,
};

export const CURRENCIES: readonly string[] = Object.keys(EXPONENT);

export interface Money {
  /** Integer amount in minor units (cents for USD, yen for JPY, fils for KWD). */
  amount: number;
  currency: string;
}

export function isCurrency(code: string): boolean {
  return Object.hasOwn(EXPONENT, code);
}

export function currencyExponent(code: string): number {
  const e = EXPONENT[code];
  if (e === undefined) throw Invalid(`Unknown currency ${code}`, { currency: 'Use an ISO 4217 code such as USD or EUR' });
  return e;
}

export function money(amount: number, currency: string): Money {
  if (!Number.isSafeInteger(amount)) throw Invalid(`Amount must be a whole number of minor units, got ${amount}`);
  currencyExponent(currency);
  return { amount, currency };
}

export class CurrencyMismatch extends Error {
  constructor(a: string, b: string) {
    super(`Cannot combine ${a} and ${b}`);
    this.name = 'CurrencyMismatch';
  }
}

function same(a: Money, b: Money): void {
  if (a.currency !== b.currency) throw new CurrencyMismatch(a.currency, b.currency);
}

function checked(n: number): number {
  if (!Number.isSafeInteger(n)) throw new RangeError('Amount exceeds the safe integer range');
  return n;
}

export function add(a: Money, b: Money): Money {
  same(a, b);
  return { amount: checked(a.amount + b.amount), currency: a.currency };
}

export function subtract(a: Money, b: Money): Money {
  same(a, b);
  return { amount: checked(a.amount - b.amount), currency: a.currency };
}

export function sum(currency: string, items: Money[]): Money {
  return items.reduce((acc, m) => add(acc, m), money(0, currency));
}

/** n / d rounded half away from zero. d must be positive. */
export function divRound(n: bigint, d: bigint): bigint {
  if (d <= 0n) throw new RangeError('divisor must be positive');
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const q = abs / d;
  const r = abs % d;
  const rounded = r * 2n >= d ? q + 1n : q;
  return neg ? -rounded : rounded;
}

function toSafe(n: bigint): number {
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new RangeError('Amount exceeds the safe integer range');
  return Number(n);
}

/** amount × num / den, rounded half away from zero (proration, percentages). */
export function mulRatio(amount: number, num: number | bigint, den: number | bigint): number {
  return toSafe(divRound(BigInt(amount) * BigInt(num), BigInt(den)));
}

/** An exact decimal: value = units / 10^scale. */
export interface Decimal {
  units: bigint;
  scale: number;
}

const DECIMAL_RE = /^(-)?(\d{1,15})(?:\.(\d{1,12}))?$/;

export function isDecimal(s: string): boolean {
  return DECIMAL_RE.test(s);
}

/** Parses "12", "0.0015", "-3.5" exactly (no exponent notation, at most 12 decimals). */
export function parseDecimal(s: string): Decimal {
  const m = DECIMAL_RE.exec(s.trim());
  if (!m) throw Invalid(`"${s}" is not a decimal number`);
  const frac = m[3] ?? '';
  const units = BigInt(m[2] + frac) * (m[1] ? -1n : 1n);
  return { units, scale: frac.length };
}

/** Major-unit decimal price × integer quantity → minor units, rounded once, half away from zero. */
export function priceTimesQuantity(unitPrice: Decimal, quantity: bigint, currency: string): number {
  const exp = BigInt(currencyExponent(currency));
  return toSafe(divRound(unitPrice.units * quantity * 10n ** exp, 10n ** BigInt(unitPrice.scale)));
}

/** Percentage (decimal string such as "8.875") of an amount, rounded half away from zero. */
export function percentOf(amount: number, percent: string): number {
  const p = parseDecimal(percent);
  return toSafe(divRound(BigInt(amount) * p.units, 100n * 10n ** BigInt(p.scale)));
}

/** Minor units → plain decimal string in major units: 123456 USD → "1234.56", 5 JPY → "5". */
export function toDecimalString(amount: number, currency: string): string {
  const exp = currencyExponent(currency);
  const neg = amount < 0;
  const digits = String(Math.abs(amount)).padStart(exp + 1, '0');
  const whole = exp ? digits.slice(0, -exp) : digits;
  const frac = exp ? '.' + digits.slice(-exp) : '';
  return (neg ? '-' : '') + whole + frac;
}

/** Major-unit text typed by a person ("1,234.5") → minor units; refuses more decimals than the currency has. */
export function parseMajor(text: string, currency: string): number {
  const exp = currencyExponent(currency);
  const cleaned = text.replace(/[,\s]/g, '');
  const m = /^(-)?(\d+)(?:\.(\d*))?$/.exec(cleaned);
  if (!m) throw Invalid(`"${text}" is not an amount`);
  const frac = m[3] ?? '';
  if (frac.length > exp) throw Invalid(`${currency} amounts have at most ${exp} decimal places`);
  const units = BigInt(m[2] + frac.padEnd(exp, '0')) * (m[1] ? -1n : 1n);
  return toSafe(units);
}

/** Human formatting ("$1,234.56") without going through floating point. */
export function formatMoney(amount: number, currency: string, locale = 'en-US'): string {
  const exp = currencyExponent(currency);
  const fmt = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: exp, maximumFractionDigits: exp });
  // Intl accepts decimal strings exactly (Intl.NumberFormat v3), so no float rounding creeps in.
  return fmt.format(toDecimalString(amount, currency) as unknown as number);
}
