// Migration 015: on SQLite the provisioning log moves out of the database's file into a file of its
// own (src/db/database.ts, openProvisioningLog). Rows logged before it are still there after it, in
// that file, with their ids and once each (also when some were copied already, as a crash between
// the copy and the drop leaves them), and new rows follow them; the database's file no longer holds the log. A
// database file whose log file is missing (restored alone) starts an empty log instead of failing.
// On PostgreSQL the migration does nothing, and the rows stay where they are.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import SQLite from 'better-sqlite3';
import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import { migrate, openDatabase, parseDatabaseUrl, provisioningLogDbOf, provisioningLogFile } from '../../src/db/database.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { freshDatabaseUrl } from '../helpers/app.ts';

const provider: MigrationProvider = { getMigrations: async (): Promise<Record<string, Migration>> => migrations };

const row = (i: number) => ({
  at: new Date(Date.UTC(2026, 10, 1, 0, 0, i)).toISOString(), client: 'Okta SCIM Client 1.0.0', method: 'POST', path: '/ResourceServer/api/SCIM/Users',
  status: i % 5 === 0 ? 409 : 201, duration_ms: 2.5, summary: `created user u${i}@acme.example`, resource_type: 'User', resource_id: `id-${i}`,
  user_name: `u${i}@acme.example`, error: i % 5 === 0 ? 'uniqueness: User already exists in the database.' : null, request_body: `{"userName":"u${i}@acme.example"}`, response_body: null,
});

test('provisioning-log rows written before migration 015 are kept, in order, and new ones follow; on SQLite they live in the log file of their own', async () => {
  const scratch = await freshDatabaseUrl();
  const database = openDatabase(scratch.url, { poolSize: 2 });
  const parsed = parseDatabaseUrl(scratch.url);
  try {
    const { error } = await new Migrator({ db: database.db, provider }).migrateTo('014_log_failures_index');
    assert.ifError(error);
    await database.db.insertInto('provisioning_log').values(Array.from({ length: 30 }, (_, i) => row(i + 1))).execute();
    // As a crash between the copy and the drop would leave it: some rows in both files already.
    const log = provisioningLogDbOf(database.db);
    if (parsed.dialect === 'sqlite') await log.insertInto('provisioning_log').values(Array.from({ length: 10 }, (_, i) => ({ id: i + 1, ...row(i + 1) }))).execute();

    await migrate(database);
    const kept = await log.selectFrom('provisioning_log').select(['id', 'user_name', 'status', 'error']).orderBy('id').execute();
    assert.equal(kept.length, 30);
    assert.deepEqual(kept.map((r) => r.user_name), Array.from({ length: 30 }, (_, i) => `u${i + 1}@acme.example`));
    assert.equal(kept.filter((r) => r.status >= 400).length, 6);
    const [added] = await log.insertInto('provisioning_log').values(row(31)).returning('id').execute();
    assert.ok(added.id > kept[29].id, 'a new row gets an id after the copied ones');

    if (parsed.dialect === 'sqlite') {
      // The failures filter reads the log file's partial index.
      const plan = await sql<{ detail: string }>`explain query plan select id from provisioning_log where status >= 400 order by id desc limit 50`.execute(log);
      assert.match(plan.rows.map((r) => r.detail).join('\n'), /provisioning_log_failures/);
      await database.close();
      const main = new SQLite(parsed.file!, { readonly: true });
      const logs = new SQLite(provisioningLogFile(parsed.file!), { readonly: true });
      try {
        assert.equal((main.prepare(`select count(*) as n from sqlite_schema where name like 'provisioning_log%'`).get() as { n: number }).n, 0, 'the database file holds no log');
        assert.equal((logs.prepare('select count(*) as n from provisioning_log').get() as { n: number }).n, 31);
      } finally {
        main.close();
        logs.close();
      }
      // The database file restored without its log file: an empty log, and logging goes on.
      fs.rmSync(provisioningLogFile(parsed.file!));
      const restored = openDatabase(scratch.url);
      try {
        assert.deepEqual(await migrate(restored), []);
        const restoredLog = provisioningLogDbOf(restored.db);
        assert.equal((await restoredLog.selectFrom('provisioning_log').select('id').execute()).length, 0);
        await restoredLog.insertInto('provisioning_log').values(row(32)).execute();
        assert.equal((await restoredLog.selectFrom('provisioning_log').select('user_name').execute())[0].user_name, 'u32@acme.example');
      } finally {
        await restored.close();
      }
    } else await database.close();
  } finally {
    await scratch.drop();
  }
});
