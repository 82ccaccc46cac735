import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addMonths, daysBetween, isDate, monthOf, recurringSlices } from './period.ts';

const jan = { start: '2026-01-01', end: '2026-02-01' };

test('calendar dates are validated, including leap days', () => {
  assert.ok(isDate('2024-02-29'));
  assert.ok(!isDate('2025-02-29'));
  assert.ok(!isDate('2025-13-01'));
  assert.ok(!isDate('2025-1-01'));
});

test('adding months clamps to the last day of shorter months', () => {
  assert.equal(addMonths('2026-01-31', 1), '2026-02-28');
  assert.equal(addMonths('2024-01-31', 1), '2024-02-29');
  assert.equal(addMonths('2024-02-29', 12), '2025-02-28');
  assert.equal(addMonths('2024-02-29', 48), '2028-02-29');
  assert.equal(addMonths('2026-12-15', 1), '2027-01-15');
  assert.equal(addMonths('2026-01-15', -1), '2025-12-15');
  assert.deepEqual(monthOf('2026-02-17'), { start: '2026-02-01', end: '2026-03-01' });
});

test('a full month of a monthly charge costs exactly the price', () => {
  const s = recurringSlices('month', 1000, { start: '2025-06-10', end: null }, jan);
  assert.deepEqual(s, [{ start: '2026-01-01', end: '2026-02-01', amount: 1000, days: 31, ofDays: 31 }]);
});

test('a subscription starting mid-month is prorated by day', () => {
  // 17 of 31 days: 1000 × 17 / 31 = 548.39 → 548
  const [s] = recurringSlices('month', 1000, { start: '2026-01-15', end: null }, jan);
  assert.equal(s.days, 17);
  assert.equal(s.amount, 548);
});

test('a subscription ending mid-month is prorated by day, the end date being exclusive', () => {
  // service Jan 1..Jan 10 = 10 days of 31: 3100 × 10 / 31 = 1000
  const [s] = recurringSlices('month', 3100, { start: '2025-01-01', end: '2026-01-11' }, jan);
  assert.equal(s.days, 10);
  assert.equal(s.amount, 1000);
});

test('February proration uses February\'s own length', () => {
  const feb = { start: '2026-02-01', end: '2026-03-01' };
  // 14 of 28 days → exactly half
  assert.equal(recurringSlices('month', 1001, { start: '2026-02-15', end: null }, feb)[0].amount, 501);
  const leap = { start: '2024-02-01', end: '2024-03-01' };
  assert.equal(recurringSlices('month', 2900, { start: '2024-02-15', end: null }, leap)[0].amount, 1500);
});

test('a subscription outside the period earns nothing', () => {
  assert.deepEqual(recurringSlices('month', 1000, { start: '2026-02-01', end: null }, jan), []);
  assert.deepEqual(recurringSlices('month', 1000, { start: '2025-01-01', end: '2026-01-01' }, jan), []);
});

test('a bill period spanning several months yields one slice per month', () => {
  const q1 = { start: '2026-01-01', end: '2026-04-01' };
  const s = recurringSlices('month', 900, { start: '2026-01-01', end: null }, q1);
  assert.deepEqual(s.map((x) => x.amount), [900, 900, 900]);
});

test('an annual charge is billed in full on the anniversary inside the period', () => {
  const s = recurringSlices('year', 120000, { start: '2025-01-20', end: null }, jan);
  assert.deepEqual(s, [{ start: '2026-01-20', end: '2027-01-20', amount: 120000, days: 365, ofDays: 365 }]);
  assert.deepEqual(recurringSlices('year', 120000, { start: '2025-03-20', end: null }, jan), []);
});

test('an annual charge is prorated by day when the subscription ends before the next anniversary', () => {
  // 2026-01-20 .. 2026-07-20 = 181 days of 365: 365000 × 181 / 365 = 181000
  const [s] = recurringSlices('year', 365000, { start: '2026-01-20', end: '2026-07-20' }, jan);
  assert.equal(s.days, 181);
  assert.equal(s.amount, 181000);
});

test('days between dates count calendar days', () => {
  assert.equal(daysBetween('2026-01-01', '2026-02-01'), 31);
  assert.equal(daysBetween('2024-01-01', '2025-01-01'), 366);
});
