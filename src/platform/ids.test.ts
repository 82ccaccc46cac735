import { test } from 'node:test';
import assert from 'node:assert/strict';
import { uuidv7 } from './ids.ts';

test('uuidv7 gives RFC 9562 version-7 UUIDs that carry the current time', () => {
  const before = Date.now();
  const id = uuidv7();
  const after = Date.now();
  assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const ms = parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
  assert.ok(ms >= before && ms <= after + 1, `timestamp ${ms} outside ${before}..${after}`);
});

test('uuidv7 ids made one after another sort one after another and never repeat, even within a millisecond', () => {
  const ids = Array.from({ length: 20_000 }, () => uuidv7());
  assert.equal(new Set(ids).size, ids.length);
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} !< ${ids[i]}`);
});
