// Invoices: drafts made by bill runs, finalized (numbered, then immutable), paid or void.
// Only a draft changes: every edit path checks `status = 'draft'` in its UPDATE, so a finalize racing
// an edit cannot slip a change into a finalized invoice. The number is taken from the counter inside
// the finalizing transaction (gap-free). Finalizing applies the account's available credit.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { InvoiceLinesTable, InvoicesTable, InvoiceStatus } from '../db/schema.billing.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { formatInvoiceNumber, nextValue } from './counters.repo.ts';
import { after } from './keyset.ts';
import { percentOf } from './money.ts';
import { addDays, isDate } from './period.ts';
import { lockRow } from './row-lock.ts';

type Db = Kysely<DB> | Transaction<DB>;

export const today = () => new Date().toISOString().slice(0, 10);

export function toInvoice(r: InvoicesTable & { account_number?: string; account_name?: string }) {
  return {
    id: r.id,
    number: r.number,
    accountId: r.account_id,
    accountNumber: r.account_number,
    accountName: r.account_name,
    billRunId: r.bill_run_id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    currency: r.currency,
    status: r.status,
    subtotal: Number(r.subtotal),
    taxRate: r.tax_rate,
    tax: Number(r.tax),
    total: Number(r.total),
    amountPaid: Number(r.amount_paid),
    amountDue: r.status === 'void' || r.status === 'draft' ? 0 : Number(r.total) - Number(r.amount_paid),
    memo: r.memo,
    issueDate: r.issue_date,
    dueDate: r.due_date,
    finalizedAt: r.finalized_at,
    paidAt: r.paid_at,
    voidedAt: r.voided_at,
    voidReason: r.void_reason,
    version: r.version,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}
export type Invoice = ReturnType<typeof toInvoice>;

const toLine = (l: InvoiceLinesTable) => ({
  id: l.id,
  kind: l.kind,
  description: l.description,
  usageIdentifier: l.usage_identifier,
  quantity: Number(l.quantity),
  periodStart: l.period_start,
  periodEnd: l.period_end,
  amount: Number(l.amount),
  detail: l.detail ? JSON.parse(l.detail) : null,
});

const lockInvoice = (trx: Transaction<DB>, id: string): Promise<InvoicesTable> => lockRow(trx, 'invoices', id, 'No such invoice');

const immutable = (inv: InvoicesTable) => Conflict(`Invoice ${inv.number ?? inv.id} is ${inv.status}; only drafts can be changed`);

export async function getInvoice(db: Db, id: string) {
  const row = await db.selectFrom('invoices as i').innerJoin('accounts as a', 'a.id', 'i.account_id').selectAll('i').select(['a.number as account_number', 'a.name as account_name']).where('i.id', '=', id).executeTakeFirst();
  if (!row) throw NotFound('No such invoice');
  const [lines, allocations, account] = await Promise.all([
    db.selectFrom('invoice_lines').selectAll().where('invoice_id', '=', id).orderBy('position').execute(),
    db.selectFrom('allocations as al').leftJoin('payments as p', 'p.id', 'al.payment_id').leftJoin('credits as c', 'c.id', 'al.credit_id')
      .select(['al.id', 'al.amount', 'al.created_at', 'al.payment_id', 'al.credit_id', 'p.received_on', 'p.method', 'p.reference', 'c.reason'])
      .where('al.invoice_id', '=', id).orderBy('al.created_at').execute(),
    db.selectFrom('accounts').selectAll().where('id', '=', row.account_id).executeTakeFirstOrThrow(),
  ]);
  return {
    ...toInvoice(row),
    lines: lines.map(toLine),
    allocations: allocations.map((a) => ({ id: a.id, amount: Number(a.amount), at: a.created_at, paymentId: a.payment_id, creditId: a.credit_id, receivedOn: a.received_on, method: a.method, reference: a.reference, reason: a.reason })),
    billTo: { number: account.number, name: account.name, contactName: account.contact_name, contactEmail: account.contact_email, addressLine1: account.address_line1, addressLine2: account.address_line2, city: account.city, region: account.region, postalCode: account.postal_code, country: account.country },
  };
}
export type InvoiceDetail = Awaited<ReturnType<typeof getInvoice>>;

/**
 * The invoice as a caller sees it: the allocations name the payments (method, reference, date) and
 * credit notes (reason) applied, which belong to the Payments screen, so a caller who cannot read
 * Payments gets the invoice without them; amountPaid, the invoice's own figure, stays.
 */
export function invoiceFor(inv: InvoiceDetail, reads: { payments: boolean }): InvoiceDetail | Omit<InvoiceDetail, 'allocations'> {
  if (reads.payments) return inv;
  const { allocations: _hidden, ...rest } = inv;
  return rest;
}

export interface InvoiceListQuery {
  q?: string;
  status?: string;
  accountId?: string;
  billRunId?: string;
  overdue?: boolean;
  limit?: number;
  cursor?: string;
}

export async function listInvoices(db: Db, query: InvoiceListQuery) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text', 'text']);
  let qb = db.selectFrom('invoices as i').innerJoin('accounts as a', 'a.id', 'i.account_id').selectAll('i').select(['a.number as account_number', 'a.name as account_name']);
  if (query.status) qb = qb.where('i.status', '=', query.status as InvoiceStatus);
  if (query.accountId) qb = qb.where('i.account_id', '=', query.accountId);
  if (query.billRunId) qb = qb.where('i.bill_run_id', '=', query.billRunId);
  if (query.overdue) qb = qb.where('i.status', '=', 'finalized').where('i.due_date', '<', today());
  if (query.q?.trim()) {
    const q = query.q.trim();
    qb = qb.where((eb) => eb.or([eb('i.number', '=', q), eb('a.number', '=', q), eb(sql`lower(a.name)`, 'like', `%${q.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c)}%`)]));
  }
  if (cur) qb = qb.where((eb) => after(eb, ['i.created_at', 'i.id'], cur, 'desc'));
  const rows = await qb.orderBy('i.created_at', 'desc').orderBy('i.id', 'desc').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.created_at, r.id]);
  return { items: p.items.map(toInvoice), nextCursor: p.nextCursor };
}

