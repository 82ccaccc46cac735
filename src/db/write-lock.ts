// Taking SQLite's write lock without stalling the process. SQLite has one writer at a time per
// database file; when another connection (a second app worker or node on the same file, the CLI)
// holds the lock, SQLite's busy handler waits by sleeping the calling thread, which in Node is the
// event loop: no request is answered meanwhile. Writes on hot paths go through tryWriteTransaction
// instead: it asks for the lock with no wait and reports "busy" at once, so the caller can retry on a
// timer (or skip a write that is only a hint) while the process keeps serving.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from './schema.ts';
import { isPostgres } from './dialect.ts';
import { isSqliteBusy, SQLITE_BUSY_TIMEOUT_MS } from './database.ts';

export type Attempt<T> = { ran: true; value: T } | { ran: false };

/**
 * Runs `fn` in one transaction if the write lock can be had now. SQLite: BEGIN IMMEDIATE with no
 * busy wait; `{ran: false}` (nothing done) when another connection holds the lock. PostgreSQL: an
 * ordinary transaction (row locks are waited for on the server, not in this process).
 */
export async function tryWriteTransaction<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<Attempt<T>> {
  if (isPostgres(db)) return { ran: true, value: await db.transaction().execute(fn) };
  return db.connection().execute(async (conn) => {
    await sql`pragma busy_timeout = 0`.execute(conn);
    try {
      await sql`begin immediate`.execute(conn);
    } catch (err) {
      if (isSqliteBusy(err)) return { ran: false } as const;
      throw err;
    } finally {
      await sql.raw(`pragma busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`).execute(conn);
    }
    try {
      const value = await fn(conn as unknown as Transaction<DB>);
      await sql`commit`.execute(conn);
      return { ran: true, value } as const;
    } catch (err) {
      await sql`rollback`.execute(conn).catch(() => undefined);
      throw err;
    }
  });
}
