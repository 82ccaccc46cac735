// npm run bench:billing [-- --accounts 10000] [--records 100] [--pg] [--batch 2000] [--concurrency 2]
// Starts Ledgerline (src/main.ts, its own process) on a fresh SQLite file, or a fresh PostgreSQL
// database with --pg, seeds N accounts subscribed to one product with a usage charge, then measures:
//  1. usage ingestion through the batch API (POST /api/usage {records}), every record with an
//     idempotency key; then re-sends a sample of batches and checks nothing is counted twice;
//  2. the machine's ceiling: a plain batched INSERT of the same rows into a scratch table with the
//     same indexes, straight through the driver (no HTTP, no validation);
//  3. a bill run over all accounts (POST /api/bill-runs, polled until done) and its invoice count;
//  4. a second bill run of the same period, which must bill nothing.
import os from 'node:os';
import { randomBytes, randomUUID } from 'node:crypto';
import { CompiledQuery, sql } from 'kysely';
import { batchInsertSql, batchParams } from '../src/billing/usage.service.ts';
import { migrate, openDatabase, type Database } from '../src/db/database.ts';
import { createLocalAdmin } from '../src/identity/users.service.ts';
import { systemActor } from '../src/platform/actor.ts';
import { scratchDatabase } from '../test/helpers/scratch.ts';
import { createProduct } from '../src/billing/products.service.ts';
import { flag, fmt, option, PG_URL, startServer, type StartedServer } from './common.ts';

const ACCOUNTS = Number(option('--accounts', '10000'));
const PER_ACCOUNT = Number(option('--records', '100'));
const BATCH = Number(option('--batch', '2000'));
const CONC = Number(option('--concurrency', '2'));
const USE_PG = flag('--pg');
/** SQLite only: the server's SQLITE_SYNCHRONOUS (FULL, the default, fsyncs every commit). */
const SYNC = option('--sync', process.env.SQLITE_SYNCHRONOUS || 'FULL');
/** account: each account's records together (an export per customer); interleaved: every batch holds one
 * record for each of BATCH accounts (a live meter feed; worst case for index locality). */
const ORDER = option('--order', 'account') as 'account' | 'interleaved';
const PERIOD = { start: '2026-01-01', end: '2026-02-01' };

const log = (s: string) => process.stdout.write(s + '\n');

/** Seeds accounts and subscriptions with bulk inserts (setup, not measured). */
async function seed(database: Database): Promise<string[]> {
  const db = database.db;
  const product = await createProduct(db, systemActor('bench'), {
    code: 'API',
    name: 'API platform',
    currency: 'USD',
    charges: [
      { name: 'Platform fee', kind: 'recurring', interval: 'month', amount: 4900 },
      { name: 'API calls', kind: 'usage', usageIdentifier: 'api_calls', pricing: { model: 'graduated', tiers: [{ upTo: 1000, unitPrice: '0' }, { upTo: 100000, unitPrice: '0.002' }, { upTo: null, unitPrice: '0.001' }] } },
    ],
  });
  const now = new Date().toISOString();
  const numbers: string[] = [];
  for (let i = 0; i < ACCOUNTS; i += 500) {
    const accounts = [];
    const subs = [];
    for (let j = i; j < Math.min(i + 500, ACCOUNTS); j++) {
      const id = randomUUID();
      const number = `A-${String(j + 1).padStart(6, '0')}`;
      numbers.push(number);
      accounts.push({ id, number, name: `Customer ${j + 1}`, contact_name: null, contact_email: null, contact_phone: null, address_line1: null, address_line2: null, city: null, region: null, postal_code: null, country: null, currency: 'USD', payment_terms_days: 30, status: 'active' as const, notes: null, tax_rate: '8.875', version: 1, created_at: now, updated_at: now });
      subs.push({ id: randomUUID(), account_id: id, product_id: product.id, quantity: 1, start_date: j % 10 === 0 ? '2026-01-15' : '2025-06-01', end_date: null, status: 'active' as const, version: 1, created_at: now, updated_at: now });
    }
    await db.insertInto('accounts').values(accounts).execute();
    await db.insertInto('subscriptions').values(subs).execute();
  }
  await db.updateTable('billing_counters').set({ value: ACCOUNTS }).where('name', '=', 'account').execute();
  return numbers;
}

