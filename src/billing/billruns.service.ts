// Bill runs: draft invoices for a period, for one account or every open account.
// - One transaction per account: the invoice, its lines, the run's progress row and the audit entry
//   commit together or not at all.
// - Never twice: the partial unique index invoices(account_id, period_start, period_end) where not void
//   refuses a second live invoice, whichever run (this node or another) gets there second; that run
//   records the account as skipped.
// - Resumable: each account's progress row moves from pending to billed/skipped/failed in the same
//   transaction as its invoice, so a run interrupted anywhere continues with exactly the pending rows.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { BillRunsTable } from '../db/schema.billing.ts';
import { isPostgres } from '../db/dialect.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { buildInvoice, CurrencyConflict, type BuilderCharge, type BuilderSubscription } from './invoice.builder.ts';
import { after } from './keyset.ts';
import { isDate } from './period.ts';
import type { Pricing } from './rating.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** A run whose heartbeat is older than this is considered abandoned and may be resumed by hand. */
export const STALE_MS = 30_000;
/**
 * At start-up a node takes over 'running' runs only when their heartbeat is older than this: a live
 * node beats every HEARTBEAT_MS, so two minutes of silence means its process is gone (or frozen; then
 * both work on the run, which is still safe: each account leaves 'pending' once).
 */
export const ABANDONED_MS = 120_000;
export const HEARTBEAT_MS = 10_000;