/** Draft-only edits: memo, and manual adjustment lines (e.g. a goodwill discount). */
export async function updateDraft(db: Kysely<DB>, actor: Actor, id: string, input: { memo?: string | null; version?: number }) {
  await db.transaction().execute(async (trx) => {
    const inv = await lockInvoice(trx, id);
    if (inv.status !== 'draft') throw immutable(inv);
    if (input.version !== undefined && input.version !== inv.version) throw Conflict('Someone else changed this invoice; reload and try again');
    const res = await trx.updateTable('invoices').set({ memo: input.memo?.trim() || null, version: inv.version + 1, updated_at: nowIso() }).where('id', '=', id).where('status', '=', 'draft').executeTakeFirst();
    if (!res.numUpdatedRows) throw immutable(inv);
    await recordAudit(trx, actor, { action: 'invoice.update', targetType: 'invoice', targetId: id, summary: `edited draft invoice ${id}`, details: { memo: input.memo } });
  });
  return getInvoice(db, id);
}

async function retotal(trx: Transaction<DB>, inv: InvoicesTable) {
  const s = await trx.selectFrom('invoice_lines').select((eb) => eb.fn.coalesce(eb.fn.sum<number>('amount'), eb.lit(0)).as('subtotal')).where('invoice_id', '=', inv.id).executeTakeFirstOrThrow();
  const subtotal = Number(s.subtotal);
  const tax = percentOf(subtotal, inv.tax_rate);
  const res = await trx.updateTable('invoices').set({ subtotal, tax, total: subtotal + tax, version: inv.version + 1, updated_at: nowIso() }).where('id', '=', inv.id).where('status', '=', 'draft').executeTakeFirst();
  if (!res.numUpdatedRows) throw immutable(inv);
}