function usageRows(numbers: string[]) {
  const rows: { accountNumber: string; identifier: string; quantity: number; occurredAt: string; idempotencyKey: string }[] = [];
  const rec = (number: string, n: number) => {
    const day = String(1 + (n % 31)).padStart(2, '0');
    rows.push({ accountNumber: number, identifier: 'api_calls', quantity: 1 + ((n * 7919) % 500), occurredAt: `2026-01-${day}T${String(n % 24).padStart(2, '0')}:00:00Z`, idempotencyKey: `${number}-${n}` });
  };
  if (ORDER === 'account') for (const number of numbers) for (let n = 0; n < PER_ACCOUNT; n++) rec(number, n);
  else for (let n = 0; n < PER_ACCOUNT; n++) for (const number of numbers) rec(number, n);
  return rows;
}

async function post(base: string, cookie: string, csrf: string, p: string, body: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(base + p, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() };
}

async function ceiling(database: Database, rows: ReturnType<typeof usageRows>, accountIds: Map<string, string>, withIndexes: boolean): Promise<number> {
  const db = database.db;
  const pgsql = database.dialect === 'postgres';
  await sql.raw(`create table usage_ceiling (id ${pgsql ? 'bigserial primary key' : 'integer primary key autoincrement'}, account_id text not null, identifier text not null, quantity ${pgsql ? 'bigint' : 'integer'} not null, occurred_at text not null, idempotency_key text not null${withIndexes ? ' unique' : ''}, upload_id text, created_at text not null)`).execute(db);
  if (withIndexes) await sql.raw('create index usage_ceiling_acct on usage_ceiling (account_id, occurred_at, identifier, quantity)').execute(db);
  const n = Math.min(rows.length, 200_000);
  const now = new Date().toISOString();
  const t0 = performance.now();
  for (let i = 0; i < n; i += BATCH) {
    const chunk = rows.slice(i, Math.min(i + BATCH, n)).map((r) => ({ account_id: accountIds.get(r.accountNumber)!, identifier: r.identifier, quantity: r.quantity, occurred_at: r.occurredAt, idempotency_key: r.idempotencyKey, upload_id: null, created_at: now }));
    await db.transaction().execute(async (trx) => {
      for (let j = 0; j < chunk.length; j += 1000) {
        const part = chunk.slice(j, j + 1000);
        await trx.executeQuery(CompiledQuery.raw(batchInsertSql(pgsql, part.length, 'usage_ceiling', false), batchParams(part)));
      }
    });
  }
  const rate = n / ((performance.now() - t0) / 1000);
  await sql.raw('drop table usage_ceiling').execute(db);
  return rate;
}

