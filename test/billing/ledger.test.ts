// Billing integrity on a real database: gap-free numbering, bill runs that never bill twice (even two
// at once on two nodes), payments that never over-allocate, and the balance invariant after seeded
// random operations.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { onPostgres, openTestDatabase, type TestDb } from './db.ts';
import { actor, billPeriod, monthlyProduct, subscribedAccount } from './fixtures.ts';
import { nextValue } from '../../src/billing/counters.repo.ts';
import { finalizeInvoice, listInvoices, voidInvoice } from '../../src/billing/invoices.service.ts';
import { accountBalance } from '../../src/billing/accounts.service.ts';
import { issueCredit, recordPayment } from '../../src/billing/payments.service.ts';
import { createBillRun, processBillRun } from '../../src/billing/billruns.service.ts';
import { addMonths } from '../../src/billing/period.ts';

let t: TestDb;
before(async () => {
  t = await openTestDatabase();
});
after(async () => {
  await t.dispose();
});

async function draftsFor(accountId: string) {
  return (await listInvoices(t.db, { accountId, status: 'draft', limit: 200 })).items;
}

test('invoice numbers are sequential without gaps, even when a finalization rolls back', async () => {
  const p = await monthlyProduct(t.db, 1000);
  const accounts = await Promise.all(Array.from({ length: 6 }, () => subscribedAccount(t.db, p.id)));
  await billPeriod(t.db, '2026-01-01', '2026-02-01');
  const drafts = (await Promise.all(accounts.map((a) => draftsFor(a.id)))).flat();
  assert.equal(drafts.length, 6);
  const start = Number((await t.db.selectFrom('billing_counters').select('value').where('name', '=', 'invoice').executeTakeFirstOrThrow()).value);
  // A finalization that fails after taking a number gives it back.
  await assert.rejects(t.db.transaction().execute(async (trx) => {
    await nextValue(trx, 'invoice');
    throw new Error('boom');
  }), /boom/);
  // Finalize concurrently (real parallel transactions on PostgreSQL).
  const done = await Promise.all(drafts.map((d) => finalizeInvoice(t.db, actor, d.id, { issueDate: '2026-02-01' })));
  const numbers = done.map((d) => Number(d.number!.slice(4))).sort((a, b) => a - b);
  assert.deepEqual(numbers, Array.from({ length: 6 }, (_, i) => start + 1 + i));
});

