// A scratch database brought up to one migration, for tests of the migrations after it.
import assert from 'node:assert/strict';
import { Migrator, type Migration, type MigrationProvider } from 'kysely';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { migrations } from '../../src/db/migrations/index.ts';
import { freshDatabaseUrl } from './app.ts';

const provider: MigrationProvider = { getMigrations: async (): Promise<Record<string, Migration>> => migrations };

/** Runs `run` on a fresh database migrated up to `name` (included), then closes and drops it. */
export async function atMigration(name: string, run: (database: Database) => Promise<void>): Promise<void> {
  const scratch = await freshDatabaseUrl();
  const database = openDatabase(scratch.url, { poolSize: 2 });
  try {
    const { error } = await new Migrator({ db: database.db, provider }).migrateTo(name);
    assert.ifError(error);
    await run(database);
  } finally {
    await database.close();
    await scratch.drop();
  }
}
