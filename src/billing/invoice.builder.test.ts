import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildInvoice, CurrencyConflict, type BuilderSubscription } from './invoice.builder.ts';

const jan = { start: '2026-01-01', end: '2026-02-01' };
const sub = (over: Partial<BuilderSubscription> = {}): BuilderSubscription => ({
  id: 's1',
  productName: 'Pro',
  currency: 'USD',
  quantity: 1,
  startDate: '2025-01-01',
  endDate: null,
  charges: [
    { id: 'c1', name: 'Platform fee', kind: 'recurring', interval: 'month', amount: 10000, usageIdentifier: null, pricing: null },
    { id: 'c2', name: 'Setup', kind: 'one_time', amount: 5000, interval: null, usageIdentifier: null, pricing: null },
    { id: 'c3', name: 'API calls', kind: 'usage', amount: null, interval: null, usageIdentifier: 'api_calls', pricing: { model: 'unit', unitPrice: '0.001' } },
  ],
  ...over,
});

test('a full month bills the recurring fee and rated usage, not the past setup fee', () => {
  const inv = buildInvoice({ currency: 'USD', taxRate: '0' }, [sub()], new Map([['api_calls', 12345]]), jan);
  assert.deepEqual(inv.lines.map((l) => [l.kind, l.amount]), [['recurring', 10000], ['usage', 1235]]);
  assert.equal(inv.total, 11235);
});

test('a subscription starting mid-period gets the setup fee and a prorated recurring fee', () => {
  const inv = buildInvoice({ currency: 'USD', taxRate: '0' }, [sub({ startDate: '2026-01-15', quantity: 2 })], new Map(), jan);
  // 2 × 10000 × 17/31 = 10967.7 → 10968; setup 2 × 5000
  assert.deepEqual(inv.lines.map((l) => [l.kind, l.amount]), [['recurring', 10968], ['one_time', 10000]]);
  assert.match(inv.lines[0].description, /17 of 31 days/);
});

test('tax is computed once on the subtotal and rounded half away from zero', () => {
  const inv = buildInvoice({ currency: 'USD', taxRate: '8.875' }, [sub()], new Map(), jan);
  assert.equal(inv.subtotal, 10000);
  assert.equal(inv.tax, 888); // 887.5 → 888
  assert.equal(inv.total, 10888);
});

test('usage of one identifier is rated once even with two subscriptions carrying it', () => {
  const inv = buildInvoice({ currency: 'USD', taxRate: '0' }, [sub(), sub({ id: 's2' })], new Map([['api_calls', 1000]]), jan);
  assert.equal(inv.lines.filter((l) => l.kind === 'usage').length, 1);
});

test('a product priced in another currency cannot be billed to the account', () => {
  assert.throws(() => buildInvoice({ currency: 'EUR', taxRate: '0' }, [sub()], new Map(), jan), CurrencyConflict);
});

test('an account with nothing to bill gets no lines', () => {
  const inv = buildInvoice({ currency: 'USD', taxRate: '0' }, [sub({ startDate: '2026-03-01' })], new Map(), jan);
  assert.deepEqual(inv.lines, []);
  assert.equal(inv.total, 0);
});
