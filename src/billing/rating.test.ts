import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pricingProblems, rate, type Pricing } from './rating.ts';

const graduated: Pricing = {
  model: 'graduated',
  tiers: [
    { upTo: 1000, unitPrice: '0' },
    { upTo: 10000, unitPrice: '0.002' },
    { upTo: null, unitPrice: '0.001', flatFee: 500 },
  ],
};

test('unit pricing multiplies quantity by the unit price', () => {
  assert.equal(rate({ model: 'unit', unitPrice: '0.25' }, 7, 'USD').amount, 175);
});

test('unit pricing with a sub-cent price rounds once, half away from zero', () => {
  // 0.0015 × 1001 = 1.5015 USD = 150.15 cents → 150
  assert.equal(rate({ model: 'unit', unitPrice: '0.0015' }, 1001, 'USD').amount, 150);
  // 0.005 × 1 = half a cent → 1
  assert.equal(rate({ model: 'unit', unitPrice: '0.005' }, 1, 'USD').amount, 1);
});

test('graduated tiers price each unit by the tier it falls in', () => {
  // 1000 free + 9000 × 0.002 (18.00) + 2000 × 0.001 (2.00) + 5.00 flat = 25.00
  const r = rate(graduated, 12000, 'USD');
  assert.equal(r.amount, 2500);
  assert.deepEqual(r.tiers.map((t) => [t.from, t.quantity]), [[1, 1000], [1001, 9000], [10001, 2000]]);
});

test('graduated tiers stop at the quantity used', () => {
  assert.equal(rate(graduated, 1000, 'USD').amount, 0);
  assert.equal(rate(graduated, 1001, 'USD').amount, 0); // 0.002 → 0.2 cents → 0
  assert.equal(rate(graduated, 1003, 'USD').amount, 1); // 0.6 cents → 1
  assert.equal(rate(graduated, 0, 'USD').amount, 0);
});

test('splitting a total across tiers adds no rounding error', () => {
  // Each tier alone would round: 0.333 × 1 → 0.333 and 0.333 × 1 → 0.333; together 0.666 USD → 67 cents.
  const p: Pricing = { model: 'graduated', tiers: [{ upTo: 1, unitPrice: '0.00333' }, { upTo: null, unitPrice: '0.00333' }] };
  assert.equal(rate(p, 200, 'USD').amount, rate({ model: 'unit', unitPrice: '0.00333' }, 200, 'USD').amount);
});

test('volume tiers price every unit at the tier the total reaches', () => {
  const v: Pricing = { model: 'volume', tiers: graduated.model === 'graduated' ? graduated.tiers : [] };
  assert.equal(rate(v, 500, 'USD').amount, 0);
  assert.equal(rate(v, 5000, 'USD').amount, 1000);
  assert.equal(rate(v, 12000, 'USD').amount, 1200 + 500);
});

test('rating refuses negative or fractional quantities', () => {
  assert.throws(() => rate(graduated, -1, 'USD'), RangeError);
  assert.throws(() => rate(graduated, 1.5, 'USD'), RangeError);
});

test('tier definitions must ascend and end open-ended', () => {
  assert.deepEqual(pricingProblems(graduated), {});
  assert.deepEqual(Object.keys(pricingProblems({ model: 'graduated', tiers: [{ upTo: 10, unitPrice: '1' }, { upTo: 5, unitPrice: '1' }, { upTo: null, unitPrice: 'x' }] })), ['tiers.1.upTo', 'tiers.2.unitPrice']);
  assert.deepEqual(Object.keys(pricingProblems({ model: 'volume', tiers: [{ upTo: 10, unitPrice: '1' }] })), ['tiers.0.upTo']);
  assert.deepEqual(Object.keys(pricingProblems({ model: 'unit', unitPrice: '-1' })), ['unitPrice']);
});
