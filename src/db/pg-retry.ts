// PostgreSQL aborts a transaction that did nothing wrong when it meets another in a deadlock (two
// transactions locking the same rows in opposite orders: after deadlock_timeout, the server aborts
// one of them, SQLSTATE 40P01) or, at a stricter isolation level, in a serialization failure
// (40001). Nothing of an aborted transaction is stored, so running it again is safe: the SCIM client
// gets its answer, not a 500 for a race it could not see. SQLite has one writer at a time and never
// gets here.

import { setTimeout as sleep } from 'node:timers/promises';

/** SQLSTATEs of a transaction aborted for a conflict with another, not for what it did. */
const ABORTED_FOR_A_CONFLICT = new Set(['40P01', '40001']);

/** Most attempts in all (the first and two more). */
const PG_ATTEMPTS = 3;

function isAbortedForAConflict(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'string' && ABORTED_FOR_A_CONFLICT.has(code);
}

/**
 * Runs `transaction` (a whole transaction, or a statement that is one) again when PostgreSQL aborted
 * it for a conflict with another one, after a short random pause, so that the two do not meet again
 * in step; at most PG_ATTEMPTS times in all. Any other error, or the last attempt's, is thrown.
 */
export async function retryingConflicts<T>(transaction: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await transaction();
    } catch (err) {
      if (attempt >= PG_ATTEMPTS || !isAbortedForAConflict(err)) throw err;
      await sleep(5 + Math.random() * 20 * attempt);
    }
  }
}
