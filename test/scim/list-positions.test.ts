// Deep startIndex pages of /Users start from where an earlier page ended, as long as no listed user was
// added or removed since (src/scim/list-positions.ts). An IdP import walks the list page by page: every
// walk must see each user exactly once, in order, whatever changed between two walks, including
// changes made outside this server process (here: straight into the database).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { oktaUser, startScim, type ScimHarness } from './scim-client.ts';
import { ListPositions, listPositionsOf } from '../../src/scim/list-positions.ts';

let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(() => h.t.close());

/** The provisioned users in list order, read from the database. */
async function truth(): Promise<string[]> {
  const rows = await h.t.database.db.selectFrom('users').select('id').where('source', '=', 'idp').orderBy('created_at').orderBy('id').execute();
  return rows.map((r) => r.id);
}

/** A startIndex walk in pages of 4, as Okta's import reads; checks each page's totalResults. */
async function walk(): Promise<string[]> {
  const expected = (await truth()).length;
  const seen: string[] = [];
  for (let start = 1; ; start += 4) {
    const r = await h.scim('GET', `/Users?startIndex=${start}&count=4&attributes=userName`);
    assert.equal(r.status, 200);
    assert.equal(r.body.totalResults, expected, `totalResults on the page at ${start}`);
    seen.push(...r.body.Resources.map((u: { id: string }) => u.id));
    if (r.body.Resources.length < 4) return seen;
  }
}

test('startIndex walks see every user once and in order, again after users are deleted, inserted before the remembered pages, or leave the list', async () => {
  const created: string[] = [];
  for (let i = 0; i < 30; i++) {
    const r = await h.scim('POST', '/Users', oktaUser(`walker${i}@acme.example`));
    assert.equal(r.status, 201);
    created.push(r.body.id);
  }
  assert.deepEqual(await walk(), await truth());
  const positions = listPositionsOf(h.t.database.db);
  assert.ok(positions.size >= 6, `page ends remembered after a walk: ${positions.size}`);
  // The walk again, now from the remembered page ends.
  assert.deepEqual(await walk(), await truth());

  // Deleted through SCIM: every remembered position after it is one too far.
  assert.equal((await h.scim('DELETE', `/Users/${created[4]}`)).status, 204);
  assert.deepEqual(await walk(), await truth());

  // Inserted by someone else (another process, an import) before everything remembered.
  const early = randomUUID();
  const then = '2000-01-01T00:00:00.000Z';
  await h.t.database.db
    .insertInto('users')
    .values({ id: early, user_name: 'early@acme.example', user_name_norm: 'early@acme.example', display_name: null, given_name: null, family_name: null, email: null, email_norm: null, external_id: null, role_id: null, status: 'active', source: 'idp', time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: then, updated_at: then })
    .execute();
  const afterInsert = await walk();
  assert.equal(afterInsert[0], early);
  assert.deepEqual(afterInsert, await truth());

  // A user leaving the provisioned set (and coming back) moves the positions after it too.
  await h.t.database.db.updateTable('users').set({ source: 'local' }).where('id', '=', created[1]).execute();
  assert.deepEqual(await walk(), await truth());
  await h.t.database.db.updateTable('users').set({ source: 'idp' }).where('id', '=', created[1]).execute();
  assert.deepEqual(await walk(), await truth());

  // A jump straight to a deep page after a change, then past the end.
  await h.t.database.db.deleteFrom('users').where('id', '=', created[0]).execute();
  const all = await truth();
  const jump = await h.scim('GET', '/Users?startIndex=21&count=4');
  assert.deepEqual(jump.body.Resources.map((u: { id: string }) => u.id), all.slice(20, 24));
  const past = await h.scim('GET', `/Users?startIndex=${all.length + 5}&count=4`);
  assert.equal(past.status, 200);
  assert.deepEqual(past.body.Resources, []);
  assert.equal(past.body.totalResults, all.length);
});

test('deep startIndex pages past the middle of a long list are the same read from its end, including the last, partial page and past it, before and after a change', async () => {
  // Users inserted straight into the database (the counters' triggers count them), seven to a
  // creation time, so that ties are ordered by id in both directions.
  const base = Date.parse('2001-01-01T00:00:00.000Z');
  for (let batch = 0; batch < 5; batch++) {
    const rows = Array.from({ length: 500 }, (_, i) => {
      const n = batch * 500 + i;
      const at = new Date(base + Math.floor(n / 7) * 1000).toISOString();
      const name = `deep${n}@acme.example`;
      return { id: randomUUID(), user_name: name, user_name_norm: name, display_name: null, given_name: null, family_name: null, email: null, email_norm: null, external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: at, updated_at: at };
    });
    await h.t.database.db.insertInto('users').values(rows).execute();
  }
  const page = async (startIndex: number, count: number) => {
    const r = await h.scim('GET', `/Users?startIndex=${startIndex}&count=${count}&attributes=userName`);
    assert.equal(r.status, 200);
    return { ids: r.body.Resources.map((u: { id: string }) => u.id) as string[], total: r.body.totalResults as number, perPage: r.body.itemsPerPage as number };
  };
  const check = async (all: string[], startIndex: number, count: number) => {
    const got = await page(startIndex, count);
    assert.deepEqual(got.ids, all.slice(startIndex - 1, startIndex - 1 + count), `the page at ${startIndex} (count ${count}) of ${all.length}`);
    assert.equal(got.total, all.length, `totalResults at ${startIndex}`);
    assert.equal(got.perPage, got.ids.length);
  };
  let all = await truth();
  const n = all.length;
  assert.ok(n > 2500);
  for (const [startIndex, count] of [[n - 150, 100], [n - 50, 100], [n - 9, 10], [n - 3, 10], [n, 10], [1500, 100], [n - 1300, 7]]) await check(all, startIndex, count);
  const past = await page(n + 1, 10);
  assert.deepEqual(past.ids, []);
  assert.equal(past.total, n);

  // A user removed and one added at the end: every position after the first moves by one.
  const gone = all[n - 120];
  assert.equal((await h.scim('DELETE', `/Users/${gone}`)).status, 204);
  assert.equal((await h.scim('POST', '/Users', oktaUser('deep-last@acme.example'))).status, 201);
  all = await truth();
  assert.equal(all.length, n);
  for (const [startIndex, count] of [[n - 150, 100], [n - 2, 10], [n - 118, 4]]) await check(all, startIndex, count);
});

test('remembered positions: the nearest at or before an offset, only for the version they were read at, and a bounded number of them', () => {
  const p = new ListPositions(3);
  const key = (i: number) => ({ created: `2026-01-01T00:00:0${i}.000Z`, id: `id${i}` });
  assert.equal(p.nearest(10), null);
  p.remember('7', 100, key(1));
  p.remember('7', 300, key(3));
  p.remember('7', 200, key(2));
  assert.equal(p.nearest(99), null);
  assert.deepEqual(p.nearest(100), { position: 100, key: key(1), version: '7' });
  assert.deepEqual(p.nearest(299), { position: 200, key: key(2), version: '7' });
  assert.deepEqual(p.nearest(5000), { position: 300, key: key(3), version: '7' });
  // Full: the oldest remembered (100) goes.
  p.remember('7', 400, key(4));
  assert.equal(p.size, 3);
  assert.equal(p.nearest(150), null);
  assert.equal(p.nearest(450)!.position, 400);
  // A new version forgets every position of the old one.
  p.remember('8', 50, key(5));
  assert.equal(p.size, 1);
  assert.deepEqual(p.nearest(450), { position: 50, key: key(5), version: '8' });
});
