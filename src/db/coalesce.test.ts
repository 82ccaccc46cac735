import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Coalescer, KEY_LIST_SIZES, padKeys, SerialBatcher } from './coalesce.ts';

type Row = { key: string; n: number };

/** A statement stand-in over a fixed table that records the keys of every call. */
function table(rows: Row[]) {
  const calls: string[][] = [];
  const run = async (keys: string[]) => {
    calls.push(keys);
    await new Promise((r) => setTimeout(r, 1));
    return rows.filter((r) => keys.includes(r.key));
  };
  return { calls, run };
}

const owner = {};

test('look-ups asked for in one turn share one call, each gets the rows for its own key, and a key twice is asked for once', async () => {
  const c = new Coalescer<Row>((r) => r.key);
  const t = table([{ key: 'a', n: 1 }, { key: 'b', n: 2 }, { key: 'b', n: 3 }]);
  const [a, b, again, none] = await Promise.all(['a', 'b', 'b', 'z'].map((k) => c.load(owner, '', k, t.run)));
  assert.deepEqual(t.calls, [['a', 'b', 'z']]);
  assert.deepEqual(a, [{ key: 'a', n: 1 }]);
  assert.deepEqual(b, [{ key: 'b', n: 2 }, { key: 'b', n: 3 }]);
  assert.deepEqual(again, b);
  assert.notEqual(again[0], b[0], 'each caller has its own copy of a row');
  assert.deepEqual(none, []);
});

test('look-ups of different groups or owners, or asked for in a later turn, are separate calls', async () => {
  const c = new Coalescer<Row>((r) => r.key);
  const t = table([{ key: 'a', n: 1 }]);
  const first = Promise.all([c.load(owner, 'token 1', 'a', t.run), c.load(owner, 'token 2', 'a', t.run), c.load({}, 'token 1', 'a', t.run)]);
  await new Promise((r) => setImmediate(r));
  const later = c.load(owner, 'token 1', 'a', t.run);
  assert.deepEqual(await first, [[{ key: 'a', n: 1 }], [{ key: 'a', n: 1 }], [{ key: 'a', n: 1 }]]);
  assert.deepEqual(await later, [{ key: 'a', n: 1 }]);
  assert.equal(t.calls.length, 4);
});

test('a failed call fails every look-up in it with its error, and the next turn starts afresh', async () => {
  const c = new Coalescer<Row>((r) => r.key);
  const failing = async () => {
    throw new Error('connection lost');
  };
  const results = await Promise.allSettled(['a', 'b'].map((k) => c.load(owner, '', k, failing)));
  assert.deepEqual(results.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['connection lost', 'connection lost']);
  const t = table([{ key: 'a', n: 1 }]);
  assert.deepEqual(await c.load(owner, '', 'a', t.run), [{ key: 'a', n: 1 }]);
});

test('more than 100 keys in one turn are asked for 100 at a time', async () => {
  const c = new Coalescer<Row>((r) => r.key);
  const rows = Array.from({ length: 250 }, (_, n) => ({ key: `k${n}`, n }));
  const t = table(rows);
  const got = await Promise.all(rows.map((r) => c.load(owner, '', r.key, t.run)));
  assert.deepEqual(t.calls.map((k) => k.length), [100, 100, 50]);
  assert.deepEqual(got.map((g) => g[0].n), rows.map((r) => r.n));
});

test('writes submitted in one turn form one batch, those submitted while it runs form the next, and each gets its own outcome', async () => {
  const batches: number[][] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const b = new SerialBatcher<number, number>(async (items) => {
    batches.push(items);
    if (batches.length === 1) await gate;
    return items.map((n) => (n % 2 ? { ok: true, value: n * 10 } : { ok: false, error: new Error(`even ${n}`) }));
  }, 3);
  const settle = (p: Promise<number>) => p.then((v) => v, (e: Error) => e.message);
  const first = [1, 2].map((n) => settle(b.submit(n)));
  await new Promise((r) => setImmediate(r));
  const later = [3, 4, 5, 7].map((n) => settle(b.submit(n)));
  release();
  assert.deepEqual(await Promise.all([...first, ...later]), [10, 'even 2', 30, 'even 4', 50, 70]);
  assert.deepEqual(batches, [[1, 2], [3, 4, 5], [7]], 'the second batch waited for the first; at most 3 a batch');
});

test('a batch whose run throws fails each of its writes with that error, and the next batch runs', async () => {
  let calls = 0;
  const b = new SerialBatcher<string, string>(async (items) => {
    if (calls++ === 0) throw new Error('connection lost');
    return items.map((s) => ({ ok: true, value: s.toUpperCase() }));
  }, 10);
  const failed = await Promise.allSettled([b.submit('a'), b.submit('b')]);
  assert.deepEqual(failed.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['connection lost', 'connection lost']);
  assert.equal(await b.submit('c'), 'C');
});

test('key lists are padded to the next statement size by repeating their last key', () => {
  assert.deepEqual(padKeys(['a']), ['a']);
  assert.deepEqual(padKeys(['a', 'b', 'c']), ['a', 'b', 'c', 'c']);
  assert.equal(padKeys(Array.from({ length: 17 }, (_, i) => `k${i}`)).length, 32);
  assert.equal(padKeys(Array.from({ length: 65 }, (_, i) => `k${i}`)).length, 100);
  for (const n of [1, 2, 3, 5, 9, 33, 100]) assert.ok(KEY_LIST_SIZES.includes(padKeys(Array(n).fill('x')).length as never));
});
