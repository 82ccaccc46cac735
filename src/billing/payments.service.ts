// Payments and credit notes. A payment is allocated to open invoices (oldest first, or as chosen);
// what is left stays on the payment as account credit and is applied when the next invoice is
// finalized. The account row is locked for the whole allocation (PostgreSQL FOR UPDATE; SQLite's
// single writer), and each invoice update is conditional on not exceeding the total, so concurrent
// payments never over-allocate.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Invalid, NotFound } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { lockAccount } from './accounts.service.ts';
import { planAllocation, type Choice, type OpenInvoice } from './allocation.ts';
import { applyAvailableCredit, markPaid, today } from './invoices.service.ts';
import { after } from './keyset.ts';
import { isDate } from './period.ts';

type Db = Kysely<DB> | Transaction<DB>;

export const PAYMENT_METHODS = ['bank_transfer', 'card', 'check', 'cash', 'direct_debit', 'other'] as const;

export interface PaymentInput {
  accountId: string;
  amount: number;
  currency: string;
  receivedOn?: string;
  method: string;
  reference?: string | null;
  /** omit to pay the oldest invoices first */
  allocations?: Choice[];
}

async function openInvoices(trx: Transaction<DB>, accountId: string): Promise<OpenInvoice[]> {
  const rows = await trx.selectFrom('invoices').select(['id', 'number', 'due_date', 'issue_date', 'total', 'amount_paid']).where('account_id', '=', accountId).where('status', '=', 'finalized').execute();
  return rows.map((r) => ({ id: r.id, number: r.number, dueDate: r.due_date!, issueDate: r.issue_date!, amountDue: Number(r.total) - Number(r.amount_paid) })).filter((r) => r.amountDue > 0);
}

export async function recordPayment(db: Kysely<DB>, actor: Actor, input: PaymentInput) {
  const f: Record<string, string> = {};
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) f.amount = 'Enter an amount above zero, in minor units';
  if (input.receivedOn !== undefined && !isDate(input.receivedOn)) f.receivedOn = 'Enter a date as YYYY-MM-DD';
  if (!(PAYMENT_METHODS as readonly string[]).includes(input.method)) f.method = `Choose one of ${PAYMENT_METHODS.join(', ')}`;
  if (Object.keys(f).length) throw Invalid('Some fields need attention', f);
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    const account = await lockAccount(trx, input.accountId).catch(() => {
      throw Invalid('No such account', { accountId: 'Choose an existing account' });
    });
    if (input.currency !== account.currency) throw Invalid(`Account ${account.number} is billed in ${account.currency}, not ${input.currency}`, { currency: `This account is billed in ${account.currency}` });
    const plan = planAllocation(input.amount, await openInvoices(trx, account.id), input.allocations);
    const now = nowIso();
    await trx.insertInto('payments').values({ id, account_id: account.id, amount: input.amount, currency: input.currency, received_on: input.receivedOn ?? today(), method: input.method, reference: input.reference?.trim() || null, unallocated: plan.unallocated, created_by: actor.name, created_at: now }).execute();
    for (const a of plan.allocations) {
      await markPaid(trx, a.invoiceId, a.amount);
      await trx.insertInto('allocations').values({ id: randomUUID(), invoice_id: a.invoiceId, payment_id: id, credit_id: null, amount: a.amount, created_at: now }).execute();
    }
    await recordAudit(trx, actor, {
      action: 'payment.create', targetType: 'payment', targetId: id, targetName: input.reference ?? null,
      summary: `recorded ${input.method} payment of ${input.amount} ${input.currency} from ${account.number} ${account.name}${plan.unallocated ? ` (${plan.unallocated} kept as credit)` : ''}`,
      details: { ...input, allocations: plan.allocations, unallocated: plan.unallocated },
    });
  });
  return getPayment(db, id);
}

export async function getPayment(db: Db, id: string) {
  const p = await db.selectFrom('payments as p').innerJoin('accounts as a', 'a.id', 'p.account_id').selectAll('p').select(['a.number as account_number', 'a.name as account_name']).where('p.id', '=', id).executeTakeFirst();
  if (!p) throw NotFound('No such payment');
  const allocs = await db.selectFrom('allocations as al').innerJoin('invoices as i', 'i.id', 'al.invoice_id').select(['al.invoice_id', 'al.amount', 'i.number']).where('al.payment_id', '=', id).execute();
  return { ...toPayment(p), allocations: allocs.map((a) => ({ invoiceId: a.invoice_id, invoiceNumber: a.number, amount: Number(a.amount) })) };
}

