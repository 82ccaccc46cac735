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
 *
 * SQLite keeps this transaction's temporary storage in memory (temp_store, back to the default when
 * it ends). A SCIM batch runs each write in a savepoint (src/scim/scim.writes.ts), and SQLite records
 * the pages a savepoint changes in a sub-journal; with the default, a sub-journal past 64 KiB is a
 * temporary file, written with a system call per page: SCIM creates made one in /var/tmp for about
 * every batch (81 in 8 s, strace), none with this. In memory, 10,000 creates on a
 * fresh server ran at 1,005-1,265/s instead of 963-1,097/s, and those after the first 2,000 at
 * 1,052-1,686/s instead of 970-1,366/s (4 runs each in turns, a slow day of this VM;
 * docs/performance.md, session 20). What such a transaction keeps is bounded by its writes: a batch's
 * SCIM requests, each at most SCIM_MAX_BODY_MB. Other transactions and reads keep the default, so a
 * large sort elsewhere still spills to disk instead of memory.
 */
export async function tryWriteTransaction<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<Attempt<T>> {
  if (isPostgres(db)) return { ran: true, value: await db.transaction().execute(fn) };
  return db.connection().execute(async (conn) => {
    // Set outside the transaction: SQLite refuses to change it inside one once a temporary table exists.
    await sql`pragma temp_store = memory`.execute(conn);
    try {
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
    } finally {
      await sql`pragma temp_store = default`.execute(conn);
    }
  });
}
