// Customer accounts: create and edit (number assigned here), search, and the overview with the
// account's balance. Balance = finalized invoices − payments − credit notes; open receivables and
// available credit are the same money seen through allocations (the invariant test checks both agree).
// What the overview and list embed from other screens follows the caller's reads of those screens
// (EmbeddedReads): the Accounts screen alone must not show what the Invoices, Payments or Usage screen would refuse.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { AccountsTable, AccountStatus } from '../db/schema.billing.ts';
import { ilike, likeEscape } from '../db/dialect.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { formatAccountNumber, nextValue } from './counters.repo.ts';
import { after } from './keyset.ts';
import { lockRow } from './row-lock.ts';
import { isCurrency, isDecimal } from './money.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface AccountInput {
  name: string;
  contactName?: string | null;
  contactEmail?: string | null;
  contactPhone?: string | null;
  addressLine1?: string | null;
  addressLine2?: string | null;
  city?: string | null;
  region?: string | null;
  postalCode?: string | null;
  country?: string | null;
  currency: string;
  paymentTermsDays?: number;
  status?: AccountStatus;
  notes?: string | null;
  taxRate?: string;
}

export function toAccount(r: AccountsTable) {
  return {
    id: r.id,
    number: r.number,
    name: r.name,
    contactName: r.contact_name,
    contactEmail: r.contact_email,
    contactPhone: r.contact_phone,
    addressLine1: r.address_line1,
    addressLine2: r.address_line2,
    city: r.city,
    region: r.region,
    postalCode: r.postal_code,
    country: r.country,
    currency: r.currency,
    paymentTermsDays: r.payment_terms_days,
    status: r.status,
    notes: r.notes,
    taxRate: r.tax_rate,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
export type Account = ReturnType<typeof toAccount>;

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function check(input: Partial<AccountInput>): void {
  const f: Record<string, string> = {};
  if (input.name !== undefined && !input.name.trim()) f.name = 'Enter the account name';
  if (input.currency !== undefined && !isCurrency(input.currency)) f.currency = 'Use an ISO 4217 code such as USD or EUR';
  if (input.contactEmail && !EMAIL_RE.test(input.contactEmail)) f.contactEmail = 'Enter an email address like name@example.com';
  if (input.taxRate !== undefined && (!isDecimal(input.taxRate) || input.taxRate.startsWith('-') || Number(input.taxRate) > 100)) f.taxRate = 'Enter a percentage between 0 and 100, e.g. 8.875';
  if (input.paymentTermsDays !== undefined && (!Number.isInteger(input.paymentTermsDays) || input.paymentTermsDays < 0 || input.paymentTermsDays > 365)) f.paymentTermsDays = 'Enter 0 to 365 days';
  if (Object.keys(f).length) throw Invalid('Some fields need attention', f);
}

const nul = (s: string | null | undefined) => (s === undefined ? undefined : s?.trim() ? s.trim() : null);

function columns(input: Partial<AccountInput>): Partial<AccountsTable> {
  const c: Partial<AccountsTable> = {};
  if (input.name !== undefined) c.name = input.name.trim();
  if (input.contactName !== undefined) c.contact_name = nul(input.contactName)!;
  if (input.contactEmail !== undefined) c.contact_email = nul(input.contactEmail)!;
  if (input.contactPhone !== undefined) c.contact_phone = nul(input.contactPhone)!;
  if (input.addressLine1 !== undefined) c.address_line1 = nul(input.addressLine1)!;
  if (input.addressLine2 !== undefined) c.address_line2 = nul(input.addressLine2)!;
  if (input.city !== undefined) c.city = nul(input.city)!;
  if (input.region !== undefined) c.region = nul(input.region)!;
  if (input.postalCode !== undefined) c.postal_code = nul(input.postalCode)!;
  if (input.country !== undefined) c.country = nul(input.country)!;
  if (input.currency !== undefined) c.currency = input.currency;
  if (input.paymentTermsDays !== undefined) c.payment_terms_days = input.paymentTermsDays;
  if (input.status !== undefined) c.status = input.status;
  if (input.notes !== undefined) c.notes = nul(input.notes)!;
  if (input.taxRate !== undefined) c.tax_rate = input.taxRate;
  return c;
}

export async function createAccount(db: Kysely<DB>, actor: Actor, input: AccountInput): Promise<Account> {
  check(input);
  return db.transaction().execute(async (trx) => {
    const now = nowIso();
    const row: AccountsTable = {
      id: randomUUID(),
      number: formatAccountNumber(await nextValue(trx, 'account')),
      name: '',
      contact_name: null,
      contact_email: null,
      contact_phone: null,
      address_line1: null,
      address_line2: null,
      city: null,
      region: null,
      postal_code: null,
      country: null,
      currency: input.currency,
      payment_terms_days: 30,
      status: 'active',
      notes: null,
      tax_rate: '0',
      version: 1,
      created_at: now,
      updated_at: now,
      ...columns(input),
    };
    await trx.insertInto('accounts').values(row).execute();
    await recordAudit(trx, actor, { action: 'account.create', targetType: 'account', targetId: row.id, targetName: `${row.number} ${row.name}`, summary: `created account ${row.number} ${row.name}`, details: { ...input } });
    return toAccount(row);
  });
}

export async function getAccountRow(db: Db, id: string): Promise<AccountsTable> {
  const row = await db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw NotFound('No such account');
  return row;
}

/** Locks the account row for the rest of the transaction (PostgreSQL; src/billing/row-lock.ts). */
export const lockAccount = (trx: Transaction<DB>, id: string): Promise<AccountsTable> => lockRow(trx, 'accounts', id, 'No such account');

export async function updateAccount(db: Kysely<DB>, actor: Actor, id: string, input: Partial<AccountInput> & { version?: number }): Promise<Account> {
  check(input);
  return db.transaction().execute(async (trx) => {
    const before = await lockAccount(trx, id);
    if (input.version !== undefined && input.version !== before.version) throw Conflict('Someone else changed this account; reload and try again');
    if (input.currency !== undefined && input.currency !== before.currency) {
      const used = await trx
        .selectFrom('invoices').select('id').where('account_id', '=', id)
        .union(trx.selectFrom('payments').select('id').where('account_id', '=', id))
        .union(trx.selectFrom('subscriptions').select('id').where('account_id', '=', id))
        .limit(1).executeTakeFirst();
      if (used) throw Invalid('The currency cannot change once the account has subscriptions, invoices or payments', { currency: 'Currency is fixed once the account is in use' });
    }
    const changes = columns(input);
    const after = { ...before, ...changes, version: before.version + 1, updated_at: nowIso() };
    await trx.updateTable('accounts').set({ ...changes, version: after.version, updated_at: after.updated_at }).where('id', '=', id).execute();
    const changed = Object.fromEntries(Object.entries(changes).filter(([k, v]) => (before as any)[k] !== v));
    await recordAudit(trx, actor, { action: 'account.update', targetType: 'account', targetId: id, targetName: `${after.number} ${after.name}`, summary: `updated account ${after.number} ${after.name}`, details: { changed } });
    return toAccount(after);
  });
}

export interface AccountListQuery {
  q?: string;
  status?: string;
  limit?: number;
  cursor?: string;
}

export async function listAccounts(db: Db, query: AccountListQuery, reads: Pick<EmbeddedReads, 'invoices'> = { invoices: false }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text']);
  let qb = db.selectFrom('accounts').selectAll();
  if (query.q?.trim()) {
    const pat = `%${likeEscape(query.q.trim())}%`;
    qb = qb.where((eb) => eb.or([ilike(db, 'name', pat), ilike(db, 'number', pat), ilike(db, 'contact_name', pat), ilike(db, 'contact_email', pat)]));
  }
  if (query.status) qb = qb.where('status', '=', query.status as AccountStatus);
  if (cur) qb = qb.where((eb) => after(eb, ['number'], cur, 'asc'));
  const rows = await qb.orderBy('number').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.number]);
  if (!reads.invoices) return { items: p.items.map(toAccount), nextCursor: p.nextCursor };
  const open = await openBalances(db, p.items.map((r) => r.id));
  return { items: p.items.map((r) => ({ ...toAccount(r), openBalance: open.get(r.id) ?? 0 })), nextCursor: p.nextCursor };
}

