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

export async function reset(db: Kysely<DB>, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute();
}
