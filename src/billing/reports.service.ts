// Reports: receivables aging, revenue by month, usage by product, and the home screen's figures.
// Amounts are per currency (never summed across currencies). Read-only; aggregate in SQL where the
// database can, bucket in code where the rule is date arithmetic that differs between dialects.
import type { Kysely, Transaction } from 'kysely';
import { sql } from 'kysely';
import type { DB } from '../db/schema.ts';
import { toCsv } from './csv.ts';
import { today } from './invoices.service.ts';
import { addMonths, daysBetween, monthStart } from './period.ts';
import { toDecimalString } from './money.ts';
import { dayParam } from '../platform/time-query.ts';

type Db = Kysely<DB> | Transaction<DB>;

export const AGING_BUCKETS = ['current', 'days1to30', 'days31to60', 'days61to90', 'days90plus'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];
export const AGING_LABELS: Record<AgingBucket, string> = { current: 'Current', days1to30: '1–30 days', days31to60: '31–60 days', days61to90: '61–90 days', days90plus: '90+ days' };

export function agingBucket(dueDate: string, asOf: string): AgingBucket {
  const late = daysBetween(dueDate, asOf);
  if (late <= 0) return 'current';
  if (late <= 30) return 'days1to30';
  if (late <= 60) return 'days31to60';
  if (late <= 90) return 'days61to90';
  return 'days90plus';
}

type Buckets = Record<AgingBucket, number> & { total: number };
const emptyBuckets = (): Buckets => ({ current: 0, days1to30: 0, days31to60: 0, days61to90: 0, days90plus: 0, total: 0 });

export async function agingReport(db: Db, query: { asOf?: string; currency?: string }) {
  // A day that does not exist is a 400 naming asOf: it fell back to today, a report of another day.
  const asOf = dayParam('asOf', query.asOf) ?? today();
  let qb = db.selectFrom('invoices as i').innerJoin('accounts as a', 'a.id', 'i.account_id')
    .select(['i.account_id', 'a.number', 'a.name', 'i.currency', 'i.due_date', 'i.total', 'i.amount_paid'])
    .where('i.status', '=', 'finalized').where('i.issue_date', '<=', asOf);
  if (query.currency) qb = qb.where('i.currency', '=', query.currency);
  const rows = await qb.execute();
  const byAccount = new Map<string, { accountId: string; accountNumber: string; accountName: string; currency: string } & Buckets>();
  const totals = new Map<string, Buckets>();
  for (const r of rows) {
    const due = Number(r.total) - Number(r.amount_paid);
    if (due <= 0) continue;
    const b = agingBucket(r.due_date!, asOf);
    const key = `${r.account_id}|${r.currency}`;
    const acc = byAccount.get(key) ?? { accountId: r.account_id, accountNumber: r.number, accountName: r.name, currency: r.currency, ...emptyBuckets() };
    acc[b] += due;
    acc.total += due;
    byAccount.set(key, acc);
    const t = totals.get(r.currency) ?? emptyBuckets();
    t[b] += due;
    t.total += due;
    totals.set(r.currency, t);
  }
  const items = [...byAccount.values()].sort((a, b) => b.total - a.total || a.accountNumber.localeCompare(b.accountNumber));
  return { asOf, buckets: AGING_BUCKETS.map((k) => ({ key: k, label: AGING_LABELS[k] })), items, totals: [...totals.entries()].map(([currency, t]) => ({ currency, ...t })) };
}

export function agingCsv(r: Awaited<ReturnType<typeof agingReport>>): string {
  return toCsv(
    ['account_number', 'account_name', 'currency', ...AGING_BUCKETS, 'total'],
    r.items.map((i) => [i.accountNumber, i.accountName, i.currency, ...AGING_BUCKETS.map((b) => toDecimalString(i[b], i.currency)), toDecimalString(i.total, i.currency)]),
  );
}

function monthRange(months: number, end?: string): { from: string; to: string; list: string[] } {
  const n = Math.min(Math.max(months, 1), 36);
  const to = addMonths(monthStart(dayParam('end', end) ?? today()), 1);
  const from = addMonths(to, -n);
  const list: string[] = [];
  for (let m = from; m < to; m = addMonths(m, 1)) list.push(m.slice(0, 7));
  return { from, to, list };
}

export async function revenueReport(db: Db, query: { months?: number; currency?: string; end?: string }) {
  const { from, to, list } = monthRange(query.months ?? 12, query.end);
  const month = (col: string) => sql<string>`substr(${sql.ref(col)}, 1, 7)`;
  let inv = db.selectFrom('invoices').select((eb) => ['currency', month('issue_date').as('month'), eb.fn.sum<number>('total').as('invoiced'), eb.fn.sum<number>('tax').as('tax'), eb.fn.countAll<number>().as('count')])
    .where('status', 'in', ['finalized', 'paid']).where('issue_date', '>=', from).where('issue_date', '<', to).groupBy(['currency', month('issue_date')]);
  let pay = db.selectFrom('payments').select((eb) => ['currency', month('received_on').as('month'), eb.fn.sum<number>('amount').as('collected')])
    .where('received_on', '>=', from).where('received_on', '<', to).groupBy(['currency', month('received_on')]);
  if (query.currency) {
    inv = inv.where('currency', '=', query.currency);
    pay = pay.where('currency', '=', query.currency);
  }
  const [invRows, payRows] = await Promise.all([inv.execute(), pay.execute()]);
  const currencies = [...new Set([...invRows.map((r) => r.currency), ...payRows.map((r) => r.currency)])].sort();
  const series = currencies.map((currency) => ({
    currency,
    months: list.map((m) => {
      const i = invRows.find((r) => r.currency === currency && r.month === m);
      const p = payRows.find((r) => r.currency === currency && r.month === m);
      return { month: m, invoiced: Number(i?.invoiced ?? 0), tax: Number(i?.tax ?? 0), invoices: Number(i?.count ?? 0), collected: Number(p?.collected ?? 0) };
    }),
  }));
  return { from, to, series };
}

