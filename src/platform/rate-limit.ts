// Fixed-window counters in the database, so every node sees the same count.
// Used for sign-in (per account and per address) and the SAML ACS (per address).
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

export interface Window {
  limit: number;
  windowSeconds: number;
}

/** Counts one hit on `key`; returns true when the hit is within the limit. */
export async function hit(db: Kysely<DB>, key: string, w: Window): Promise<boolean> {
  const windowStart = new Date(Math.floor(Date.now() / (w.windowSeconds * 1000)) * w.windowSeconds * 1000).toISOString();
  const row = await db
    .insertInto('rate_limits')
    .values({ key, window_start: windowStart, count: 1 })
    .onConflict((oc) =>
      oc.column('key').doUpdateSet({
        count: sql`case when rate_limits.window_start = ${windowStart} then rate_limits.count + 1 else 1 end`,
        window_start: windowStart,
      }),
    )
    .returning(['count'])
    .executeTakeFirstOrThrow();
  return Number(row.count) <= w.limit;
}

/** Current count in the window, without counting a hit. */
export async function peek(db: Kysely<DB>, key: string, w: Window): Promise<number> {
  const windowStart = new Date(Math.floor(Date.now() / (w.windowSeconds * 1000)) * w.windowSeconds * 1000).toISOString();
  const row = await db.selectFrom('rate_limits').select(['count', 'window_start']).where('key', '=', key).executeTakeFirst();
  return row && row.window_start === windowStart ? Number(row.count) : 0;
}

/** Takes back one hit counted in the current window (a sign-in that succeeded is not an attack). */
export async function forgive(db: Kysely<DB>, key: string, w: Window): Promise<void> {
  const windowStart = new Date(Math.floor(Date.now() / (w.windowSeconds * 1000)) * w.windowSeconds * 1000).toISOString();
  await db.updateTable('rate_limits').set({ count: sql`count - 1` }).where('key', '=', key).where('window_start', '=', windowStart).where('count', '>', 0).execute();
}

export async function reset(db: Kysely<DB>, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}

/**
 * Deletes counters whose window began more than a day ago (every window we use is far shorter).
 * Without it, each user name ever tried at sign-in would leave a row behind for good.
 */
export async function pruneRateLimits(db: Kysely<DB>): Promise<number> {
  const cutoff = new Date(Date.now() - 86400_000).toISOString();
  const res = await db.deleteFrom('rate_limits').where('window_start', '<', cutoff).executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
}
