// Payment allocation: which open invoices a payment (or an account credit) pays, and how much is left
// over as account credit. Pure: the service reads open invoices under a lock and applies the plan
// with conditional updates, so concurrent payments can never over-allocate an invoice.
import { Invalid } from '../platform/errors.ts';

export interface OpenInvoice {
  id: string;
  number: string | null;
  dueDate: string;
  issueDate: string;
  /** total − already allocated; > 0 for an open invoice */
  amountDue: number;
}

export interface Choice {
  invoiceId: string;
  /** defaults to what is due on the invoice (capped by what is left of the payment) */
  amount?: number;
}

export interface Allocation {
  invoiceId: string;
  amount: number;
}

export interface Plan {
  allocations: Allocation[];
  /** what is left of the amount: kept as account credit */
  unallocated: number;
}

/** Oldest first: due date, then issue date, then invoice number. */
export function oldestFirst(a: OpenInvoice, b: OpenInvoice): number {
  return a.dueDate.localeCompare(b.dueDate) || a.issueDate.localeCompare(b.issueDate) || (a.number ?? '').localeCompare(b.number ?? '');
}

export function planAllocation(amount: number, open: OpenInvoice[], chosen?: Choice[]): Plan {
  if (!Number.isSafeInteger(amount) || amount < 0) throw Invalid('Amount must be zero or more', { amount: 'Enter a whole number of minor units, zero or more' });
  let left = amount;
  const allocations: Allocation[] = [];
  if (!chosen) {
    for (const inv of [...open].sort(oldestFirst)) {
      if (left === 0) break;
      const take = Math.min(left, inv.amountDue);
      if (take > 0) {
        allocations.push({ invoiceId: inv.id, amount: take });
        left -= take;
      }
    }
    return { allocations, unallocated: left };
  }
  const byId = new Map(open.map((i) => [i.id, i]));
  const seen = new Set<string>();
  const fields: Record<string, string> = {};
  chosen.forEach((c, idx) => {
    const inv = byId.get(c.invoiceId);
    if (!inv) {
      fields[`allocations.${idx}.invoiceId`] = 'This invoice is not open on this account';
      return;
    }
    if (seen.has(c.invoiceId)) {
      fields[`allocations.${idx}.invoiceId`] = 'Invoice listed twice';
      return;
    }
    seen.add(c.invoiceId);
    const want = c.amount ?? Math.min(inv.amountDue, left);
    if (!Number.isSafeInteger(want) || want <= 0) {
      fields[`allocations.${idx}.amount`] = 'Enter an amount above zero';
      return;
    }
    if (want > inv.amountDue) {
      fields[`allocations.${idx}.amount`] = `Only ${inv.amountDue} is due on this invoice`;
      return;
    }
    if (want > left) {
      fields[`allocations.${idx}.amount`] = 'Allocations exceed the amount';
      return;
    }
    allocations.push({ invoiceId: inv.id, amount: want });
    left -= want;
  });
  if (Object.keys(fields).length) throw Invalid('Some allocations cannot be applied', fields);
  return { allocations: allocations.filter((a) => a.amount > 0), unallocated: left };
}