export async function addAdjustment(db: Kysely<DB>, actor: Actor, id: string, input: { description: string; amount: number }) {
  if (!input.description.trim()) throw Invalid('Describe the adjustment', { description: 'Describe the adjustment' });
  if (!Number.isSafeInteger(input.amount) || input.amount === 0) throw Invalid('Enter a non-zero amount in minor units', { amount: 'Enter a non-zero whole number of minor units (negative for a discount)' });
  await db.transaction().execute(async (trx) => {
    const inv = await lockInvoice(trx, id);
    if (inv.status !== 'draft') throw immutable(inv);
    const pos = await trx.selectFrom('invoice_lines').select((eb) => eb.fn.coalesce(eb.fn.max('position'), eb.lit(0)).as('p')).where('invoice_id', '=', id).executeTakeFirstOrThrow();
    await trx.insertInto('invoice_lines').values({ id: randomUUID(), invoice_id: id, kind: 'adjustment', description: input.description.trim(), charge_id: null, subscription_id: null, usage_identifier: null, quantity: 1, period_start: null, period_end: null, amount: input.amount, detail: null, position: Number(pos.p) + 1 }).execute();
    await retotal(trx, inv);
    const total = await trx.selectFrom('invoices').select('total').where('id', '=', id).executeTakeFirstOrThrow();
    if (Number(total.total) < 0) throw Invalid('An invoice total cannot go below zero; issue a credit note instead', { amount: 'This would make the total negative' });
    await recordAudit(trx, actor, { action: 'invoice.adjust', targetType: 'invoice', targetId: id, summary: `added adjustment "${input.description.trim()}" (${input.amount}) to draft invoice`, details: input });
  });
  return getInvoice(db, id);
}

export async function removeLine(db: Kysely<DB>, actor: Actor, id: string, lineId: string) {
  await db.transaction().execute(async (trx) => {
    const inv = await lockInvoice(trx, id);
    if (inv.status !== 'draft') throw immutable(inv);
    const line = await trx.selectFrom('invoice_lines').selectAll().where('id', '=', lineId).where('invoice_id', '=', id).executeTakeFirst();
    if (!line) throw NotFound('No such line on this invoice');
    await trx.deleteFrom('invoice_lines').where('id', '=', lineId).execute();
    await retotal(trx, inv);
    await recordAudit(trx, actor, { action: 'invoice.remove_line', targetType: 'invoice', targetId: id, summary: `removed line "${line.description}" from draft invoice`, details: { lineId, amount: Number(line.amount) } });
  });
  return getInvoice(db, id);
}

/** Applies the account's unallocated payments and credit notes (oldest first) to one invoice. */
export async function applyAvailableCredit(trx: Transaction<DB>, invoiceId: string, accountId: string): Promise<number> {
  const inv = await trx.selectFrom('invoices').select(['total', 'amount_paid', 'status']).where('id', '=', invoiceId).executeTakeFirstOrThrow();
  if (inv.status !== 'finalized') return 0;
  let due = Number(inv.total) - Number(inv.amount_paid);
  if (due <= 0) return 0;
  const [payments, credits] = await Promise.all([
    trx.selectFrom('payments').select(['id', 'unallocated', 'created_at']).where('account_id', '=', accountId).where('unallocated', '>', 0).orderBy('received_on').orderBy('created_at').execute(),
    trx.selectFrom('credits').select(['id', 'unallocated', 'created_at']).where('account_id', '=', accountId).where('unallocated', '>', 0).orderBy('created_at').execute(),
  ]);
  const sources = [...credits.map((c) => ({ kind: 'credit' as const, ...c })), ...payments.map((p) => ({ kind: 'payment' as const, ...p }))];
  let applied = 0;
  const now = nowIso();
  for (const s of sources) {
    if (due <= 0) break;
    const take = Math.min(due, Number(s.unallocated));
    const table = s.kind === 'payment' ? 'payments' : 'credits';
    const res = await trx.updateTable(table).set({ unallocated: sql`unallocated - ${take}` }).where('id', '=', s.id).where('unallocated', '>=', take).executeTakeFirst();
    if (!res.numUpdatedRows) continue;
    await trx.insertInto('allocations').values({ id: randomUUID(), invoice_id: invoiceId, payment_id: s.kind === 'payment' ? s.id : null, credit_id: s.kind === 'credit' ? s.id : null, amount: take, created_at: now }).execute();
    due -= take;
    applied += take;
  }
  if (applied) await markPaid(trx, invoiceId, applied);
  return applied;
}