export function revenueCsv(r: Awaited<ReturnType<typeof revenueReport>>): string {
  return toCsv(['currency', 'month', 'invoices', 'invoiced', 'tax', 'collected'], r.series.flatMap((s) => s.months.map((m) => [s.currency, m.month, m.invoices, toDecimalString(m.invoiced, s.currency), toDecimalString(m.tax, s.currency), toDecimalString(m.collected, s.currency)])));
}

export async function usageReport(db: Db, query: { months?: number; end?: string; identifier?: string }) {
  const { from, to, list } = monthRange(query.months ?? 6, query.end);
  const month = sql<string>`substr(occurred_at, 1, 7)`;
  let qb = db.selectFrom('usage_records').select((eb) => ['identifier', month.as('month'), eb.fn.sum<number>('quantity').as('quantity'), eb.fn.countAll<number>().as('records')])
    .where('occurred_at', '>=', from).where('occurred_at', '<', to).groupBy(['identifier', month]);
  if (query.identifier) qb = qb.where('identifier', '=', query.identifier);
  const [rows, names] = await Promise.all([
    qb.execute(),
    db.selectFrom('charges as c').innerJoin('products as p', 'p.id', 'c.product_id').select(['c.usage_identifier', 'p.name', 'p.code', 'c.name as charge_name']).where('c.usage_identifier', 'is not', null).execute(),
  ]);
  const nameOf = new Map(names.map((n) => [n.usage_identifier!, { productName: n.name, productCode: n.code, chargeName: n.charge_name }]));
  const identifiers = [...new Set(rows.map((r) => r.identifier))].sort();
  return {
    from,
    to,
    products: identifiers.map((identifier) => ({
      identifier,
      ...(nameOf.get(identifier) ?? { productName: identifier, productCode: null, chargeName: null }),
      months: list.map((m) => {
        const r = rows.find((x) => x.identifier === identifier && x.month === m);
        return { month: m, quantity: Number(r?.quantity ?? 0), records: Number(r?.records ?? 0) };
      }),
    })),
  };
}

export function usageCsv(r: Awaited<ReturnType<typeof usageReport>>): string {
  return toCsv(['product', 'identifier', 'month', 'quantity', 'records'], r.products.flatMap((p) => p.months.map((m) => [p.productName, p.identifier, m.month, m.quantity, m.records])));
}

/** The figures a billing lead checks each morning. */
export async function homeFigures(db: Db) {
  const now = today();
  const thisMonth = monthStart(now);
  const nextMonth = addMonths(thisMonth, 1);
  const [open, issued, overdue, drafts, failedRows, runs] = await Promise.all([
    db.selectFrom('invoices').select((eb) => ['currency', eb.fn.sum<number>(eb('total', '-', eb.ref('amount_paid'))).as('amount'), eb.fn.countAll<number>().as('count')]).where('status', '=', 'finalized').groupBy('currency').execute(),
    db.selectFrom('invoices').select((eb) => ['currency', eb.fn.sum<number>('total').as('amount'), eb.fn.countAll<number>().as('count')]).where('status', 'in', ['finalized', 'paid']).where('issue_date', '>=', thisMonth).where('issue_date', '<', nextMonth).groupBy('currency').execute(),
    db.selectFrom('invoices').select((eb) => ['currency', eb.fn.sum<number>(eb('total', '-', eb.ref('amount_paid'))).as('amount'), eb.fn.countAll<number>().as('count')]).where('status', '=', 'finalized').where('due_date', '<', now).groupBy('currency').execute(),
    db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('count')).where('status', '=', 'draft').executeTakeFirstOrThrow(),
    db.selectFrom('usage_uploads').select((eb) => [eb.fn.coalesce(eb.fn.sum<number>('rejected'), eb.lit(0)).as('rows'), eb.fn.countAll<number>().as('uploads')]).where('created_at', '>=', thisMonth).where('rejected', '>', 0).executeTakeFirstOrThrow(),
    db.selectFrom('bill_runs').selectAll().where('status', '=', 'running').orderBy('created_at', 'desc').limit(5).execute(),
  ]);
  const money = (rows: { currency: string; amount: number | string | null; count: number | string }[]) => rows.map((r) => ({ currency: r.currency, amount: Number(r.amount ?? 0), count: Number(r.count) }));
  return {
    asOf: now,
    openReceivables: money(open),
    invoicesThisMonth: { count: issued.reduce((s, r) => s + Number(r.count), 0), byCurrency: money(issued) },
    overdue: { count: overdue.reduce((s, r) => s + Number(r.count), 0), byCurrency: money(overdue) },
    draftInvoices: Number(drafts.count),
    failedUsageRows: { rows: Number(failedRows.rows), uploads: Number(failedRows.uploads), since: thisMonth },
    runningBillRuns: runs.map((r) => ({ id: r.id, periodStart: r.period_start, periodEnd: r.period_end, totalAccounts: r.total_accounts, billed: r.billed, skipped: r.skipped, failed: r.failed })),
  };
}