test('a bill run started twice at once on two nodes bills each account and period once', async () => {
  const p = await monthlyProduct(t.db, 2500);
  const accounts = await Promise.all(Array.from({ length: 12 }, () => subscribedAccount(t.db, p.id)));
  const r1 = await createBillRun(t.db, actor, { periodStart: '2026-03-01', periodEnd: '2026-04-01' });
  const r2 = await createBillRun(t.db, actor, { periodStart: '2026-03-01', periodEnd: '2026-04-01' });
  // The second node is a separate process on the same database, as in production.
  const script = fileURLToPath(new URL('./second-node.ts', import.meta.url));
  const [a, bOut] = await Promise.all([
    processBillRun(t.db, actor, r1.id, { chunk: 5 }),
    promisify(execFile)(process.execPath, ['--import', 'tsx', script, t.url, r2.id], { env: { ...process.env, SQLITE_SYNCHRONOUS: 'NORMAL' } }),
  ]);
  const b = JSON.parse(bOut.stdout);
  assert.equal(a.status, 'completed');
  assert.equal(b.status, 'completed');
  const ids = accounts.map((x) => x.id);
  const rows = await t.db.selectFrom('invoices').select(['account_id', (eb) => eb.fn.countAll<number>().as('n')]).where('account_id', 'in', ids).where('period_start', '=', '2026-03-01').groupBy('account_id').execute();
  assert.equal(rows.length, 12);
  assert.ok(rows.every((r) => Number(r.n) === 1));
  // Between them the two runs billed each account exactly once; the other run skipped it.
  const billed = await t.db.selectFrom('bill_run_accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('bill_run_id', 'in', [r1.id, r2.id]).where('account_id', 'in', ids).where('status', '=', 'billed').executeTakeFirstOrThrow();
  assert.equal(Number(billed.n), 12);
  // A third run of the same period bills nothing.
  const again = await billPeriod(t.db, '2026-03-01', '2026-04-01');
  assert.equal(again.billed, 0);
});

test('concurrent payments against one invoice never over-allocate it', async () => {
  const p = await monthlyProduct(t.db, 10000);
  const acct = await subscribedAccount(t.db, p.id);
  await billPeriod(t.db, '2026-01-01', '2026-02-01', acct.id);
  const [draft] = await draftsFor(acct.id);
  const inv = await finalizeInvoice(t.db, actor, draft.id);
  // On PostgreSQL half the attempts come through a second connection pool (another node).
  const node2 = onPostgres ? t.secondNode() : t;
  const attempts = await Promise.allSettled(
    Array.from({ length: 8 }, (_, i) => recordPayment(i % 2 ? node2.db : t.db, actor, { accountId: acct.id, amount: 6000, currency: 'USD', method: 'bank_transfer', allocations: [{ invoiceId: inv.id, amount: 6000 }] })),
  );
  const ok = attempts.filter((a) => a.status === 'fulfilled');
  assert.equal(ok.length, 1, 'only one 6000 allocation fits a 10000 invoice');
  const row = await t.db.selectFrom('invoices').select(['amount_paid', 'total']).where('id', '=', inv.id).executeTakeFirstOrThrow();
  assert.equal(Number(row.amount_paid), 6000);
  const sum = await t.db.selectFrom('allocations').select((eb) => eb.fn.sum<number>('amount').as('s')).where('invoice_id', '=', inv.id).executeTakeFirstOrThrow();
  assert.equal(Number(sum.s), 6000);
});

// mulberry32: a small seeded PRNG so a failing sequence can be replayed.
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

async function checkInvariant(accountId: string, label: string) {
  const b = await accountBalance(t.db, accountId, 'USD');
  assert.equal(b.balance, b.invoiced - b.payments - b.credits, label);
  assert.equal(b.balance, b.openReceivables - b.availableCredit, `${label}: ledger balance ${b.balance} ≠ open ${b.openReceivables} − credit ${b.availableCredit}`);
  const bad = await sql<{ n: number }>`select count(*) as n from invoices i where i.account_id = ${accountId} and i.amount_paid <> coalesce((select sum(a.amount) from allocations a where a.invoice_id = i.id), 0)`.execute(t.db);
  assert.equal(Number(bad.rows[0].n), 0, `${label}: allocations disagree with amounts paid`);
  const badPay = await sql<{ n: number }>`select count(*) as n from payments p where p.account_id = ${accountId} and p.unallocated <> p.amount - coalesce((select sum(a.amount) from allocations a where a.payment_id = p.id), 0)`.execute(t.db);
  assert.equal(Number(badPay.rows[0].n), 0, `${label}: payment remainders disagree with allocations`);
}

test('balance equals invoices minus payments minus credits after random operations', async () => {
  const seed = Number(process.env.BILLING_SEED ?? 20261128);
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const p = await monthlyProduct(t.db, 4999);
  const accounts = await Promise.all(Array.from({ length: 3 }, () => subscribedAccount(t.db, p.id, { start: '2024-01-15' })));
  const month = new Map(accounts.map((a) => [a.id, '2024-01-01']));
  for (let step = 0; step < 60; step++) {
    const acct = pick(accounts);
    const op = rand();
    const label = `seed ${seed} step ${step}`;
    if (op < 0.3) {
      const m = month.get(acct.id)!;
      month.set(acct.id, addMonths(m, 1));
      await billPeriod(t.db, m, addMonths(m, 1), acct.id);
      for (const d of await draftsFor(acct.id)) await finalizeInvoice(t.db, actor, d.id);
    } else if (op < 0.6) {
      const open = (await listInvoices(t.db, { accountId: acct.id, status: 'finalized' })).items;
      const amount = 1 + Math.floor(rand() * 9000);
      const choose = open.length && rand() < 0.4 ? [{ invoiceId: pick(open).id }] : undefined;
      await recordPayment(t.db, actor, { accountId: acct.id, amount, currency: 'USD', method: 'card', allocations: choose });
    } else if (op < 0.75) {
      await issueCredit(t.db, actor, { accountId: acct.id, amount: 1 + Math.floor(rand() * 3000), currency: 'USD', reason: 'goodwill' });
    } else if (op < 0.85) {
      const live = (await listInvoices(t.db, { accountId: acct.id, limit: 200 })).items.filter((i) => i.status !== 'void' && i.status !== 'draft');
      if (live.length) await voidInvoice(t.db, actor, pick(live).id, 'test void');
    } else {
      // Wrong currency is refused and changes nothing.
      await assert.rejects(recordPayment(t.db, actor, { accountId: acct.id, amount: 100, currency: 'EUR', method: 'card' }), /billed in USD/);
    }
    await checkInvariant(acct.id, label);
  }
  for (const a of accounts) await checkInvariant(a.id, 'final');
});

test('an interrupted bill run resumes with exactly the accounts it had not billed', async () => {
  const p = await monthlyProduct(t.db, 700);
  const accounts = await Promise.all(Array.from({ length: 10 }, () => subscribedAccount(t.db, p.id, { start: '2026-05-01' })));
  const run = await createBillRun(t.db, actor, { periodStart: '2026-05-01', periodEnd: '2026-06-01' });
  const stop = new AbortController();
  // Abort after the first chunk of 3 accounts.
  let seen = 0;
  const orig = t.db.transaction.bind(t.db);
  (t.db as any).transaction = () => {
    if (++seen === 4) stop.abort();
    return orig();
  };
  const partial = await processBillRun(t.db, actor, run.id, { chunk: 3, signal: stop.signal }).finally(() => {
    (t.db as any).transaction = orig;
  });
  assert.equal(partial.status, 'interrupted');
  assert.ok(partial.pending > 0 && partial.pending < partial.totalAccounts);
  const { claimForResume } = await import('../../src/billing/billruns.service.ts');
  await claimForResume(t.db, actor, run.id);
  const finished = await processBillRun(t.db, actor, run.id);
  assert.equal(finished.status, 'completed');
  const n = await t.db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', 'in', accounts.map((a) => a.id)).where('period_start', '=', '2026-05-01').executeTakeFirstOrThrow();
  assert.equal(Number(n.n), 10);
  const byRun = await t.db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).where('bill_run_id', '=', run.id).executeTakeFirstOrThrow();
  assert.equal(Number(byRun.n), finished.billed);
  assert.equal(finished.pending, 0);
});

