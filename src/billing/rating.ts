// Usage rating: turns a period's total quantity of one usage identifier into an amount.
// Models: 'unit' (every unit at one price), 'graduated' (each unit priced by the tier it falls in,
// like tax brackets) and 'volume' (all units at the price of the tier the total reaches).
// Unit prices are decimal strings in major units ("0.0015"); tier flat fees are integer minor units.
// The line amount is computed exactly and rounded once (half away from zero), so splitting a total
// into tiers never adds rounding pennies.
import { currencyExponent, divRound, isDecimal, parseDecimal } from './money.ts';

export interface Tier {
  /** inclusive upper bound of the tier in units; null for the last, open-ended tier */
  upTo: number | null;
  unitPrice: string;
  /** charged once when any unit falls in the tier (graduated) or when the total lands in it (volume) */
  flatFee?: number;
}

export type Pricing =
  | { model: 'unit'; unitPrice: string }
  | { model: 'graduated'; tiers: Tier[] }
  | { model: 'volume'; tiers: Tier[] };

export interface TierUse {
  from: number;
  upTo: number | null;
  quantity: number;
  unitPrice: string;
  flatFee: number;
}

export interface Rated {
  amount: number;
  tiers: TierUse[];
}

/** Returns field → message for a pricing definition that cannot be rated; empty when valid. */
export function pricingProblems(p: Pricing): Record<string, string> {
  const out: Record<string, string> = {};
  if (p.model === 'unit') {
    if (!isDecimal(p.unitPrice) || p.unitPrice.startsWith('-')) out.unitPrice = 'Enter a price of zero or more, e.g. 0.0015';
    return out;
  }
  if (!p.tiers.length) out.tiers = 'Add at least one tier';
  let prev = 0;
  p.tiers.forEach((t, i) => {
    const last = i === p.tiers.length - 1;
    if (!isDecimal(t.unitPrice) || t.unitPrice.startsWith('-')) out[`tiers.${i}.unitPrice`] = 'Enter a price of zero or more';
    if (t.flatFee !== undefined && (!Number.isSafeInteger(t.flatFee) || t.flatFee < 0)) out[`tiers.${i}.flatFee`] = 'Flat fee is a whole number of minor units, zero or more';
    if (last) {
      if (t.upTo !== null) out[`tiers.${i}.upTo`] = 'The last tier must be open-ended (no upper bound)';
    } else if (t.upTo === null) {
      out[`tiers.${i}.upTo`] = 'Only the last tier is open-ended: enter where this tier ends';
    } else if (!Number.isSafeInteger(t.upTo) || t.upTo < 1) {
      out[`tiers.${i}.upTo`] = 'Enter a whole number of units, 1 or more';
    } else if (t.upTo <= prev) {
      out[`tiers.${i}.upTo`] = 'Each tier must end above the previous one';
    } else {
      prev = t.upTo;
    }
  });
  return out;
}

/** Rates `quantity` whole units in `currency`. Throws RangeError for a negative quantity. */
export function rate(pricing: Pricing, quantity: number, currency: string): Rated {
  if (!Number.isSafeInteger(quantity) || quantity < 0) throw new RangeError('quantity must be a whole number, zero or more');
  const minor = 10n ** BigInt(currencyExponent(currency));
  // Accumulate an exact numerator over a common denominator, round once at the end.
  let scale = 0;
  const terms: { units: bigint; scale: number; qty: bigint }[] = [];
  let flat = 0n;
  const uses: TierUse[] = [];
  const addTerm = (price: string, qty: number) => {
    const d = parseDecimal(price);
    scale = Math.max(scale, d.scale);
    terms.push({ units: d.units, scale: d.scale, qty: BigInt(qty) });
  };

  if (pricing.model === 'unit') {
    addTerm(pricing.unitPrice, quantity);
    uses.push({ from: 1, upTo: null, quantity, unitPrice: pricing.unitPrice, flatFee: 0 });
  } else if (pricing.model === 'graduated') {
    let lower = 0;
    for (const t of pricing.tiers) {
      if (quantity <= lower) break;
      const upper = t.upTo === null ? quantity : Math.min(t.upTo, quantity);
      const inTier = upper - lower;
      addTerm(t.unitPrice, inTier);
      flat += BigInt(t.flatFee ?? 0);
      uses.push({ from: lower + 1, upTo: t.upTo, quantity: inTier, unitPrice: t.unitPrice, flatFee: t.flatFee ?? 0 });
      lower = upper;
    }
  } else {
    let lower = 0;
    for (const t of pricing.tiers) {
      if (t.upTo === null || quantity <= t.upTo) {
        if (quantity > 0) {
          addTerm(t.unitPrice, quantity);
          flat += BigInt(t.flatFee ?? 0);
          uses.push({ from: lower + 1, upTo: t.upTo, quantity, unitPrice: t.unitPrice, flatFee: t.flatFee ?? 0 });
        }
        break;
      }
      lower = t.upTo;
    }
  }
  const den = 10n ** BigInt(scale);
  let num = 0n;
  for (const t of terms) num += t.units * 10n ** BigInt(scale - t.scale) * t.qty;
  const amount = divRound(num * minor, den) + flat;
  if (amount > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('Amount exceeds the safe integer range');
  return { amount: Number(amount), tiers: uses };
}
