// Hot statements (src/db/precompiled.ts) are compiled once; on PostgreSQL they also run as named
// prepared statements, inside transactions as well as outside. They must behave exactly like any
// other query: see a transaction's own uncommitted rows, vanish with its rollback, and keep working
// on a connection where their first use failed.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { migrate, openDatabase, type Database } from '../../src/db/database.ts';
import { isPostgres } from '../../src/db/dialect.ts';
import { recordAudit } from '../../src/identity/audit.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { createToken, verifyToken } from '../../src/scim/scim-tokens.service.ts';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/app.ts';

let scratch: TestDatabase;
let database: Database;
before(async () => {
  scratch = await freshDatabaseUrl();
  // One pooled connection on PostgreSQL: every query below meets the same server session.
  database = openDatabase(scratch.url, { poolSize: 1 });
  await migrate(database);
});
after(async () => {
  await database.close();
  await scratch.drop();
});

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
  const { token } = await createToken(database.db, systemActor('test'), 'prepared');
  const summary = `after abort ${Date.now()}`;
  await assert.rejects(
    database.db.transaction().execute(async (trx) => {
      // Abort the transaction (PostgreSQL refuses every later statement in it), then use a hot
      // statement for the first time on this connection.
      await sql`select 1 / 0`.execute(trx).catch(() => undefined);
      await recordAudit(trx, systemActor('test'), { action: 'test.aborted', summary });
      if (!isPostgres(database.db)) throw new Error('aborted');
    }),
  );
  assert.equal(await auditRows(summary), 0);
  await recordAudit(database.db, systemActor('test'), { action: 'test.after', summary });
  assert.equal(await auditRows(summary), 1);
  assert.deepEqual((await verifyToken(database.db, token))?.name, 'prepared');
  if (isPostgres(database.db)) {
    // …and the server holds it prepared: parsed and planned once for this connection.
    assert.ok(await isPrepared('select "id", "name", "expires_at", "revoked_at" from "scim_tokens"'), 'token look-up prepared');
  }
});