/** Adds `amount` to an invoice's paid amount, never beyond its total; marks it paid when settled. */
export async function markPaid(trx: Transaction<DB>, invoiceId: string, amount: number): Promise<void> {
  const now = nowIso();
  const res = await trx
    .updateTable('invoices')
    .set({
      amount_paid: sql`amount_paid + ${amount}`,
      status: sql`case when amount_paid + ${amount} = total then 'paid' else status end`,
      paid_at: sql`case when amount_paid + ${amount} = total then ${now} else paid_at end`,
      updated_at: now,
    })
    .where('id', '=', invoiceId)
    .where('status', '=', 'finalized')
    .where(sql<boolean>`amount_paid + ${amount} <= total`)
    .executeTakeFirst();
  if (!res.numUpdatedRows) throw Conflict('The invoice changed while the payment was applied (already paid or voided); try again');
}

export async function finalizeInvoice(db: Kysely<DB>, actor: Actor, id: string, input: { issueDate?: string } = {}) {
  if (input.issueDate !== undefined && !isDate(input.issueDate)) throw Invalid('Enter the issue date as YYYY-MM-DD', { issueDate: 'Enter a date as YYYY-MM-DD' });
  await db.transaction().execute(async (trx) => {
    const inv = await lockInvoice(trx, id);
    if (inv.status !== 'draft') throw Conflict(`Invoice ${inv.number ?? id} is already ${inv.status}`);
    const account = await trx.selectFrom('accounts').select(['payment_terms_days', 'number', 'name']).where('id', '=', inv.account_id).executeTakeFirstOrThrow();
    const number = formatInvoiceNumber(await nextValue(trx, 'invoice'));
    const issue = input.issueDate ?? today();
    const now = nowIso();
    const zero = Number(inv.total) === 0;
    const res = await trx.updateTable('invoices')
      .set({ number, status: zero ? 'paid' : 'finalized', issue_date: issue, due_date: addDays(issue, account.payment_terms_days), finalized_at: now, paid_at: zero ? now : null, version: inv.version + 1, updated_at: now })
      .where('id', '=', id).where('status', '=', 'draft').executeTakeFirst();
    if (!res.numUpdatedRows) throw Conflict('The invoice changed; reload and try again');
    const applied = await applyAvailableCredit(trx, id, inv.account_id);
    await recordAudit(trx, actor, { action: 'invoice.finalize', targetType: 'invoice', targetId: id, targetName: number, summary: `finalized invoice ${number} for ${account.number} ${account.name} (${inv.total} ${inv.currency})${applied ? `, applied ${applied} of account credit` : ''}`, details: { number, total: Number(inv.total), creditApplied: applied } });
  });
  return getInvoice(db, id);
}

/** Voids an invoice with a reason; money already applied to it returns to the account as credit. */
export async function voidInvoice(db: Kysely<DB>, actor: Actor, id: string, reason: string) {
  if (!reason?.trim()) throw Invalid('Give the reason for voiding', { reason: 'Say why the invoice is void' });
  await db.transaction().execute(async (trx) => {
    const inv = await lockInvoice(trx, id);
    if (inv.status === 'void') throw Conflict('The invoice is already void');
    const allocs = await trx.selectFrom('allocations').selectAll().where('invoice_id', '=', id).execute();
    for (const a of allocs) {
      if (a.payment_id) await trx.updateTable('payments').set({ unallocated: sql`unallocated + ${a.amount}` }).where('id', '=', a.payment_id).execute();
      if (a.credit_id) await trx.updateTable('credits').set({ unallocated: sql`unallocated + ${a.amount}` }).where('id', '=', a.credit_id).execute();
    }
    await trx.deleteFrom('allocations').where('invoice_id', '=', id).execute();
    const now = nowIso();
    await trx.updateTable('invoices').set({ status: 'void', amount_paid: 0, void_reason: reason.trim(), voided_at: now, version: inv.version + 1, updated_at: now }).where('id', '=', id).execute();
    const released = allocs.reduce((s, a) => s + Number(a.amount), 0);
    await recordAudit(trx, actor, { action: 'invoice.void', targetType: 'invoice', targetId: id, targetName: inv.number, summary: `voided invoice ${inv.number ?? '(draft)'}: ${reason.trim()}${released ? `; ${released} returned to account credit` : ''}`, details: { reason: reason.trim(), previousStatus: inv.status, released } });
  });
  return getInvoice(db, id);
}
