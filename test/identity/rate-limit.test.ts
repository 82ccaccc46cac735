// The database-backed rate-limit counters shared by every node (sign-in per account and address).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { migrate, openDatabase, type Database } from '../../src/db/database.ts';
import { forgive, hit, peek, pruneRateLimits, reset } from '../../src/platform/rate-limit.ts';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/app.ts';

let fresh: TestDatabase;
let database: Database;
const W = { limit: 3, windowSeconds: 3600 };

before(async () => {
  fresh = await freshDatabaseUrl();
  database = openDatabase(fresh.url, { poolSize: 2 });
  await migrate(database);
});
after(async () => {
  await database.close();
  await fresh.drop();
});

test('hits within the limit are allowed and the one past it is refused', async () => {
  const key = 'test:limit';
  assert.deepEqual([await hit(database.db, key, W), await hit(database.db, key, W), await hit(database.db, key, W)], [true, true, true]);
  assert.equal(await hit(database.db, key, W), false);
  assert.equal(await peek(database.db, key, W), 4);
});

test('a hit in a new window starts the count again', async () => {
  const key = 'test:window';
  await database.db.insertInto('rate_limits').values({ key, window_start: '2000-01-01T00:00:00.000Z', count: 99 }).execute();
  assert.equal(await peek(database.db, key, W), 0, 'an old window does not count');
  assert.equal(await hit(database.db, key, W), true);
  assert.equal(await peek(database.db, key, W), 1);
});

test('forgive takes back one hit of the current window and never goes below zero', async () => {
  const key = 'test:forgive';
  await hit(database.db, key, W);
  await hit(database.db, key, W);
  await forgive(database.db, key, W);
  assert.equal(await peek(database.db, key, W), 1);
  await forgive(database.db, key, W);
  await forgive(database.db, key, W);
  assert.equal(await peek(database.db, key, W), 0);
  await reset(database.db, key);
  assert.equal(await database.db.selectFrom('rate_limits').select('key').where('key', '=', key).executeTakeFirst(), undefined);
});

test('pruning removes counters of windows that ended long ago, so sprayed user names do not pile up', async () => {
  const old = new Date(Date.now() - 2 * 86400_000).toISOString();
  await database.db.insertInto('rate_limits').values([
    { key: 'login:user:sprayed-1', window_start: old, count: 1 },
    { key: 'login:user:sprayed-2', window_start: old, count: 1 },
  ]).execute();
  await hit(database.db, 'login:user:current', W);
  const removed = await pruneRateLimits(database.db);
  assert.ok(removed >= 2);
  const keys = (await database.db.selectFrom('rate_limits').select('key').execute()).map((r) => r.key);
  assert.ok(!keys.includes('login:user:sprayed-1') && !keys.includes('login:user:sprayed-2'));
  assert.ok(keys.includes('login:user:current'), 'a counter of the current window stays');
});
