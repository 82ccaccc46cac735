// Migrations 006 and 009 re-key the provisioned-user counters (sharded by the id's first character,
// then its last character, then its last two): users created before each are still counted, exactly
// once, and the counters keep following creates and deletes afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import { migrate, openDatabase } from '../../src/db/database.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { freshDatabaseUrl } from '../helpers/app.ts';

const provider: MigrationProvider = { getMigrations: async (): Promise<Record<string, Migration>> => migrations };

test('users provisioned before migrations 006 and 009 are counted once after each, and later creates and deletes keep the count', async () => {
  const scratch = await freshDatabaseUrl();
  const database = openDatabase(scratch.url, { poolSize: 2 });
  try {
    const { error } = await new Migrator({ db: database.db, provider }).migrateTo('005_saml_signing');
    assert.ifError(error);
    const now = new Date().toISOString();
    const user = (id: string, i: number) => ({
      id, user_name: `pre${i}@acme.example`, user_name_norm: `pre${i}@acme.example`, display_name: null, given_name: null, family_name: null, email: null, email_norm: null,
      external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: now, updated_at: now,
    });
    const before = Array.from({ length: 40 }, () => randomUUID());
    await database.db.insertInto('users').values(before.map(user)).execute();
    const total = async () => {
      const rows = await database.db.selectFrom('scim_counters').select(['key', 'n']).where('key', 'like', 'idp_users:%').execute();
      return { sum: rows.reduce((s, r) => s + Number(r.n), 0), keys: rows.map((r) => r.key) };
    };
    assert.equal((await total()).sum, 40);

    const to006 = await new Migrator({ db: database.db, provider }).migrateTo('006_uuidv7_counters');
    assert.ifError(to006.error);
    const after = await total();
    assert.equal(after.sum, 40);
    // Every key is now a last character of some id.
    const lastChars = new Set(before.map((id) => id.slice(-1)));
    for (const k of after.keys) assert.ok(lastChars.has(k.slice('idp_users:'.length)), `unexpected counter key ${k}`);
    await database.db.insertInto('users').values([user(randomUUID(), 50)]).execute();
    assert.equal((await total()).sum, 41);

    // 009: keyed by the last two characters; the user created under 006's keys is counted too.
    await migrate(database);
    const after009 = await total();
    assert.equal(after009.sum, 41);
    const all = await database.db.selectFrom('users').select('id').where('source', '=', 'idp').execute();
    const lastTwo = new Set(all.map((u) => u.id.slice(-2)));
    assert.equal(after009.keys.length, lastTwo.size);
    for (const k of after009.keys) assert.ok(lastTwo.has(k.slice('idp_users:'.length)), `unexpected counter key ${k}`);

    const more = Array.from({ length: 7 }, () => randomUUID());
    await database.db.insertInto('users').values(more.map((id, i) => user(id, 100 + i))).execute();
    await database.db.deleteFrom('users').where('id', 'in', before.slice(0, 5)).execute();
    assert.equal((await total()).sum, 43);
    // A user leaving the provisioned set (source changed) is uncounted, and counted again on return.
    await database.db.updateTable('users').set({ source: 'local' }).where('id', '=', more[0]).execute();
    assert.equal((await total()).sum, 42);
    await database.db.updateTable('users').set({ source: 'idp' }).where('id', '=', more[0]).execute();
    assert.equal((await total()).sum, 43);
  } finally {
    await database.close();
    await scratch.drop();
  }
});
