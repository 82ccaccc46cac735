// Billing tables (owned by src/billing/). Money is integer minor units (bigint on PostgreSQL, which
// database.ts parses back to number); dates are 'YYYY-MM-DD' text, timestamps ISO-8601 UTC text.
import type { Generated } from 'kysely';

export type AccountStatus = 'active' | 'suspended' | 'closed';
export type ChargeKind = 'recurring' | 'one_time' | 'usage';
export type InvoiceStatus = 'draft' | 'finalized' | 'paid' | 'void';
export type BillRunStatus = 'running' | 'completed' | 'failed' | 'interrupted';
export type BillRunAccountStatus = 'pending' | 'billed' | 'skipped' | 'failed';

/** Named sequences (invoice and account numbers). Incremented inside the caller's transaction, so a
 * rolled-back finalization gives its number back: invoice numbers have no gaps. */
export interface BillingCountersTable {
  name: string;
  value: number;
}

export interface AccountsTable {
  id: string;
  number: string;
  name: string;
  contact_name: string | null;
  contact_email: string | null;
  contact_phone: string | null;
  address_line1: string | null;
  address_line2: string | null;
  city: string | null;
  region: string | null;
  postal_code: string | null;
  country: string | null;
  currency: string;
  payment_terms_days: number;
  status: AccountStatus;
  notes: string | null;
  /** percent as a decimal string, e.g. "8.875"; "0" for none */
  tax_rate: string;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  id: string;
  code: string;
  name: string;
  description: string | null;
  currency: string;
  status: 'active' | 'archived';
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ChargesTable {
  id: string;
  product_id: string;
  name: string;
  kind: ChargeKind;
  /** recurring only */
  billing_interval: 'month' | 'year' | null;
  /** minor units per interval (recurring) or once (one_time); null for usage */
  amount: number | null;
  /** usage only, e.g. "api_calls" */
  usage_identifier: string | null;
  /** usage only: JSON of rating.Pricing */
  pricing: string | null;
  position: number;
}

export interface SubscriptionsTable {
  id: string;
  account_id: string;
  product_id: string;
  quantity: number;
  start_date: string;
  /** exclusive; null while it runs on */
  end_date: string | null;
  status: 'active' | 'cancelled';
  version: number;
  created_at: string;
  updated_at: string;
}

export interface UsageRecordsTable {
  // Integer key: a million-row table indexes far cheaper on integers than on UUID text.
  id: Generated<number>;
  account_id: string;
  identifier: string;
  quantity: number;
  occurred_at: string;
  idempotency_key: string;
  upload_id: string | null;
  created_at: string;
}

export interface UsageUploadsTable {
  id: string;
  file_name: string;
  total_rows: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  created_by: string;
  created_at: string;
}

export interface UsageUploadErrorsTable {
  upload_id: string;
  row_number: number;
  message: string;
  raw: string;
}

export interface BillRunsTable {
  id: string;
  period_start: string;
  period_end: string;
  /** null: every active account */
  account_id: string | null;
  status: BillRunStatus;
  total_accounts: number;
  billed: number;
  skipped: number;
  failed: number;
  created_by: string;
  created_at: string;
  heartbeat_at: string;
  finished_at: string | null;
  error: string | null;
}

export interface BillRunAccountsTable {
  bill_run_id: string;
  account_id: string;
  status: BillRunAccountStatus;
  invoice_id: string | null;
  message: string | null;
}

export interface InvoicesTable {
  id: string;
  /** assigned at finalization, gap-free */
  number: string | null;
  account_id: string;
  bill_run_id: string | null;
  period_start: string;
  period_end: string;
  currency: string;
  status: InvoiceStatus;
  subtotal: number;
  tax_rate: string;
  tax: number;
  total: number;
  amount_paid: number;
  memo: string | null;
  issue_date: string | null;
  due_date: string | null;
  finalized_at: string | null;
  paid_at: string | null;
  voided_at: string | null;
  void_reason: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface InvoiceLinesTable {
  id: string;
  invoice_id: string;
  kind: ChargeKind | 'adjustment';
  description: string;
  charge_id: string | null;
  subscription_id: string | null;
  usage_identifier: string | null;
  quantity: number;
  period_start: string | null;
  period_end: string | null;
  amount: number;
  /** JSON: proration days or tier breakdown */
  detail: string | null;
  position: number;
}

export interface PaymentsTable {
  id: string;
  account_id: string;
  amount: number;
  currency: string;
  received_on: string;
  method: string;
  reference: string | null;
  /** what is not allocated to invoices: the account's credit from this payment */
  unallocated: number;
  created_by: string;
  created_at: string;
}

/** Credit notes: amounts the account is owed for reasons other than a payment. */
export interface CreditsTable {
  id: string;
  account_id: string;
  amount: number;
  currency: string;
  reason: string;
  unallocated: number;
  created_by: string;
  created_at: string;
}

export interface AllocationsTable {
  id: string;
  invoice_id: string;
  payment_id: string | null;
  credit_id: string | null;
  amount: number;
  created_at: string;
}

export interface BillingTables {
  billing_counters: BillingCountersTable;
  accounts: AccountsTable;
  products: ProductsTable;
  charges: ChargesTable;
  subscriptions: SubscriptionsTable;
  usage_records: UsageRecordsTable;
  usage_uploads: UsageUploadsTable;
  usage_upload_errors: UsageUploadErrorsTable;
  bill_runs: BillRunsTable;
  bill_run_accounts: BillRunAccountsTable;
  invoices: InvoicesTable;
  invoice_lines: InvoiceLinesTable;
  payments: PaymentsTable;
  credits: CreditsTable;
  allocations: AllocationsTable;
}