test('usage for a period already invoiced is refused rather than silently never billed', async () => {
  const { ingestUsage } = await import('../../src/billing/usage.service.ts');
  const p = await monthlyProduct(t.db, 100, 'USD', `late_calls_${Date.now()}`);
  const ident = p.charges[1].usageIdentifier!;
  const acct = await subscribedAccount(t.db, p.id, { start: '2026-06-01' });
  await ingestUsage(t.db, actor, [{ accountId: acct.id, identifier: ident, quantity: 5, occurredAt: '2026-06-10T00:00:00Z', idempotencyKey: `late-1-${acct.id}` }]);
  await billPeriod(t.db, '2026-06-01', '2026-07-01', acct.id);
  await assert.rejects(
    ingestUsage(t.db, actor, [{ accountId: acct.id, identifier: ident, quantity: 5, occurredAt: '2026-06-11T00:00:00Z', idempotencyKey: `late-2-${acct.id}` }]),
    (e: any) => /already invoiced/.test(e.fields?.['records.0.occurredAt'] ?? ''),
  );
  // The same key again is still a duplicate of the original, not an error.
  const dup = await ingestUsage(t.db, actor, [{ accountId: acct.id, identifier: ident, quantity: 5, occurredAt: '2026-07-01T00:00:00Z', idempotencyKey: `late-1-${acct.id}` }]);
  assert.equal(dup.items[0].duplicate, true);
  assert.equal(dup.items[0].occurredAt, '2026-06-10T00:00:00.000Z');
});

test('when several nodes start at once, each abandoned run is taken over by exactly one of them', async () => {
  const { claimAbandonedRuns } = await import('../../src/billing/billruns.service.ts');
  const p = await monthlyProduct(t.db, 900);
  const runs: Awaited<ReturnType<typeof createBillRun>>[] = [];
  for (const start of ['2027-01-01', '2027-02-01', '2027-03-01']) {
    const a = await subscribedAccount(t.db, p.id, { start: '2026-12-01' });
    runs.push(await createBillRun(t.db, actor, { periodStart: start, periodEnd: addMonths(start, 1), accountId: a.id }));
  }
  const [stale, fresh, interrupted] = runs;
  await t.db.updateTable('bill_runs').set({ heartbeat_at: new Date(Date.now() - 121_000).toISOString() }).where('id', '=', stale.id).execute();
  await processBillRun(t.db, actor, interrupted.id, { signal: AbortSignal.abort() });
  const nodes = [t.db, t.secondNode().db, t.secondNode().db];
  const claims = await Promise.all(nodes.map((db) => claimAbandonedRuns(db, actor)));
  const mine = claims.map((ids) => ids.filter((id) => runs.some((r) => r.id === id)));
  assert.deepEqual(mine.flat().sort(), [stale.id, interrupted.id].sort(), JSON.stringify(mine));
  // Claimed runs are 'running' again with a fresh heartbeat; the fresh run was left alone.
  const rows = await t.db.selectFrom('bill_runs').select(['id', 'status', 'heartbeat_at']).where('id', 'in', runs.map((r) => r.id)).execute();
  for (const r of rows) {
    assert.equal(r.status, 'running');
    assert.ok(Date.now() - Date.parse(r.heartbeat_at) < 60_000);
  }
  assert.equal(rows.find((r) => r.id === fresh.id)!.heartbeat_at, fresh.heartbeatAt);
  // A second sweep right after finds nothing: the claims refreshed the heartbeats.
  assert.deepEqual((await claimAbandonedRuns(t.db, actor)).filter((id) => runs.some((r) => r.id === id)), []);
});

