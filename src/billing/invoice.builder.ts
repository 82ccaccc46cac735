// Builds a draft invoice's lines for one account and one bill period from its subscriptions and the
// period's usage totals. Pure: the bill run loads the inputs and stores the result in one transaction.
// Rules: recurring charges per period.ts (prorated by day); a one-time charge is billed in the period
// containing the subscription's start date; usage is rated per identifier once per account (the first
// subscription carrying that identifier prices it, so two subscriptions never double-bill usage).
import { percentOf } from './money.ts';
import { recurringSlices, type Period } from './period.ts';
import { rate, type Pricing } from './rating.ts';

export interface BuilderCharge {
  id: string;
  name: string;
  kind: 'recurring' | 'one_time' | 'usage';
  interval: 'month' | 'year' | null;
  amount: number | null;
  usageIdentifier: string | null;
  pricing: Pricing | null;
}

export interface BuilderSubscription {
  id: string;
  productName: string;
  currency: string;
  quantity: number;
  startDate: string;
  endDate: string | null;
  charges: BuilderCharge[];
}

export interface DraftLine {
  kind: 'recurring' | 'one_time' | 'usage';
  description: string;
  chargeId: string;
  subscriptionId: string;
  usageIdentifier: string | null;
  quantity: number;
  periodStart: string | null;
  periodEnd: string | null;
  amount: number;
  detail: Record<string, unknown> | null;
}

export interface DraftInvoice {
  lines: DraftLine[];
  subtotal: number;
  tax: number;
  total: number;
}

export class CurrencyConflict extends Error {}

export function buildInvoice(
  account: { currency: string; taxRate: string },
  subscriptions: BuilderSubscription[],
  usageTotals: Map<string, number>,
  period: Period,
): DraftInvoice {
  const lines: DraftLine[] = [];
  const ratedIdentifiers = new Set<string>();
  for (const sub of subscriptions) {
    if (sub.currency !== account.currency) throw new CurrencyConflict(`Product ${sub.productName} is priced in ${sub.currency}, the account is billed in ${account.currency}`);
    const span = { start: sub.startDate, end: sub.endDate };
    for (const ch of sub.charges) {
      const label = `${sub.productName} — ${ch.name}`;
      if (ch.kind === 'recurring' && ch.interval && ch.amount !== null) {
        for (const s of recurringSlices(ch.interval, ch.amount * sub.quantity, span, period)) {
          const prorated = s.days !== s.ofDays;
          lines.push({
            kind: 'recurring',
            description: prorated ? `${label} (${s.days} of ${s.ofDays} days)` : label,
            chargeId: ch.id,
            subscriptionId: sub.id,
            usageIdentifier: null,
            quantity: sub.quantity,
            periodStart: s.start,
            periodEnd: s.end,
            amount: s.amount,
            detail: { unitAmount: ch.amount, interval: ch.interval, days: s.days, ofDays: s.ofDays },
          });
        }
      } else if (ch.kind === 'one_time' && ch.amount !== null) {
        if (sub.startDate >= period.start && sub.startDate < period.end) {
          lines.push({ kind: 'one_time', description: label, chargeId: ch.id, subscriptionId: sub.id, usageIdentifier: null, quantity: sub.quantity, periodStart: sub.startDate, periodEnd: null, amount: ch.amount * sub.quantity, detail: { unitAmount: ch.amount } });
        }
      } else if (ch.kind === 'usage' && ch.usageIdentifier && ch.pricing) {
        if (ratedIdentifiers.has(ch.usageIdentifier)) continue;
        ratedIdentifiers.add(ch.usageIdentifier);
        const qty = usageTotals.get(ch.usageIdentifier) ?? 0;
        if (qty <= 0) continue;
        const r = rate(ch.pricing, qty, account.currency);
        lines.push({ kind: 'usage', description: `${label} (${ch.usageIdentifier})`, chargeId: ch.id, subscriptionId: sub.id, usageIdentifier: ch.usageIdentifier, quantity: qty, periodStart: period.start, periodEnd: period.end, amount: r.amount, detail: { model: ch.pricing.model, tiers: r.tiers } });
      }
    }
  }
  const subtotal = lines.reduce((s, l) => s + l.amount, 0);
  const tax = percentOf(subtotal, account.taxRate);
  return { lines, subtotal, tax, total: subtotal + tax };
}
