// A billing row read in order to change it. On PostgreSQL it is locked for the rest of the transaction:
// edits write back what they read (a product's fields, a subscription's dates and status, an invoice's
// totals), so two edits of one row must take turns, each reading what the other committed, and a
// `version` check must see the edit that committed first. SQLite runs one writer at a time.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isPostgres } from '../db/dialect.ts';
import { NotFound } from '../platform/errors.ts';

type Lockable = 'accounts' | 'invoices' | 'products' | 'subscriptions';

/** The row of `table` with this id, locked (PostgreSQL) until the transaction ends; 404 `missing` when there is none. */
export async function lockRow<T extends Lockable>(trx: Transaction<DB>, table: T, id: string, missing: string): Promise<DB[T]> {
  // The table is a type parameter, which Kysely's builder cannot follow: the row is typed on return.
  let q = (trx as unknown as Kysely<Record<Lockable, { id: string }>>).selectFrom(table as Lockable).selectAll().where('id', '=', id);
  if (isPostgres(trx)) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw NotFound(missing);
  return row as unknown as DB[T];
}
