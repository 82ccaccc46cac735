// How the admin UI writes money and dates (web/src/ui/format.tsx), used by every billing screen.
// Lives here because `npm test` collects tests under src/ and test/ only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dayEnd, dayStart, formatDate, formatDateTime, formatMoney, parseMoney, setDisplayPreferences, dateTitle } from '../../web/src/ui/format.tsx';

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

test("a day runs from midnight to midnight on the clocks of the user's zone, however long it is there", () => {
  const span = (day: string, zone: string) => [dayStart(day, zone).toISOString(), dayEnd(day, zone).toISOString()];
  assert.deepEqual(span('2026-01-02', 'UTC'), ['2026-01-02T00:00:00.000Z', '2026-01-02T23:59:59.999Z']);
  assert.deepEqual(span('2026-01-02', 'Asia/Tokyo'), ['2026-01-01T15:00:00.000Z', '2026-01-02T14:59:59.999Z']);
  // New York's clocks go forward at 02:00 on 8 March 2026 (a 23-hour day) and back on 1 November (25 hours).
  assert.deepEqual(span('2026-03-08', 'America/New_York'), ['2026-03-08T05:00:00.000Z', '2026-03-09T03:59:59.999Z']);
  assert.deepEqual(span('2026-11-01', 'America/New_York'), ['2026-11-01T04:00:00.000Z', '2026-11-02T04:59:59.999Z']);
  // Santiago's clocks skip midnight on 6 September 2026 (00:00 is 01:00): the day begins at the jump.
  assert.deepEqual(span('2026-09-06', 'America/Santiago'), ['2026-09-06T04:00:00.000Z', '2026-09-07T02:59:59.999Z']);
  assert.equal(dayEnd('2026-09-05', 'America/Santiago').toISOString(), '2026-09-06T03:59:59.999Z');
  // Half-hour zones and a half-hour change of offset (Lord Howe, 5 April 2026).
  assert.deepEqual(span('2026-07-01', 'Asia/Kolkata'), ['2026-06-30T18:30:00.000Z', '2026-07-01T18:29:59.999Z']);
  assert.deepEqual(span('2026-04-05', 'Australia/Lord_Howe'), ['2026-04-04T13:00:00.000Z', '2026-04-05T13:29:59.999Z']);
  // Without a zone given, the user's.
  setDisplayPreferences('America/New_York', 'en-GB');
  assert.equal(dayStart('2026-07-04').toISOString(), '2026-07-04T04:00:00.000Z');
  setDisplayPreferences(null, null);
});
