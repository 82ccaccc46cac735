// Every SCIM write is one transaction. On SQLite, concurrent writes are group-committed: the writes
// that arrive while one commit is under way run one after another inside a single transaction, each
// in its own savepoint (a failing request rolls back to its savepoint and leaves the others alone),
// and share one durable COMMIT (one fsync with synchronous=FULL). Each request is answered only
// after that COMMIT, so an acknowledged change is durable and a crash before it loses whole requests,
// never half of one. On PostgreSQL each request is its own transaction (PostgreSQL groups commits
// itself and runs transactions in parallel).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isPostgres } from '../db/dialect.ts';

interface Job {
  fn: (trx: Transaction<DB>) => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

const MAX_BATCH = 64;

class GroupCommit {
  private queue: Job[] = [];
  private running = false;
  constructor(private readonly db: Kysely<DB>) {}

  submit<T>(fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length) {
        const batch = this.queue.splice(0, MAX_BATCH);
        const results: { ok: boolean; value: unknown }[] = [];
        try {
          await this.db.transaction().execute(async (trx) => {
            for (const job of batch) {
              await sql`savepoint scim_write`.execute(trx);
              try {
                const value = await job.fn(trx);
                await sql`release scim_write`.execute(trx);
                results.push({ ok: true, value });
              } catch (err) {
                await sql`rollback to scim_write`.execute(trx);
                await sql`release scim_write`.execute(trx);
                results.push({ ok: false, value: err });
              }
            }
          });
        } catch (err) {
          // The COMMIT (or BEGIN) failed: nothing of this batch is stored.
          for (const job of batch) job.reject(err);
          continue;
        }
        batch.forEach((job, i) => (results[i].ok ? job.resolve(results[i].value) : job.reject(results[i].value)));
      }
    } finally {
      this.running = false;
      if (this.queue.length) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    }
  }
}

const committers = new WeakMap<object, GroupCommit>();

/** Runs `fn` as one transaction (group-committed on SQLite). */
export function runWrite<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  if (isPostgres(db)) return db.transaction().execute(fn);
  let gc = committers.get(db);
  if (!gc) {
    gc = new GroupCommit(db);
    committers.set(db, gc);
  }
  return gc.submit(fn);
}
