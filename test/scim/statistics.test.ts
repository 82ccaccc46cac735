// After a bulk import (an IdP's first push of thousands of users), a page of users after a cursor is
// read in index order, however early or deep the cursor: never by sorting every user after it. On
// PostgreSQL that needs table statistics, which autovacuum would only gather a minute or more later;
// the server refreshes them itself after bulk writes (src/db/fresh-statistics.ts), and vacuums the
// table so that index-only reads need not visit it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { isPostgres } from '../../src/db/dialect.ts';
import { statisticsSettled } from '../../src/db/fresh-statistics.ts';
import { oktaUser, startScim, type ScimHarness } from './scim-client.ts';

let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(() => h.t.close());

const IMPORTED = 1200;

/** The plan of the query behind a cursor page of users (listUsers: keyset after (created_at, id)). */
async function cursorPagePlan(created: string, id: string): Promise<string> {
  const db = h.t.database.db;
  const page = sql`select id, user_name, scim_attributes from users where source = 'idp' and (created_at, id) > (${created}, ${id}) order by created_at, id limit 101`;
  if (isPostgres(db)) {
    const { rows } = await sql<{ 'QUERY PLAN': string }>`explain ${page}`.execute(db);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }
  const { rows } = await sql<{ detail: string }>`explain query plan ${page}`.execute(db);
  return rows.map((r) => r.detail).join('\n');
}

test(`after an import of ${IMPORTED} users, an early cursor page is read in index order, not by sorting the users after it`, async () => {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (;;) {
        const i = next++;
        if (i >= IMPORTED) return;
        const r = await h.scim('POST', '/Users', oktaUser(`imported${i}@acme.example`));
        assert.equal(r.status, 201);
      }
    }),
  );
  const first = await h.scim('GET', '/Users?count=1&cursor=');
  assert.equal(first.status, 200);
  const row = await h.t.database.db.selectFrom('users').select(['created_at', 'id']).where('id', '=', first.body.Resources[0].id).executeTakeFirstOrThrow();

  // PostgreSQL: the statistics are gathered in the background; allow it a few seconds.
  let plan = '';
  for (let i = 0; i < 50; i++) {
    await statisticsSettled(h.t.database.db);
    plan = await cursorPagePlan(row.created_at, row.id);
    if (!/\bSort\b|TEMP B-TREE/i.test(plan)) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.doesNotMatch(plan, /\bSort\b|TEMP B-TREE/i, `the page is sorted instead of read in index order:\n${plan}`);
  assert.match(plan, /Index/i);
});

test(`after the same import, a deep startIndex page skips index entries without visiting the table for each`, async () => {
  const db = h.t.database.db;
  // The inner query of a deep page (listUsers): the ids of one page, found by skipping index entries.
  const skip = sql`select id from users where source = 'idp' order by created_at, id limit 101 offset 1100`;
  if (isPostgres(db)) {
    // Rows not yet marked all-visible (by VACUUM) cost a visit to the table each, even in an
    // index-only scan: without the refresh, all 1,201 entries passed are fetched.
    let plan = '';
    let fetches = Infinity;
    for (let i = 0; i < 50 && fetches >= 600; i++) {
      await statisticsSettled(db);
      const { rows } = await sql<{ 'QUERY PLAN': string }>`explain (analyze, costs off) ${skip}`.execute(db);
      plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      fetches = Number(/Heap Fetches: (\d+)/.exec(plan)?.[1] ?? Infinity);
      if (fetches >= 600) await new Promise((r) => setTimeout(r, 200));
    }
    assert.match(plan, /Index Only Scan using users_source_created_id/, plan);
    assert.ok(fetches < 600, `${fetches} of 1,201 index entries visited the table:\n${plan}`);
  } else {
    const { rows } = await sql<{ detail: string }>`explain query plan ${skip}`.execute(db);
    assert.match(rows.map((r) => r.detail).join('\n'), /COVERING INDEX users_source_created_id/);
  }
});
