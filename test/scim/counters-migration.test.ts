// Migration 006 re-keys the provisioned-user counters (sharded by the id's first character before,
// by its last character after): users created before it are still counted, exactly once, and the
// counters keep following creates and deletes afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import { migrate, openDatabase } from '../../src/db/database.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { freshDatabaseUrl } from '../helpers/app.ts';

const provider: MigrationProvider = { getMigrations: async (): Promise<Record<string, Migration>> => migrations };

test('users provisioned before migration 006 are counted once after it, and later creates and deletes keep the count', async () => {
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

    await migrate(database);
    const after = await total();
    assert.equal(after.sum, 40);
    // Every key is now a last character of some id.
    const lastChars = new Set(before.map((id) => id.slice(-1)));
    for (const k of after.keys) assert.ok(lastChars.has(k.slice('idp_users:'.length)), `unexpected counter key ${k}`);

    const more = Array.from({ length: 7 }, () => randomUUID());
    await database.db.insertInto('users').values(more.map((id, i) => user(id, 100 + i))).execute();
    await database.db.deleteFrom('users').where('id', 'in', before.slice(0, 5)).execute();
    assert.equal((await total()).sum, 42);
  } finally {
    await database.close();
    await scratch.drop();
  }
});
