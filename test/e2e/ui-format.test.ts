// How the admin UI writes money and dates (web/src/ui/format.tsx), used by every billing screen.
// Lives here because `npm test` collects tests under src/ and test/ only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDate, formatDateTime, formatMoney, parseMoney, setDisplayPreferences, dateTitle } from '../../web/src/ui/format.tsx';

test('money shows grouped units, two decimals and the currency', () => {
  assert.equal(formatMoney(123450, 'USD'), '1,234.50 USD');
  assert.equal(formatMoney(5, 'eur'), '0.05 EUR');
  assert.equal(formatMoney(-100000099, 'GBP'), '-1,000,000.99 GBP');
  assert.equal(formatMoney(0, 'USD'), '0.00 USD');
  assert.equal(formatMoney(1234, 'JPY'), '1,234.00 JPY');
  assert.equal(formatMoney(null, 'USD'), '—');
});

test('money typed by a person parses to minor units, and nonsense does not', () => {
  assert.equal(parseMoney('1,234.5', 'USD'), 123450);
  assert.equal(parseMoney('-0.07', 'USD'), -7);
  assert.equal(parseMoney('12.345', 'USD'), null);
  assert.equal(parseMoney('abc', 'USD'), null);
});

test("dates show in the user's time zone, with the zone and UTC instant on hover", () => {
  setDisplayPreferences('America/New_York', 'en-GB');
  assert.equal(formatDateTime('2026-01-02T03:04:05Z'), '01 Jan 2026, 22:04');
  assert.equal(dateTitle('2026-01-02T03:04:05Z'), 'America/New_York · 2026-01-02T03:04:05Z');
  // A calendar date (invoice due date) is not shifted by the zone.
  assert.equal(formatDate('2026-01-02'), '02 Jan 2026');
  setDisplayPreferences('Asia/Tokyo', 'en-GB');
  assert.equal(formatDateTime('2026-01-02T03:04:05Z'), '02 Jan 2026, 12:04');
  setDisplayPreferences('Not/AZone', null);
  assert.ok(formatDateTime('2026-01-02T03:04:05Z').includes('2026'));
});