async function openBalances(db: Db, ids: string[]): Promise<Map<string, number>> {
  if (!ids.length) return new Map();
  const rows = await db
    .selectFrom('invoices')
    .select((eb) => ['account_id', eb.fn.sum<number>(eb('total', '-', eb.ref('amount_paid'))).as('due')])
    .where('account_id', 'in', ids)
    .where('status', '=', 'finalized')
    .groupBy('account_id')
    .execute();
  return new Map(rows.map((r) => [r.account_id, Number(r.due)]));
}

export interface Balance {
  currency: string;
  /** finalized and paid invoices */
  invoiced: number;
  payments: number;
  credits: number;
  /** invoiced − payments − credits; negative when the customer is in credit */
  balance: number;
  /** what is still due on finalized invoices */
  openReceivables: number;
  /** unallocated payments and credit notes, applied to the next invoices */
  availableCredit: number;
}

export async function accountBalance(db: Db, id: string, currency: string): Promise<Balance> {
  const [inv, pay, cred] = await Promise.all([
    db.selectFrom('invoices')
      .select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('total'), eb.lit(0)).as('invoiced'), eb.fn.coalesce(eb.fn.sum<number>(eb('total', '-', eb.ref('amount_paid'))), eb.lit(0)).as('open')])
      .where('account_id', '=', id).where('status', 'in', ['finalized', 'paid']).executeTakeFirstOrThrow(),
    db.selectFrom('payments').select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('total'), eb.fn.coalesce(eb.fn.sum<number>('unallocated'), eb.lit(0)).as('free')]).where('account_id', '=', id).executeTakeFirstOrThrow(),
    db.selectFrom('credits').select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('total'), eb.fn.coalesce(eb.fn.sum<number>('unallocated'), eb.lit(0)).as('free')]).where('account_id', '=', id).executeTakeFirstOrThrow(),
  ]);
  const invoiced = Number(inv.invoiced);
  const payments = Number(pay.total);
  const credits = Number(cred.total);
  return { currency, invoiced, payments, credits, balance: invoiced - payments - credits, openReceivables: Number(inv.open), availableCredit: Number(pay.free) + Number(cred.free) };
}

