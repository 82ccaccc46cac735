// Hot statements (src/db/precompiled.ts) are compiled once; on PostgreSQL they also run as named
// prepared statements, inside transactions as well as outside. They must behave exactly like any
// other query: see a transaction's own uncommitted rows, vanish with its rollback, and keep working
// on a connection where their first use failed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { isPostgres } from '../../src/db/dialect.ts';
import { precompiled } from '../../src/db/precompiled.ts';
import { recordAudit } from '../../src/identity/audit.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { openTestDatabase, type TestDb } from '../billing/db.ts';
import { getUser } from '../../src/scim/scim.users.ts';
import { parseProjection } from '../../src/scim/scim.projection.ts';
import { uuidv7 } from '../../src/platform/ids.ts';

let database: TestDb;
before(async () => {
  // One pooled connection on PostgreSQL: every query below meets the same server session.
  database = await openTestDatabase({ poolSize: 1 });
});
after(() => database.dispose());

/** A hot statement of this test's own, so that its first use on the connection is the one below. */
const auditBySummary = precompiled<{ summary: string }>((db, arg) => db.selectFrom('audit_log').select('summary').where('summary', '=', arg(0)));

const auditRows = async (summary: string) =>
  (await database.db.selectFrom('audit_log').select('summary').where('summary', '=', summary).execute()).length;

/** Whether this connection's server session holds a prepared statement starting with `text` (PostgreSQL). */
async function isPrepared(text: string): Promise<boolean> {
  const { rows } = await sql<{ statement: string }>`select statement from pg_prepared_statements`.execute(database.db);
  return rows.some((r) => r.statement.startsWith(text));
}

test('a hot insert inside a transaction is seen by that transaction and gone after its rollback', async () => {
  const summary = `rolled back ${Date.now()}`;
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      await recordAudit(trx, systemActor('test'), { action: 'test.rollback', summary });
      const inside = await trx.selectFrom('audit_log').select('summary').where('summary', '=', summary).execute();
      assert.equal(inside.length, 1);
      throw new Error('roll back');
    }),
    /roll back/,
  );
  assert.equal(await auditRows(summary), 0);
  if (isPostgres(database.db)) assert.ok(await isPrepared('insert into "audit_log"'), 'prepared by its use inside the transaction');
  await recordAudit(database.db, systemActor('test'), { action: 'test.commit', summary });
  assert.equal(await auditRows(summary), 1);
});

test('a hot statement whose first use failed (in an aborted transaction) works on that connection afterwards', async () => {
  const summary = `after abort ${Date.now()}`;
  await recordAudit(database.db, systemActor('test'), { action: 'test.after', summary });
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      // PostgreSQL refuses every statement after an error in a transaction, so the statement's first
      // use on this connection (its preparation) fails here.
      await sql`select 1 / 0`.execute(trx).catch(() => undefined);
      await auditBySummary(trx, summary);
      if (!isPostgres(database.db)) throw new Error('SQLite divides by zero without an error');
    }),
  );
  if (isPostgres(database.db)) assert.equal(await isPrepared('select "summary" from "audit_log"'), false);
  // The same statement, on the same connection: inside a transaction and outside one.
  assert.deepEqual(await database.db.transaction().execute((trx) => auditBySummary(trx, summary)), [{ summary }]);
  assert.deepEqual(await auditBySummary(database.db, summary), [{ summary }]);
  if (isPostgres(database.db)) assert.ok(await isPrepared('select "summary" from "audit_log"'), 'prepared once it could be');
});

test('reads by id, one at a time or several at once, each find their user; on PostgreSQL the statement is planned once, not on every execution', async () => {
  const ctx = { db: database.db, baseUrl: 'http://127.0.0.1/ResourceServer/api/SCIM', actor: systemActor('test') };
  const now = new Date().toISOString();
  const ids = [uuidv7(), uuidv7(), uuidv7()];
  await database.db
    .insertInto('users')
    .values(ids.map((id, i) => ({ id, user_name: `planned${i}.${id}@acme.example`, user_name_norm: `planned${i}.${id}@acme.example`, status: 'active', source: 'idp', time_zone: 'UTC', locale: 'en-US', scim_attributes: '{}', version: 1, created_at: now, updated_at: now })))
    .execute();
  const all = parseProjection('User');
  for (let i = 0; i < 8; i++) assert.equal((await getUser(ctx, ids[i % 3], all)).resource.id, ids[i % 3]);
  // Three at once (one statement on PostgreSQL, its key list padded to four with a repeated key).
  const together = await Promise.all(ids.map((id) => getUser(ctx, id, all)));
  assert.deepEqual(together.map((r) => r.resource.id), ids);
  if (isPostgres(database.db)) {
    // PostgreSQL plans a prepared statement with custom plans 5 times, then keeps the generic plan
    // if it is no dearer: with `in ($1)` it is (`= any($1)` with an array was planned anew every time).
    const { rows } = await sql<{ generic_plans: string; custom_plans: string }>`select generic_plans, custom_plans from pg_prepared_statements where statement like '%from "users" where "users"."id" in ($1)%'`.execute(database.db);
    assert.equal(rows.length, 1);
    assert.ok(Number(rows[0].generic_plans) >= 3, `generic ${rows[0].generic_plans}, custom ${rows[0].custom_plans}`);
  }
});
