// Every SCIM write is one transaction. On SQLite, concurrent writes are group-committed: the writes
// that arrive while one commit is under way run one after another inside a single transaction, each
// in its own savepoint (a failing request rolls back to its savepoint and leaves the others alone),
// and share one durable COMMIT (one fsync with synchronous=FULL). Each request is answered only
// after that COMMIT, so an acknowledged change is durable and a crash before it loses whole requests,
// never half of one. A batch starts once writes stop arriving: every turn of the event loop that
// brought more is waited for (up to GATHER_TURNS), so that clients answered by one COMMIT, whose next
// requests arrive while the other half of the clients' writes is being parsed, join the next batch
// instead of forming one of their own (16 clients: 13.8 writes a COMMIT instead of 8.6).
// On PostgreSQL each request is its own transaction (PostgreSQL groups commits
// itself and runs transactions in parallel), except user creates, which arriving together share one
// statement (createUserInOneStatement in scim.users.ts). One that PostgreSQL aborts for a deadlock
// with another is run again (src/db/pg-retry.ts).
//
// When another process holds SQLite's write lock (a second app worker or node on the same file, the
// CLI), the batch does not wait inside SQLite's busy handler, which would stall this process's event
// loop: it gives the connection back, serves other requests, and tries again a moment later with
// whatever writes have queued up meanwhile.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isPostgres } from '../db/dialect.ts';
import { tryWriteTransaction } from '../db/write-lock.ts';
import { SerialBatcher, type Outcome } from '../db/coalesce.ts';
import { retryingConflicts } from '../db/pg-retry.ts';
import { ScimError } from './scim.errors.ts';

type Job = (trx: Transaction<DB>) => Promise<unknown>;

const MAX_BATCH = 64;
/** Most event-loop turns a batch waits for more writes to arrive before it starts. */
const GATHER_TURNS = 4;
/** How long a write may wait for another process to release the write lock before it fails (503). */
const LOCK_WAIT_MS = 10_000;

/**
 * One batch: each write in its own savepoint of one transaction, one COMMIT for all. null when another
 * process holds the write lock (the batcher tries again 1 ms later, with the writes queued by then).
 */
async function commitTogether(db: Kysely<DB>, jobs: Job[]): Promise<Outcome<unknown>[] | null> {
  const outcomes: Outcome<unknown>[] = [];
  // If BEGIN, a savepoint statement or the COMMIT fails, this throws: nothing of the batch is stored,
  // and every write in it fails with that error.
  const attempt = await tryWriteTransaction(db, async (trx) => {
    for (const job of jobs) {
      await sql`savepoint scim_write`.execute(trx);
      try {
        const value = await job(trx);
        await sql`release scim_write`.execute(trx);
        outcomes.push({ ok: true, value });
      } catch (error) {
        await sql`rollback to scim_write`.execute(trx);
        await sql`release scim_write`.execute(trx);
        outcomes.push({ ok: false, error });
      }
    }
  });
  return attempt.ran ? outcomes : null;
}

const committers = new WeakMap<object, SerialBatcher<Job, unknown>>();

/** Runs `fn` as one transaction (group-committed on SQLite). */
export function runWrite<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return retryingConflicts(() => db.transaction().execute(fn));
  let gc = committers.get(db);
  if (!gc) {
    gc = new SerialBatcher<Job, unknown>((jobs) => commitTogether(db, jobs), {
      max: MAX_BATCH,
      gatherTurns: GATHER_TURNS,
      retry: { everyMs: 1, giveUpAfterMs: LOCK_WAIT_MS, error: () => new ScimError(503, 'The database is busy; try again') },
    });
    committers.set(db, gc);
  }
  return gc.submit(fn) as Promise<T>;
}
