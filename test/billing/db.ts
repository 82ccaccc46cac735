// A fresh, migrated database for service tests (billing, and SCIM's prepared statements), on the same
// databases as the HTTP tests (a temp SQLite file, or a new PostgreSQL database when
// TEST_DATABASE=postgres), plus a second handle on the same database to play a second node.
import { freshDatabaseUrl } from '../helpers/app.ts';
import { migrate, openDatabase, type Database } from '../../src/db/database.ts';

export const onPostgres = process.env.TEST_DATABASE === 'postgres';

export interface TestDb extends Database {
  url: string;
  /** Another connection pool on the same database (a second app node). */
  secondNode(): Database;
  dispose(): Promise<void>;
}

export async function openTestDatabase(opts: { poolSize?: number } = {}): Promise<TestDb> {
  const fresh = await freshDatabaseUrl();
  const database = openDatabase(fresh.url, { poolSize: opts.poolSize ?? 5 });
  await migrate(database);
  const others: Database[] = [];
  return {
    ...database,
    url: fresh.url,
    secondNode: () => {
      const d = openDatabase(fresh.url, { poolSize: 5 });
      others.push(d);
      return d;
    },
    dispose: async () => {
      for (const o of others) await o.close();
      await database.close();
      await fresh.drop();
    },
  };
}
