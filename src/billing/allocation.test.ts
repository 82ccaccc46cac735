import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planAllocation, type OpenInvoice } from './allocation.ts';

const inv = (id: string, dueDate: string, amountDue: number): OpenInvoice => ({ id, number: id, dueDate, issueDate: dueDate, amountDue });
const open = [inv('C', '2026-03-01', 300), inv('A', '2026-01-01', 100), inv('B', '2026-02-01', 200)];

test('a payment pays the oldest invoices first', () => {
  assert.deepEqual(planAllocation(250, open), { allocations: [{ invoiceId: 'A', amount: 100 }, { invoiceId: 'B', amount: 150 }], unallocated: 0 });
});

test('an overpayment leaves the remainder as account credit', () => {
  const p = planAllocation(700, open);
  assert.equal(p.unallocated, 100);
  assert.equal(p.allocations.reduce((s, a) => s + a.amount, 0), 600);
});

test('a payment with no open invoices becomes credit in full', () => {
  assert.deepEqual(planAllocation(500, []), { allocations: [], unallocated: 500 });
});

test('chosen invoices are paid in the order given, the rest kept as credit', () => {
  const p = planAllocation(400, open, [{ invoiceId: 'C' }, { invoiceId: 'A', amount: 50 }]);
  assert.deepEqual(p, { allocations: [{ invoiceId: 'C', amount: 300 }, { invoiceId: 'A', amount: 50 }], unallocated: 50 });
});

test('a chosen amount above what is due is refused with a field message', () => {
  assert.throws(() => planAllocation(1000, open, [{ invoiceId: 'A', amount: 101 }]), (e: any) => e.fields?.['allocations.0.amount']?.includes('Only 100'));
});

test('chosen allocations may not exceed the payment', () => {
  assert.throws(() => planAllocation(100, open, [{ invoiceId: 'A', amount: 100 }, { invoiceId: 'B', amount: 1 }]), (e: any) => 'allocations.1.amount' in e.fields);
});

test('an invoice that is not open cannot be chosen', () => {
  assert.throws(() => planAllocation(100, open, [{ invoiceId: 'Z' }]), (e: any) => 'allocations.0.invoiceId' in e.fields);
});
