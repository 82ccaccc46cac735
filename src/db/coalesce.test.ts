import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byKeyList, Coalescer, KEY_LIST_SIZES, padKeys, SerialBatcher } from './coalesce.ts';

type Row = { key: string; n: number };

/** A statement stand-in over a fixed table that records the owner, group and keys of every call. */
function table(rows: Row[]) {
  const calls: { owner: object; group: string; keys: string[] }[] = [];
  const coalescer = new Coalescer<object, Row>(async (owner, group, keys) => {
    calls.push({ owner, group, keys });
    await new Promise((r) => setTimeout(r, 1));
    return rows.filter((r) => keys.includes(r.key));
  }, (r) => r.key);
  return { calls, coalescer };
}

const owner = {};

test('look-ups asked for in one turn share one call, each gets the rows for its own key, and a key twice is asked for once', async () => {
  const { calls, coalescer: c } = table([{ key: 'a', n: 1 }, { key: 'b', n: 2 }, { key: 'b', n: 3 }]);
  const [a, b, again, none] = await Promise.all(['a', 'b', 'b', 'z'].map((k) => c.load(owner, '', k)));
  assert.deepEqual(calls.map((x) => x.keys), [['a', 'b', 'z']]);
  assert.deepEqual(a, [{ key: 'a', n: 1 }]);
  assert.deepEqual(b, [{ key: 'b', n: 2 }, { key: 'b', n: 3 }]);
  assert.deepEqual(again, b);
  assert.notEqual(again[0], b[0], 'each caller has its own copy of a row');
  assert.deepEqual(none, []);
});

test('look-ups of different groups or owners, or asked for in a later turn, are separate calls, each told its owner and group', async () => {
  const { calls, coalescer: c } = table([{ key: 'a', n: 1 }]);
  const other = {};
  const first = Promise.all([c.load(owner, 'token 1', 'a'), c.load(owner, 'token 2', 'a'), c.load(other, 'token 1', 'a')]);
  await new Promise((r) => setImmediate(r));
  const later = c.load(owner, 'token 1', 'a');
  assert.deepEqual(await first, [[{ key: 'a', n: 1 }], [{ key: 'a', n: 1 }], [{ key: 'a', n: 1 }]]);
  assert.deepEqual(await later, [{ key: 'a', n: 1 }]);
  assert.deepEqual(
    calls.map((x) => [x.owner === owner ? 'owner' : 'other', x.group]),
    [['owner', 'token 1'], ['owner', 'token 2'], ['other', 'token 1'], ['owner', 'token 1']],
  );
});

test('a failed call fails every look-up in it with its error, and the next turn starts afresh', async () => {
  let fail = true;
  const c = new Coalescer<object, Row>(async (_o, _g, keys) => {
    if (fail) throw new Error('connection lost');
    return keys.map((key) => ({ key, n: 1 }));
  }, (r) => r.key);
  const results = await Promise.allSettled(['a', 'b'].map((k) => c.load(owner, '', k)));
  assert.deepEqual(results.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['connection lost', 'connection lost']);
  fail = false;
  assert.deepEqual(await c.load(owner, '', 'a'), [{ key: 'a', n: 1 }]);
});

test('more than 100 keys in one turn are asked for 100 at a time', async () => {
  const rows = Array.from({ length: 250 }, (_, n) => ({ key: `k${n}`, n }));
  const { calls, coalescer: c } = table(rows);
  const got = await Promise.all(rows.map((r) => c.load(owner, '', r.key)));
  assert.deepEqual(calls.map((x) => x.keys.length), [100, 100, 50]);
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
  }, { max: 3 });
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
  }, { max: 10 });
  const failed = await Promise.allSettled([b.submit('a'), b.submit('b')]);
  assert.deepEqual(failed.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['connection lost', 'connection lost']);
  assert.equal(await b.submit('c'), 'C');
});

test('with gatherTurns, writes that keep arriving turn after turn join one batch', async () => {
  const batches: number[][] = [];
  const b = new SerialBatcher<number, number>(async (items) => (batches.push(items), items.map((n) => ({ ok: true, value: n }))), { max: 10, gatherTurns: 2 });
  const done = [b.submit(1)];
  await new Promise((r) => setImmediate(r));
  done.push(b.submit(2));
  await new Promise((r) => setImmediate(r));
  done.push(b.submit(3));
  await Promise.all(done);
  assert.deepEqual(batches, [[1, 2, 3]]);
});

test('a batch that could not run (null) is tried again with what was queued meanwhile, and after giveUpAfterMs every queued write fails', async () => {
  let refuse = 2;
  const batches: string[][] = [];
  const b = new SerialBatcher<string, string>(
    async (items) => {
      if (refuse-- > 0) return null;
      batches.push(items);
      return items.map((s) => ({ ok: true, value: s }));
    },
    { max: 10, retry: { everyMs: 5, giveUpAfterMs: 1000, error: () => new Error('busy') } },
  );
  const first = b.submit('a');
  await new Promise((r) => setTimeout(r, 2));
  assert.deepEqual(await Promise.all([first, b.submit('b')]), ['a', 'b']);
  assert.deepEqual(batches, [['a', 'b']], 'refused twice, then run once with both');

  const never = new SerialBatcher<string, string>(async () => null, { max: 10, retry: { everyMs: 5, giveUpAfterMs: 30, error: () => new Error('busy') } });
  const failed = await Promise.allSettled([never.submit('x'), never.submit('y')]);
  assert.deepEqual(failed.map((r) => r.status === 'rejected' && (r.reason as Error).message), ['busy', 'busy']);
});

test('a look-up by a key list uses the statement for the next size up, with the keys padded by their last one and the other parameters after them', async () => {
  const made: number[] = [];
  const lookUp = byKeyList<string, string>((size) => {
    made.push(size);
    return async (db, ...args) => [`${db}: ${size} ${args.join(',')}`];
  });
  assert.deepEqual(made, [...KEY_LIST_SIZES], 'one statement for each size, made once');
  assert.deepEqual(await lookUp('db', ['a', 'b', 'c'], 'token', 'now'), ['db: 4 a,b,c,c,token,now']);
  assert.deepEqual(await lookUp('db', ['a']), ['db: 1 a']);
});

test('key lists are padded to the next statement size by repeating their last key', () => {
  assert.deepEqual(padKeys(['a']), ['a']);
  assert.deepEqual(padKeys(['a', 'b', 'c']), ['a', 'b', 'c', 'c']);
  assert.equal(padKeys(Array.from({ length: 17 }, (_, i) => `k${i}`)).length, 32);
  assert.equal(padKeys(Array.from({ length: 65 }, (_, i) => `k${i}`)).length, 100);
  for (const n of [1, 2, 3, 5, 9, 33, 100]) assert.ok(KEY_LIST_SIZES.includes(padKeys(Array(n).fill('x')).length as never));
});
