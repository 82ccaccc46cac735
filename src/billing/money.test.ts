import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, CurrencyMismatch, divRound, formatMoney, money, mulRatio, parseDecimal, parseMajor, percentOf, priceTimesQuantity, subtract, toDecimalString } from './money.ts';

test('amounts must be whole minor units', () => {
  assert.throws(() => money(10.5, 'USD'), /whole number/);
  assert.deepEqual(money(1050, 'USD'), { amount: 1050, currency: 'USD' });
});

test('unknown currencies are refused', () => {
  assert.throws(() => money(1, 'XYZ'), /Unknown currency/);
});

test('adding or subtracting different currencies is refused', () => {
  assert.throws(() => add(money(1, 'USD'), money(1, 'EUR')), CurrencyMismatch);
  assert.throws(() => subtract(money(1, 'USD'), money(1, 'JPY')), CurrencyMismatch);
  assert.equal(add(money(199, 'USD'), money(1, 'USD')).amount, 200);
});

test('rounding is half away from zero', () => {
  assert.equal(divRound(5n, 2n), 3n);
  assert.equal(divRound(-5n, 2n), -3n);
  assert.equal(divRound(149n, 100n), 1n);
  assert.equal(divRound(150n, 100n), 2n);
  assert.equal(divRound(-149n, 100n), -1n);
  assert.equal(divRound(7n, 7n), 1n);
});

test('a ratio of an amount is rounded once at the end', () => {
  // 1000 cents × 15/31 = 483.87 → 484
  assert.equal(mulRatio(1000, 15, 31), 484);
  // exactly half a cent rounds up: 1 × 1/2
  assert.equal(mulRatio(1, 1, 2), 1);
  assert.equal(mulRatio(-1, 1, 2), -1);
});

test('decimal prices are parsed exactly, without floating point', () => {
  assert.deepEqual(parseDecimal('0.0015'), { units: 15n, scale: 4 });
  assert.deepEqual(parseDecimal('12'), { units: 12n, scale: 0 });
  assert.throws(() => parseDecimal('1e-3'));
  assert.throws(() => parseDecimal('abc'));
});

test('a sub-cent unit price times a quantity is rounded once per line', () => {
  // 0.0015 USD × 333 = 0.4995 USD = 49.95 cents → 50
  assert.equal(priceTimesQuantity(parseDecimal('0.0015'), 333n, 'USD'), 50);
  // 0.1 + 0.2 style sums stay exact: 0.1 × 3 = 30 cents
  assert.equal(priceTimesQuantity(parseDecimal('0.1'), 3n, 'USD'), 30);
  // JPY has no minor unit: 0.5 yen × 3 = 1.5 → 2
  assert.equal(priceTimesQuantity(parseDecimal('0.5'), 3n, 'JPY'), 2);
  // KWD has three decimals
  assert.equal(priceTimesQuantity(parseDecimal('1.2345'), 1n, 'KWD'), 1235);
});

test('huge quantities do not overflow intermediate products', () => {
  assert.equal(priceTimesQuantity(parseDecimal('0.000001'), 9_000_000_000_000n, 'USD'), 900_000_000);
});

test('tax percentages round half away from zero', () => {
  // 8.875% of $10.00 = 88.75 cents → 89
  assert.equal(percentOf(1000, '8.875'), 89);
  assert.equal(percentOf(1000, '0'), 0);
  assert.equal(percentOf(-1000, '8.875'), -89);
});

test('minor units convert to and from major-unit text exactly', () => {
  assert.equal(toDecimalString(123456, 'USD'), '1234.56');
  assert.equal(toDecimalString(5, 'USD'), '0.05');
  assert.equal(toDecimalString(-5, 'USD'), '-0.05');
  assert.equal(toDecimalString(5, 'JPY'), '5');
  assert.equal(toDecimalString(1, 'KWD'), '0.001');
  assert.equal(parseMajor('1,234.5', 'USD'), 123450);
  assert.equal(parseMajor('0.07', 'USD'), 7);
  assert.throws(() => parseMajor('1.005', 'USD'), /at most 2 decimal/);
  assert.throws(() => parseMajor('1.5', 'JPY'), /at most 0 decimal/);
});

test('formatting shows the currency with its own number of decimals', () => {
  assert.equal(formatMoney(123456, 'USD'), '$1,234.56');
  assert.equal(formatMoney(1234, 'JPY'), '¥1,234');
  // 2^53 - 1 cents formats without float error
  assert.equal(formatMoney(9007199254740991, 'USD'), '$90,071,992,547,409.91');
});