async function main() {
  const fresh = await scratchDatabase({ postgres: USE_PG, prefix: 'll_bench_billing', adminUrl: PG_URL });
  const database = openDatabase(fresh.url);
  let server: StartedServer | null = null;
  try {
    await migrate(database);
    log(`# Ledgerline billing benchmark — ${USE_PG ? 'PostgreSQL' : 'SQLite'}, ${fmt(ACCOUNTS)} accounts × ${PER_ACCOUNT} usage records, batch ${BATCH}, ${ORDER} order, ${CONC} clients${USE_PG ? '' : `, synchronous=${SYNC}`}, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    const numbers = await seed(database);
    const accountIds = new Map((await database.db.selectFrom('accounts').select(['id', 'number']).execute()).map((a) => [a.number, a.id]));
    const password = `Bench-${randomBytes(9).toString('base64url')}`;
    await createLocalAdmin(database.db, systemActor('bench'), 'bench-admin', password);

    server = await startServer(fresh.url, { env: { SQLITE_SYNCHRONOUS: SYNC } });
    const { base } = server;
    const login = await fetch(`${base}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: base }, body: JSON.stringify({ username: 'bench-admin', password }) });
    if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${await login.text()}`);
    const cookie = login.headers.getSetCookie().find((c) => c.startsWith('ll_session='))!.split(';')[0];
    const csrf = ((await (await fetch(`${base}/api/me`, { headers: { cookie } })).json()) as { csrfToken: string }).csrfToken;

    // 1. Ingestion through the batch API.
    const rows = usageRows(numbers);
    const batches: (typeof rows)[] = [];
    for (let i = 0; i < rows.length; i += BATCH) batches.push(rows.slice(i, i + BATCH));
    let next = 0;
    let created = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: CONC }, async () => {
      while (next < batches.length) {
        const b = batches[next++];
        const r = await post(base, cookie, csrf, '/api/usage', { records: b });
        if (r.status !== 200) throw new Error(`batch refused: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
        created += r.body.created;
      }
    }));
    const ingestSecs = (performance.now() - t0) / 1000;
    if (created !== rows.length) throw new Error(`created ${created}, expected ${rows.length}`);
    const ingestRate = rows.length / ingestSecs;
    log(`usage ingest (batch API, idempotency keys): ${fmt(rows.length)} records in ${fmt(ingestSecs, 1)} s = ${fmt(ingestRate)} records/s`);

    // Idempotency: re-sending batches counts nothing again.
    const sample = batches.filter((_, i) => i % Math.max(1, Math.floor(batches.length / 10)) === 0).slice(0, 10);
    const t1 = performance.now();
    let dupes = 0;
    for (const b of sample) {
      const r = await post(base, cookie, csrf, '/api/usage', { records: b });
      if (r.status !== 200 || r.body.created !== 0) throw new Error(`retry created ${r.body.created} records`);
      dupes += r.body.duplicates;
    }
    const retrySecs = (performance.now() - t1) / 1000;
    const stored = Number((await database.db.selectFrom('usage_records').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    if (stored !== rows.length) throw new Error(`stored ${stored}, expected ${rows.length}`);
    log(`retried ${fmt(sample.length)} batches (${fmt(dupes)} records): 0 created, all answered as duplicates (${fmt(dupes / retrySecs)} records/s); table holds exactly ${fmt(stored)}`);

    // 2. Ceiling: plain batched insert of the same rows, same indexes, through the driver.
    const bare = await ceiling(database, rows, accountIds, false);
    const ceil = await ceiling(database, rows, accountIds, true);
    log(`ceiling, plain batched INSERT through the driver (no HTTP, no validation), same row order: ${fmt(bare)} rows/s into a table without indexes; ${fmt(ceil)} rows/s with usage_records' unique key and covering index → the API reaches ${fmt((100 * ingestRate) / ceil)}% of the indexed ceiling`);

    // 3. Bill run over every account.
    const runOnce = async () => {
      const s = performance.now();
      const r = await post(base, cookie, csrf, '/api/bill-runs', { periodStart: PERIOD.start, periodEnd: PERIOD.end });
      if (r.status !== 202) throw new Error(`bill run refused: ${r.status} ${JSON.stringify(r.body)}`);
      for (;;) {
        await new Promise((res) => setTimeout(res, 200));
        const g = (await (await fetch(`${base}/api/bill-runs/${r.body.id}`, { headers: { cookie } })).json()) as any;
        if (g.status !== 'running') return { run: g, secs: (performance.now() - s) / 1000 };
      }
    };
    const first = await runOnce();
    const invoices = Number((await database.db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const lines = Number((await database.db.selectFrom('invoice_lines').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    log(`bill run, ${fmt(ACCOUNTS)} accounts × ${PER_ACCOUNT} usage records: ${fmt(first.secs, 1)} s (${fmt(ACCOUNTS / first.secs)} accounts/s), status ${first.run.status}, ${fmt(first.run.billed)} invoiced, ${first.run.failed} failed; ${fmt(invoices)} invoices, ${fmt(lines)} lines`);
    if (first.run.billed !== ACCOUNTS || invoices !== ACCOUNTS) throw new Error('the bill run did not invoice every account exactly once');

    // 4. The same period again bills nothing.
    const second = await runOnce();
    const after = Number((await database.db.selectFrom('invoices').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    log(`second bill run of the same period: ${fmt(second.secs, 1)} s, ${second.run.billed} invoiced, ${fmt(second.run.skipped)} skipped; invoices still ${fmt(after)}`);
    if (second.run.billed !== 0 || after !== invoices) throw new Error('the second run billed again');
    log(`targets: ingest ≥ 50,000 records/s → ${ingestRate >= 50_000 ? 'met' : 'NOT met'}; bill run ≤ 20 s${USE_PG ? ' (target stated for SQLite)' : ''} → ${first.secs <= 20 ? 'met' : 'NOT met'}`);
  } finally {
    await server?.stop();
    await database.close();
    if (!flag('--keep')) await fresh.drop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