function toPayment(p: any) {
  return { id: p.id as string, accountId: p.account_id as string, accountNumber: p.account_number as string, accountName: p.account_name as string, amount: Number(p.amount), currency: p.currency as string, receivedOn: p.received_on as string, method: p.method as string, reference: p.reference as string | null, unallocated: Number(p.unallocated), createdBy: p.created_by as string, createdAt: p.created_at as string };
}

export async function listPayments(db: Db, query: { q?: string; accountId?: string; limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text', 'text']);
  let qb = db.selectFrom('payments as p').innerJoin('accounts as a', 'a.id', 'p.account_id').selectAll('p').select(['a.number as account_number', 'a.name as account_name']);
  if (query.accountId) qb = qb.where('p.account_id', '=', query.accountId);
  if (query.q?.trim()) qb = qb.where((eb) => eb.or([eb('p.reference', '=', query.q!.trim()), eb('a.number', '=', query.q!.trim())]));
  if (cur) qb = qb.where((eb) => after(eb, ['p.created_at', 'p.id'], cur, 'desc'));
  const rows = await qb.orderBy('p.created_at', 'desc').orderBy('p.id', 'desc').limit(limit + 1).execute();
  const pg = page(rows, limit, (r) => [r.created_at, r.id]);
  return { items: pg.items.map(toPayment), nextCursor: pg.nextCursor };
}

/** A credit note: reduces what the account owes; applied to open invoices oldest first at once. */
export async function issueCredit(db: Kysely<DB>, actor: Actor, input: { accountId: string; amount: number; currency: string; reason: string }) {
  const f: Record<string, string> = {};
  if (!Number.isSafeInteger(input.amount) || input.amount <= 0) f.amount = 'Enter an amount above zero, in minor units';
  if (!input.reason?.trim()) f.reason = 'Say why the account is credited';
  if (Object.keys(f).length) throw Invalid('Some fields need attention', f);
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    const account = await lockAccount(trx, input.accountId).catch(() => {
      throw Invalid('No such account', { accountId: 'Choose an existing account' });
    });
    if (input.currency !== account.currency) throw Invalid(`Account ${account.number} is billed in ${account.currency}, not ${input.currency}`, { currency: `This account is billed in ${account.currency}` });
    await trx.insertInto('credits').values({ id, account_id: account.id, amount: input.amount, currency: input.currency, reason: input.reason.trim(), unallocated: input.amount, created_by: actor.name, created_at: nowIso() }).execute();
    const open = (await openInvoices(trx, account.id)).sort((a, b) => a.dueDate.localeCompare(b.dueDate));
    for (const inv of open) await applyAvailableCredit(trx, inv.id, account.id);
    await recordAudit(trx, actor, { action: 'credit.create', targetType: 'credit', targetId: id, summary: `credited ${account.number} ${account.name} ${input.amount} ${input.currency}: ${input.reason.trim()}`, details: input });
  });
  const c = await db.selectFrom('credits').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return { id: c.id, accountId: c.account_id, amount: Number(c.amount), currency: c.currency, reason: c.reason, unallocated: Number(c.unallocated), createdBy: c.created_by, createdAt: c.created_at };
}

export async function listCredits(db: Db, query: { accountId?: string; limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text', 'text']);
  let qb = db.selectFrom('credits as c').innerJoin('accounts as a', 'a.id', 'c.account_id').selectAll('c').select(['a.number as account_number', 'a.name as account_name']);
  if (query.accountId) qb = qb.where('c.account_id', '=', query.accountId);
  if (cur) qb = qb.where((eb) => after(eb, ['c.created_at', 'c.id'], cur, 'desc'));
  const rows = await qb.orderBy('c.created_at', 'desc').orderBy('c.id', 'desc').limit(limit + 1).execute();
  const pg = page(rows, limit, (r) => [r.created_at, r.id]);
  return { items: pg.items.map((c) => ({ id: c.id, accountId: c.account_id, accountNumber: c.account_number, accountName: c.account_name, amount: Number(c.amount), currency: c.currency, reason: c.reason, unallocated: Number(c.unallocated), createdBy: c.created_by, createdAt: c.created_at })), nextCursor: pg.nextCursor };
}
