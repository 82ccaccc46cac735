import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError } from './errors.ts';
import { clampLimit, decodeCursor, encodeCursor, page, DEFAULT_LIMIT, MAX_LIMIT } from './paging.ts';

test('a cursor decodes to the key it was made from', () => {
  const key = ['2026-01-01T00:00:00.000Z', 42, 'ünïcode'];
  const c = encodeCursor(key);
  assert.match(c, /^[A-Za-z0-9_-]+$/, 'cursors are URL-safe');
  assert.deepEqual(decodeCursor(c, ['text', 'integer', 'text']), key);
});

test('no cursor means the first page', () => {
  assert.equal(decodeCursor(undefined, ['text']), null);
  assert.equal(decodeCursor('', ['text']), null);
});

test('a tampered cursor is refused as invalid input with a cursor field', () => {
  for (const bad of ['not-a-cursor!', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('[1').toString('base64url')]) {
    assert.throws(() => decodeCursor(bad, ['text']), (err: unknown) => err instanceof AppError && err.code === 'invalid' && err.fields?.cursor !== undefined);
  }
});

test('a cursor whose key is not the shape the list encodes is refused as invalid input', () => {
  const forged: unknown[][] = [
    [{}], [[]], [true, false], [null], [], ['a', 'b'], [1], // a one-text key
    ['\u0000'], ['a\ud800'], ['\udc00b'], // NUL or a lone surrogate
    [{ toString: 1 }, { valueOf: 2 }],
  ];
  for (const key of forged) {
    assert.throws(() => decodeCursor(encodeCursor(key), ['text']), (err: unknown) => err instanceof AppError && err.code === 'invalid' && err.fields?.cursor !== undefined, JSON.stringify(key));
  }
  for (const key of [['x'], [1.5], [2 ** 53], ['1'], [1, 2]]) {
    assert.throws(() => decodeCursor(encodeCursor(key), ['integer']), (err: unknown) => err instanceof AppError && err.code === 'invalid', JSON.stringify(key));
  }
  for (const key of [['2026-01-01T00:00:00.000Z'], ['2026-01-01T00:00:00.000Z', 7], [1, 'x']]) {
    assert.throws(() => decodeCursor(encodeCursor(key), ['text', 'text']), (err: unknown) => err instanceof AppError && err.code === 'invalid', JSON.stringify(key));
  }
  assert.deepEqual(decodeCursor(encodeCursor(['ünïcode 😀']), ['text']), ['ünïcode 😀']);
  assert.deepEqual(decodeCursor(encodeCursor([123]), ['integer']), [123]);
});

test('the limit defaults to 50 and is capped at 200', () => {
  assert.equal(clampLimit(undefined), DEFAULT_LIMIT);
  assert.equal(clampLimit(0), DEFAULT_LIMIT);
  assert.equal(clampLimit('abc'), DEFAULT_LIMIT);
  assert.equal(clampLimit(10), 10);
  assert.equal(clampLimit('7'), 7);
  assert.equal(clampLimit(10_000), MAX_LIMIT);
  assert.equal(clampLimit(2.7), 2);
});

test('a page of limit+1 rows keeps limit rows and points the cursor at the last kept row', () => {
  const rows = [1, 2, 3, 4].map((n) => ({ n }));
  const p = page(rows, 3, (r) => [r.n]);
  assert.deepEqual(p.items.map((r) => r.n), [1, 2, 3]);
  assert.deepEqual(decodeCursor(p.nextCursor!, ['integer']), [3]);
});

test('the last page has no next cursor', () => {
  assert.equal(page([{ n: 1 }, { n: 2 }], 2, (r) => [r.n]).nextCursor, null);
  assert.deepEqual(page([], 5, () => []), { items: [], nextCursor: null });
});