/**
 * Which other screens the caller may read. The account overview and list embed data that belongs to
 * those screens, and a section is included only for a caller who could read it there:
 * open invoices → Invoices; recent payments → Payments; usage → Usage; the balance (invoiced −
 * payments − credits, open receivables, account credit) is made of invoices and of payments and
 * credits, so it needs both Invoices and Payments; the list's open balance (what is due on finalized
 * invoices) needs Invoices. Absent sections are left out of the response, not set to zero.
 */
export interface EmbeddedReads {
  invoices: boolean;
  payments: boolean;
  usage: boolean;
}

export async function accountOverview(db: Db, id: string, reads: EmbeddedReads) {
  const row = await getAccountRow(db, id);
  const none = Promise.resolve(null);
  const [balance, openInvoices, subscriptions, recentPayments, usageByIdentifier, recentUsage] = await Promise.all([
    reads.invoices && reads.payments ? accountBalance(db, id, row.currency) : none,
    reads.invoices
      ? db.selectFrom('invoices').select(['id', 'number', 'status', 'issue_date', 'due_date', 'total', 'amount_paid', 'period_start', 'period_end', 'currency'])
        .where('account_id', '=', id).where('status', 'in', ['draft', 'finalized']).orderBy('period_start', 'desc').limit(50).execute()
      : none,
    db.selectFrom('subscriptions as s').innerJoin('products as p', 'p.id', 's.product_id')
      .select(['s.id', 's.product_id', 'p.name as product_name', 'p.code as product_code', 's.quantity', 's.start_date', 's.end_date', 's.status', 's.version'])
      .where('s.account_id', '=', id).orderBy('s.start_date', 'desc').execute(),
    reads.payments
      ? db.selectFrom('payments').select(['id', 'amount', 'currency', 'received_on', 'method', 'reference', 'unallocated']).where('account_id', '=', id).orderBy('received_on', 'desc').orderBy('created_at', 'desc').limit(10).execute()
      : none,
    reads.usage
      ? db.selectFrom('usage_records').select((eb) => ['identifier', eb.fn.sum<number>('quantity').as('quantity'), eb.fn.countAll<number>().as('records')])
        .where('account_id', '=', id).where('occurred_at', '>=', new Date(Date.now() - 30 * 86_400_000).toISOString()).groupBy('identifier').orderBy('identifier').execute()
      : none,
    reads.usage ? db.selectFrom('usage_records').select(['id', 'identifier', 'quantity', 'occurred_at', 'idempotency_key']).where('account_id', '=', id).orderBy('id', 'desc').limit(10).execute() : none,
  ]);
  return {
    account: toAccount(row),
    ...(balance && { balance }),
    ...(openInvoices && { openInvoices: openInvoices.map((i) => ({ id: i.id, number: i.number, status: i.status, issueDate: i.issue_date, dueDate: i.due_date, total: Number(i.total), amountDue: Number(i.total) - Number(i.amount_paid), periodStart: i.period_start, periodEnd: i.period_end, currency: i.currency })) }),
    subscriptions: subscriptions.map((s) => ({ id: s.id, productId: s.product_id, productName: s.product_name, productCode: s.product_code, quantity: s.quantity, startDate: s.start_date, endDate: s.end_date, status: s.status, version: s.version })),
    ...(recentPayments && { recentPayments: recentPayments.map((p) => ({ id: p.id, amount: Number(p.amount), currency: p.currency, receivedOn: p.received_on, method: p.method, reference: p.reference, unallocated: Number(p.unallocated) })) }),
    ...(usageByIdentifier && { usageLast30Days: usageByIdentifier.map((u) => ({ identifier: u.identifier, quantity: Number(u.quantity), records: Number(u.records) })) }),
    ...(recentUsage && { recentUsage: recentUsage.map((u) => ({ id: Number(u.id), identifier: u.identifier, quantity: Number(u.quantity), occurredAt: u.occurred_at, idempotencyKey: u.idempotency_key })) }),
  };
}
