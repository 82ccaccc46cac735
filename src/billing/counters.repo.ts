// Named counters for human numbers. The increment runs inside the caller's transaction: on
// PostgreSQL the row lock serialises concurrent finalizations and a rollback returns the number, on
// SQLite the single writer does the same. So invoice numbers are sequential without gaps.
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.ts';

export async function nextValue(trx: Transaction<DB> | Kysely<DB>, name: 'invoice' | 'account'): Promise<number> {
  const row = await trx
    .updateTable('billing_counters')
    .set({ value: sql`value + 1` })
    .where('name', '=', name)
    .returning('value')
    .executeTakeFirstOrThrow();
  return Number(row.value);
}

export const formatInvoiceNumber = (n: number) => `INV-${String(n).padStart(6, '0')}`;
export const formatAccountNumber = (n: number) => `A-${String(n).padStart(6, '0')}`;