export function toBillRun(r: BillRunsTable, counts?: { pending: number; billed: number; skipped: number; failed: number }) {
  const c = counts ?? { pending: r.total_accounts - r.billed - r.skipped - r.failed, billed: r.billed, skipped: r.skipped, failed: r.failed };
  return {
    id: r.id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    accountId: r.account_id,
    status: r.status,
    totalAccounts: r.total_accounts,
    pending: c.pending,
    billed: c.billed,
    skipped: c.skipped,
    failed: c.failed,
    progress: r.total_accounts ? (r.total_accounts - c.pending) / r.total_accounts : 1,
    createdBy: r.created_by,
    createdAt: r.created_at,
    heartbeatAt: r.heartbeat_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}
export type BillRun = ReturnType<typeof toBillRun>;

export interface StartInput {
  periodStart: string;
  periodEnd: string;
  accountId?: string | null;
}

/** Records the run and its pending accounts; the caller then runs `processBillRun` (in the background). */
export async function createBillRun(db: Kysely<DB>, actor: Actor, input: StartInput): Promise<BillRun> {
  const f: Record<string, string> = {};
  if (!isDate(input.periodStart)) f.periodStart = 'Enter a date as YYYY-MM-DD';
  if (!isDate(input.periodEnd)) f.periodEnd = 'Enter a date as YYYY-MM-DD';
  else if (isDate(input.periodStart) && input.periodEnd <= input.periodStart) f.periodEnd = 'The period must end after it starts';
  if (Object.keys(f).length) throw Invalid('Some fields need attention', f);
  const id = randomUUID();
  await db.transaction().execute(async (trx) => {
    if (input.accountId) {
      const a = await trx.selectFrom('accounts').select(['id', 'status']).where('id', '=', input.accountId).executeTakeFirst();
      if (!a) throw Invalid('No such account', { accountId: 'Choose an existing account' });
    }
    const now = nowIso();
    await trx.insertInto('bill_runs').values({ id, period_start: input.periodStart, period_end: input.periodEnd, account_id: input.accountId ?? null, status: 'running', total_accounts: 0, billed: 0, skipped: 0, failed: 0, created_by: actor.name, created_at: now, heartbeat_at: now, finished_at: null, error: null }).execute();
    let pick = trx.selectFrom('accounts').select([sql.lit(id).as('bill_run_id'), 'id as account_id', sql.lit('pending').as('status')]).where('status', '<>', 'closed');
    if (input.accountId) pick = pick.where('id', '=', input.accountId);
    await trx.insertInto('bill_run_accounts').columns(['bill_run_id', 'account_id', 'status']).expression(pick).execute();
    const n = await trx.selectFrom('bill_run_accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('bill_run_id', '=', id).executeTakeFirstOrThrow();
    await trx.updateTable('bill_runs').set({ total_accounts: Number(n.n) }).where('id', '=', id).execute();
    await recordAudit(trx, actor, { action: 'bill_run.start', targetType: 'bill_run', targetId: id, summary: `started a bill run for ${input.periodStart} to ${input.periodEnd} (${Number(n.n)} account${Number(n.n) === 1 ? '' : 's'})`, details: { ...input } });
  });
  return getBillRun(db, id);
}

interface LoadedAccount {
  id: string;
  number: string;
  name: string;
  currency: string;
  tax_rate: string;
}

async function loadSubscriptions(db: Db, accountIds: string[], period: { start: string; end: string }): Promise<Map<string, BuilderSubscription[]>> {
  if (!accountIds.length) return new Map();
  const subs = await db.selectFrom('subscriptions as s').innerJoin('products as p', 'p.id', 's.product_id')
    .select(['s.id', 's.account_id', 's.product_id', 's.quantity', 's.start_date', 's.end_date', 'p.name as product_name', 'p.currency'])
    .where('s.account_id', 'in', accountIds).where('s.start_date', '<', period.end)
    .where((eb) => eb.or([eb('s.end_date', 'is', null), eb('s.end_date', '>', period.start)]))
    .orderBy('s.start_date').orderBy('s.id').execute();
  const productIds = [...new Set(subs.map((s) => s.product_id))];
  const charges = productIds.length ? await db.selectFrom('charges').selectAll().where('product_id', 'in', productIds).orderBy('position').execute() : [];
  const chargesOf = new Map<string, BuilderCharge[]>();
  for (const c of charges) {
    chargesOf.set(c.product_id, [...(chargesOf.get(c.product_id) ?? []), { id: c.id, name: c.name, kind: c.kind, interval: c.billing_interval, amount: c.amount === null ? null : Number(c.amount), usageIdentifier: c.usage_identifier, pricing: c.pricing ? (JSON.parse(c.pricing) as Pricing) : null }]);
  }
  const out = new Map<string, BuilderSubscription[]>();
  for (const s of subs) {
    out.set(s.account_id, [...(out.get(s.account_id) ?? []), { id: s.id, productName: s.product_name, currency: s.currency, quantity: s.quantity, startDate: s.start_date, endDate: s.end_date, charges: chargesOf.get(s.product_id) ?? [] }]);
  }
  return out;
}

type Outcome = { status: 'billed'; invoiceId: string; total: number } | { status: 'skipped' | 'failed'; message: string };

async function billAccount(db: Kysely<DB>, actor: Actor, run: BillRunsTable, account: LoadedAccount, subs: BuilderSubscription[]): Promise<Outcome> {
  const period = { start: run.period_start, end: run.period_end };
  try {
    return await db.transaction().execute(async (trx) => {
      // Claim the account first: a write as the first statement takes SQLite's write lock up front
      // (no read-then-upgrade failure when another process writes), and a second worker on the same
      // run finds nothing pending.
      const invoiceId = randomUUID();
      const claimed = await trx.updateTable('bill_run_accounts').set({ status: 'billed', invoice_id: invoiceId, message: null }).where('bill_run_id', '=', run.id).where('account_id', '=', account.id).where('status', '=', 'pending').executeTakeFirst();
      if (!claimed.numUpdatedRows) return { status: 'skipped', message: 'Already processed by another worker' } as Outcome;
      if (isPostgres(trx)) await trx.selectFrom('accounts').select('id').where('id', '=', account.id).forUpdate().execute();
      // Read usage inside the transaction: usage ingestion refuses records for invoiced periods, and
      // on PostgreSQL the account lock above orders this read after any batch that locked it first.
      const usage = await trx.selectFrom('usage_records').select((eb) => ['identifier', eb.fn.sum<number>('quantity').as('qty')])
        .where('account_id', '=', account.id).where('occurred_at', '>=', period.start).where('occurred_at', '<', period.end).groupBy('identifier').execute();
      const draft = buildInvoice({ currency: account.currency, taxRate: account.tax_rate }, subs, new Map(usage.map((u) => [u.identifier, Number(u.qty)])), period);
      if (!draft.lines.length) {
        await trx.updateTable('bill_run_accounts').set({ status: 'skipped', invoice_id: null, message: 'Nothing to bill' }).where('bill_run_id', '=', run.id).where('account_id', '=', account.id).execute();
        return { status: 'skipped', message: 'Nothing to bill' } as Outcome;
      }
      const now = nowIso();
      await trx.insertInto('invoices').values({ id: invoiceId, number: null, account_id: account.id, bill_run_id: run.id, period_start: period.start, period_end: period.end, currency: account.currency, status: 'draft', subtotal: draft.subtotal, tax_rate: account.tax_rate, tax: draft.tax, total: draft.total, amount_paid: 0, memo: null, issue_date: null, due_date: null, finalized_at: null, paid_at: null, voided_at: null, void_reason: null, version: 1, created_at: now, updated_at: now }).execute();
      await trx.insertInto('invoice_lines').values(draft.lines.map((l, i) => ({ id: randomUUID(), invoice_id: invoiceId, kind: l.kind, description: l.description, charge_id: l.chargeId, subscription_id: l.subscriptionId, usage_identifier: l.usageIdentifier, quantity: l.quantity, period_start: l.periodStart, period_end: l.periodEnd, amount: l.amount, detail: l.detail ? JSON.stringify(l.detail) : null, position: i }))).execute();
      await recordAudit(trx, actor, { action: 'invoice.create', targetType: 'invoice', targetId: invoiceId, targetName: account.number, summary: `drafted invoice for ${account.number} ${account.name}, ${period.start} to ${period.end}: ${draft.total} ${account.currency}`, details: { billRunId: run.id, lines: draft.lines.length, total: draft.total } });
      return { status: 'billed', invoiceId, total: draft.total } as Outcome;
    });
  } catch (e) {
    if (isUniqueViolation(e)) return { status: 'skipped', message: 'Already invoiced for this period' };
    if (e instanceof CurrencyConflict) return { status: 'failed', message: e.message };
    return { status: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}

async function settle(db: Kysely<DB>, runId: string, accountId: string, o: Outcome) {
  if (o.status === 'billed') return;
  await db.updateTable('bill_run_accounts').set({ status: o.status, message: o.message }).where('bill_run_id', '=', runId).where('account_id', '=', accountId).where('status', '=', 'pending').execute();
}

export async function countByStatus(db: Db, runId: string) {
  const rows = await db.selectFrom('bill_run_accounts').select((eb) => ['status', eb.fn.countAll<number>().as('n')]).where('bill_run_id', '=', runId).groupBy('status').execute();
  const c = { pending: 0, billed: 0, skipped: 0, failed: 0 };
  for (const r of rows) c[r.status] = Number(r.n);
  return c;
}

/**
 * Works through the run's pending accounts until none is left (or `signal` aborts). Safe to call on
 * any node and more than once: each account's progress row only leaves 'pending' once.
 */
export async function processBillRun(db: Kysely<DB>, actor: Actor, runId: string, opts: { chunk?: number; signal?: AbortSignal; workers?: number } = {}): Promise<BillRun> {
  const run = await db.selectFrom('bill_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run) throw NotFound('No such bill run');
  const chunk = opts.chunk ?? 500;
  const period = { start: run.period_start, end: run.period_end };
  let lastId = '';
  // Beat while working, not only between chunks: a slow chunk must not look like a dead node.
  let beating: Promise<unknown> = Promise.resolve();
  const heartbeat = setInterval(() => {
    beating = db.updateTable('bill_runs').set({ heartbeat_at: nowIso() }).where('id', '=', runId).where('status', '=', 'running').execute().catch(() => undefined);
  }, HEARTBEAT_MS);
  heartbeat.unref();
  try {
    for (;;) {
      if (opts.signal?.aborted) break;
      const pending = await db.selectFrom('bill_run_accounts as b').innerJoin('accounts as a', 'a.id', 'b.account_id')
        .select(['a.id', 'a.number', 'a.name', 'a.currency', 'a.tax_rate'])
        .where('b.bill_run_id', '=', runId).where('b.status', '=', 'pending').where('b.account_id', '>', lastId)
        .orderBy('b.account_id').limit(chunk).execute();
      if (!pending.length) break;
      lastId = pending[pending.length - 1].id;
      const ids = pending.map((a) => a.id);
      // Accounts already invoiced for the period are skipped without a transaction (a second run is quick).
      const done = new Set((await db.selectFrom('invoices').select('account_id').where('account_id', 'in', ids).where('period_start', '=', period.start).where('period_end', '=', period.end).where('status', '<>', 'void').execute()).map((r) => r.account_id));
      if (done.size) await db.updateTable('bill_run_accounts').set({ status: 'skipped', message: 'Already invoiced for this period' }).where('bill_run_id', '=', runId).where('account_id', 'in', [...done]).where('status', '=', 'pending').execute();
      const subs = await loadSubscriptions(db, ids.filter((i) => !done.has(i)), period);
      // PostgreSQL commits in parallel on several pooled connections (each account still its own
      // transaction); SQLite has one writer, so more workers would only queue.
      const todo = pending.filter((a) => !done.has(a.id));
      let next = 0;
      const worker = async () => {
        while (next < todo.length && !opts.signal?.aborted) {
          const account = todo[next++];
          const outcome = await billAccount(db, actor, run, account, subs.get(account.id) ?? []);
          await settle(db, runId, account.id, outcome);
        }
      };
      await Promise.all(Array.from({ length: isPostgres(db) ? (opts.workers ?? 4) : 1 }, worker));
      const c = await countByStatus(db, runId);
      await db.updateTable('bill_runs').set({ billed: c.billed, skipped: c.skipped, failed: c.failed, heartbeat_at: nowIso() }).where('id', '=', runId).execute();
    }
  } catch (e) {
    clearInterval(heartbeat);
    await beating;
    await db.updateTable('bill_runs').set({ status: 'failed', error: e instanceof Error ? e.message : String(e), heartbeat_at: nowIso() }).where('id', '=', runId).execute();
    throw e;
  }
  clearInterval(heartbeat);
  await beating;
  const c = await countByStatus(db, runId);
  const finished = c.pending === 0;
  await db.transaction().execute(async (trx) => {
    const interrupted = !finished && opts.signal?.aborted ? { status: 'interrupted' as const, error: 'Interrupted when the server stopped; resume to bill the remaining accounts' } : {};
    await trx.updateTable('bill_runs').set({ billed: c.billed, skipped: c.skipped, failed: c.failed, heartbeat_at: nowIso(), ...interrupted, ...(finished ? { status: 'completed', finished_at: nowIso(), error: null } : {}) }).where('id', '=', runId).execute();
    if (finished) await recordAudit(trx, actor, { action: 'bill_run.complete', targetType: 'bill_run', targetId: runId, summary: `bill run ${period.start} to ${period.end} finished: ${c.billed} invoiced, ${c.skipped} skipped, ${c.failed} failed`, details: c });
  });
  return getBillRun(db, runId);
}

/** Claims an interrupted run for this node: refused while another node's heartbeat is fresh. */
export async function claimForResume(db: Kysely<DB>, actor: Actor, runId: string): Promise<BillRun> {
  const run = await db.selectFrom('bill_runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!run) throw NotFound('No such bill run');
  if (run.status === 'completed') throw Conflict('The bill run has finished; nothing to resume');
  const staleBefore = new Date(Date.now() - STALE_MS).toISOString();
  const res = await db.updateTable('bill_runs').set({ status: 'running', heartbeat_at: nowIso(), error: null }).where('id', '=', runId)
    .where((eb) => eb.or([eb('status', 'in', ['failed', 'interrupted']), eb('heartbeat_at', '<', staleBefore)])).executeTakeFirst();
  if (!res.numUpdatedRows) throw Conflict('The bill run is still running; its progress updates every few seconds');
  await recordAudit(db, actor, { action: 'bill_run.resume', targetType: 'bill_run', targetId: runId, summary: `resumed bill run ${run.period_start} to ${run.period_end}` });
  return getBillRun(db, runId);
}

/**
 * Start-up: claims the runs this node should continue — stopped when their server shut down
 * ('interrupted'), or left 'running' by a node whose heartbeat is older than `staleMs`. Runs that
 * failed on an error wait for a person (Resume), since the error would likely repeat. Each claim is
 * a conditional UPDATE on the status and heartbeat just read, so when several nodes start at once
 * exactly one of them takes each run; the others update nothing and leave it alone.
 */
export async function claimAbandonedRuns(db: Kysely<DB>, actor: Actor, opts: { staleMs?: number } = {}): Promise<string[]> {
  const staleBefore = new Date(Date.now() - (opts.staleMs ?? ABANDONED_MS)).toISOString();
  const candidates = await db.selectFrom('bill_runs').select(['id', 'status', 'heartbeat_at', 'period_start', 'period_end'])
    .where((eb) => eb.or([eb('status', '=', 'interrupted'), eb.and([eb('status', '=', 'running'), eb('heartbeat_at', '<', staleBefore)])]))
    .orderBy('created_at').execute();
  const claimed: string[] = [];
  for (const c of candidates) {
    const res = await db.updateTable('bill_runs').set({ status: 'running', heartbeat_at: nowIso(), error: null })
      .where('id', '=', c.id).where('status', '=', c.status).where('heartbeat_at', '=', c.heartbeat_at).executeTakeFirst();
    if (Number(res.numUpdatedRows) !== 1) continue;
    await recordAudit(db, actor, { action: 'bill_run.resume', targetType: 'bill_run', targetId: c.id, summary: `resumed bill run ${c.period_start} to ${c.period_end} at start-up (it was ${c.status === 'running' ? `left running, last heartbeat ${c.heartbeat_at}` : 'interrupted'})` });
    claimed.push(c.id);
  }
  return claimed;
}

export async function getBillRun(db: Db, id: string) {
  const r = await db.selectFrom('bill_runs').selectAll().where('id', '=', id).executeTakeFirst();
  if (!r) throw NotFound('No such bill run');
  return toBillRun(r, await countByStatus(db, id));
}

export async function billRunAccounts(db: Db, id: string, query: { status?: string; limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text']);
  let qb = db.selectFrom('bill_run_accounts as b').innerJoin('accounts as a', 'a.id', 'b.account_id').leftJoin('invoices as i', 'i.id', 'b.invoice_id')
    .select(['b.account_id', 'a.number', 'a.name', 'b.status', 'b.invoice_id', 'b.message', 'i.total', 'i.currency']).where('b.bill_run_id', '=', id);
  if (query.status) qb = qb.where('b.status', '=', query.status as 'pending');
  if (cur) qb = qb.where((eb) => after(eb, ['a.number'], cur, 'asc'));
  const rows = await qb.orderBy('a.number').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.number]);
  return { items: p.items.map((r) => ({ accountId: r.account_id, accountNumber: r.number, accountName: r.name, status: r.status, invoiceId: r.invoice_id, message: r.message, total: r.total === null ? null : Number(r.total), currency: r.currency })), nextCursor: p.nextCursor };
}

export async function listBillRuns(db: Db, query: { limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text', 'text']);
  let qb = db.selectFrom('bill_runs').selectAll();
  if (cur) qb = qb.where((eb) => after(eb, ['created_at', 'id'], cur, 'desc'));
  const rows = await qb.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.created_at, r.id]);
  return { items: p.items.map((r) => toBillRun(r)), nextCursor: p.nextCursor };
}
