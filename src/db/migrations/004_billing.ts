// Billing: accounts, products and charges, subscriptions, usage, bill runs, invoices, payments, credits.
// Integrity lives in constraints, not only in code: usage idempotency keys are unique; an (account,
// period) has at most one invoice that is not void (so two bill runs, on one node or two, cannot both
// bill it); invoice numbers are unique and come from a counter row incremented in the finalizing
// transaction; amounts paid can never exceed totals (check constraint).
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const pg = isPostgres(db);
  const money = pg ? 'bigint' : 'integer';

  await db.schema
    .createTable('billing_counters')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', money, (c) => c.notNull())
    .execute();
  await db.insertInto('billing_counters').values([{ name: 'invoice', value: 0 }, { name: 'account', value: 0 }]).execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('number', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('contact_name', 'text')
    .addColumn('contact_email', 'text')
    .addColumn('contact_phone', 'text')
    .addColumn('address_line1', 'text')
    .addColumn('address_line2', 'text')
    .addColumn('city', 'text')
    .addColumn('region', 'text')
    .addColumn('postal_code', 'text')
    .addColumn('country', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('payment_terms_days', 'integer', (c) => c.notNull().defaultTo(30))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('notes', 'text')
    .addColumn('tax_rate', 'text', (c) => c.notNull().defaultTo('0'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('accounts_name').on('accounts').column('name').execute();
  await db.schema.createIndex('accounts_status').on('accounts').columns(['status', 'number']).execute();

  await db.schema
    .createTable('products')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('code', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('charges')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('billing_interval', 'text')
    .addColumn('amount', money)
    .addColumn('usage_identifier', 'text')
    .addColumn('pricing', 'text')
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('charges_product').on('charges').column('product_id').execute();
  await db.schema.createIndex('charges_usage_identifier').on('charges').column('usage_identifier').execute();

  await db.schema
    .createTable('subscriptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('product_id', 'text', (c) => c.notNull().references('products.id'))
    .addColumn('quantity', 'integer', (c) => c.notNull())
    .addColumn('start_date', 'text', (c) => c.notNull())
    .addColumn('end_date', 'text')
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('subscriptions_account').on('subscriptions').column('account_id').execute();

  await db.schema
    .createTable('usage_uploads')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('total_rows', 'integer', (c) => c.notNull())
    .addColumn('accepted', 'integer', (c) => c.notNull())
    .addColumn('duplicates', 'integer', (c) => c.notNull())
    .addColumn('rejected', 'integer', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('usage_uploads_created').on('usage_uploads').column('created_at').execute();

  await db.schema
    .createTable('usage_upload_errors')
    .addColumn('upload_id', 'text', (c) => c.notNull().references('usage_uploads.id').onDelete('cascade'))
    .addColumn('row_number', 'integer', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addColumn('raw', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('usage_upload_errors_pk', ['upload_id', 'row_number'])
    .execute();

  await db.schema
    .createTable('usage_records')
    .addColumn('id', pg ? 'bigserial' : 'integer', (c) => (pg ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('identifier', 'text', (c) => c.notNull())
    .addColumn('quantity', money, (c) => c.notNull())
    .addColumn('occurred_at', 'text', (c) => c.notNull())
    .addColumn('idempotency_key', 'text', (c) => c.notNull().unique())
    .addColumn('upload_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // Covering index for the bill run's per-account aggregate (no table lookups).
  await db.schema.createIndex('usage_records_account_time').on('usage_records').columns(['account_id', 'occurred_at', 'identifier', 'quantity']).execute();
  // Deliberately no more indexes on usage_records: each one costs ingestion a random B-tree write per
  // record (measured in bench/billing.bench.ts); reports scan by time instead.

  await db.schema
    .createTable('bill_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('period_start', 'text', (c) => c.notNull())
    .addColumn('period_end', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.references('accounts.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('total_accounts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('billed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('skipped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('heartbeat_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('error', 'text')
    .execute();
  await db.schema.createIndex('bill_runs_created').on('bill_runs').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('bill_run_accounts')
    .addColumn('bill_run_id', 'text', (c) => c.notNull().references('bill_runs.id').onDelete('cascade'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('invoice_id', 'text')
    .addColumn('message', 'text')
    .addPrimaryKeyConstraint('bill_run_accounts_pk', ['bill_run_id', 'account_id'])
    .execute();
  await db.schema.createIndex('bill_run_accounts_status').on('bill_run_accounts').columns(['bill_run_id', 'status']).execute();

  await db.schema
    .createTable('invoices')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('number', 'text', (c) => c.unique())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('bill_run_id', 'text')
    .addColumn('period_start', 'text', (c) => c.notNull())
    .addColumn('period_end', 'text', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('subtotal', money, (c) => c.notNull())
    .addColumn('tax_rate', 'text', (c) => c.notNull())
    .addColumn('tax', money, (c) => c.notNull())
    .addColumn('total', money, (c) => c.notNull())
    .addColumn('amount_paid', money, (c) => c.notNull().defaultTo(0))
    .addColumn('memo', 'text')
    .addColumn('issue_date', 'text')
    .addColumn('due_date', 'text')
    .addColumn('finalized_at', 'text')
    .addColumn('paid_at', 'text')
    .addColumn('voided_at', 'text')
    .addColumn('void_reason', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addCheckConstraint('invoices_paid_within_total', sql`amount_paid >= 0 and amount_paid <= total`)
    .execute();
  // The guard against double billing: one live invoice per account and period, whoever bills it.
  await sql`create unique index invoices_account_period on invoices (account_id, period_start, period_end) where status <> 'void'`.execute(db);
  await db.schema.createIndex('invoices_account_status').on('invoices').columns(['account_id', 'status']).execute();
  await db.schema.createIndex('invoices_status_due').on('invoices').columns(['status', 'due_date']).execute();
  await db.schema.createIndex('invoices_created').on('invoices').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('invoice_lines')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id').onDelete('cascade'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull())
    .addColumn('charge_id', 'text')
    .addColumn('subscription_id', 'text')
    .addColumn('usage_identifier', 'text')
    .addColumn('quantity', money, (c) => c.notNull())
    .addColumn('period_start', 'text')
    .addColumn('period_end', 'text')
    .addColumn('amount', money, (c) => c.notNull())
    .addColumn('detail', 'text')
    .addColumn('position', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('invoice_lines_invoice').on('invoice_lines').column('invoice_id').execute();

  await db.schema
    .createTable('payments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('amount', money, (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('received_on', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('reference', 'text')
    .addColumn('unallocated', money, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addCheckConstraint('payments_unallocated_range', sql`unallocated >= 0 and unallocated <= amount`)
    .execute();
  await db.schema.createIndex('payments_account').on('payments').columns(['account_id', 'received_on']).execute();
  await db.schema.createIndex('payments_created').on('payments').columns(['created_at', 'id']).execute();

  await db.schema
    .createTable('credits')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('amount', money, (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('unallocated', money, (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addCheckConstraint('credits_unallocated_range', sql`unallocated >= 0 and unallocated <= amount`)
    .execute();
  await db.schema.createIndex('credits_account').on('credits').column('account_id').execute();

  await db.schema
    .createTable('allocations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('invoice_id', 'text', (c) => c.notNull().references('invoices.id'))
    .addColumn('payment_id', 'text', (c) => c.references('payments.id'))
    .addColumn('credit_id', 'text', (c) => c.references('credits.id'))
    .addColumn('amount', money, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addCheckConstraint('allocations_positive', sql`amount > 0`)
    .execute();
  await db.schema.createIndex('allocations_invoice').on('allocations').column('invoice_id').execute();
  await db.schema.createIndex('allocations_payment').on('allocations').column('payment_id').execute();
  await db.schema.createIndex('allocations_credit').on('allocations').column('credit_id').execute();
}

export async function down(): Promise<void> {
  throw new Error('billing migration cannot be reverted');
}
