// Every billing route at every permission level: Full acts, Read Only reads but cannot change,
// No Permission gets 403, signed out gets 401, a write without the CSRF token gets 403, and an
// invalid body gets 400 with field messages. Runs on SQLite, or PostgreSQL with TEST_DATABASE=postgres.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { createBillRun, processBillRun } from '../../src/billing/billruns.service.ts';

const BILLING_SCREENS = ['home', 'accounts', 'products', 'usage', 'invoices', 'payments', 'reports'] as const;
const levels = (l: 'none' | 'read' | 'full') => Object.fromEntries(BILLING_SCREENS.map((s) => [s, l]));

let t: TestApp;
let full: Client;
let read: Client;
let none: Client;
const ctx: Record<string, any> = {};
let seq = 0;

async function ok<T = any>(c: Client, path: string, method = 'GET', body?: unknown, status?: number): Promise<T> {
  const r = await c.json(path, { method, body });
  if (status ? r.status !== status : r.status >= 300) throw new Error(`${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

async function newAccount() {
  return ok(full, '/api/accounts', 'POST', { name: `Acme ${++seq}`, currency: 'USD', contactEmail: 'ap@acme.test', taxRate: '5' });
}

async function newDraft(): Promise<any> {
  const a = await newAccount();
  await ok(full, '/api/subscriptions', 'POST', { accountId: a.id, productId: ctx.product.id, startDate: '2026-01-01' });
  const run = await ok(full, '/api/bill-runs', 'POST', { periodStart: '2026-01-01', periodEnd: '2026-02-01', accountId: a.id, wait: true });
  const list = await ok(full, `/api/invoices?billRunId=${run.id}`);
  return { account: a, invoice: list.items[0] };
}

async function newFinalized(): Promise<any> {
  const d = await newDraft();
  return { ...d, invoice: await ok(full, `/api/invoices/${d.invoice.id}/finalize`, 'POST', {}) };
}

before(async () => {
  t = await startTestApp();
  const admin = await createLocalAdmin(t.database);
  const adminClient = await signIn(t.baseUrl, admin.username, admin.password);
  const mk = async (l: 'none' | 'read' | 'full') => {
    const u = await createUserWithLevels(adminClient, levels(l));
    return signIn(t.baseUrl, u.username, u.password);
  };
  [full, read, none] = [await mk('full'), await mk('read'), await mk('none')];
  ctx.admin = adminClient;
  ctx.product = await ok(full, '/api/products', 'POST', {
    code: 'PRO',
    name: 'Pro',
    currency: 'USD',
    charges: [
      { name: 'Platform', kind: 'recurring', interval: 'month', amount: 10000 },
      { name: 'API calls', kind: 'usage', usageIdentifier: 'api_calls', pricing: { model: 'graduated', tiers: [{ upTo: 1000, unitPrice: '0' }, { upTo: null, unitPrice: '0.002' }] } },
    ],
  });
  ctx.draft = await newDraft();
  ctx.account = ctx.draft.account;
  ctx.subscription = (await ok(full, `/api/subscriptions?accountId=${ctx.account.id}`)).items[0];
  ctx.usage = await ok(full, '/api/usage', 'POST', { accountNumber: ctx.account.number, identifier: 'api_calls', quantity: 5, occurredAt: '2026-02-03T10:00:00Z', idempotencyKey: 'seed-1' });
  const up = await full.fetch('/api/usage/uploads?fileName=seed.csv', { method: 'POST', body: `account_number,identifier,quantity,occurred_at\n${ctx.account.number},api_calls,3,2026-02-02\n`, headers: { 'content-type': 'text/csv' } });
  ctx.upload = await up.json();
  ctx.run = (await ok(full, '/api/bill-runs')).items[0];
  ctx.payment = await ok(full, '/api/payments', 'POST', { accountId: ctx.account.id, amount: 100, currency: 'USD', method: 'card' });
});
after(async () => {
  await t?.close();
});

interface Route {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** path, or a function making fresh prerequisites for one successful call */
  path: string | (() => Promise<string> | string);
  body?: unknown | (() => unknown);
  invalid?: unknown;
  status: number;
}

const ID = () => ctx.account.id;
const routes: Route[] = [
  { method: 'GET', path: '/api/home', status: 200 },
  { method: 'GET', path: '/api/accounts?q=acme&limit=5', status: 200 },
  { method: 'POST', path: '/api/accounts', body: () => ({ name: `New ${++seq}`, currency: 'EUR' }), invalid: { name: '', currency: 'euro' }, status: 201 },
  { method: 'GET', path: () => `/api/accounts/${ID()}`, status: 200 },
  { method: 'PATCH', path: () => `/api/accounts/${ID()}`, body: { notes: 'Pays by wire' }, invalid: { paymentTermsDays: -3 }, status: 200 },
  { method: 'GET', path: () => `/api/subscriptions?accountId=${ID()}`, status: 200 },
  { method: 'POST', path: '/api/subscriptions', body: () => ({ accountId: ID(), productId: ctx.product.id, startDate: '2026-06-01', quantity: 2 }), invalid: { accountId: 'x', productId: 'y', startDate: 'soon' }, status: 201 },
  { method: 'GET', path: () => `/api/subscriptions/${ctx.subscription.id}`, status: 200 },
  { method: 'PATCH', path: () => `/api/subscriptions/${ctx.subscription.id}`, body: { quantity: 3 }, invalid: { quantity: 0 }, status: 200 },
  { method: 'POST', path: async () => { const a = await newAccount(); const s = await ok(full, '/api/subscriptions', 'POST', { accountId: a.id, productId: ctx.product.id, startDate: '2026-01-01' }); return `/api/subscriptions/${s.id}/cancel`; }, body: { endDate: '2026-09-01' }, invalid: { endDate: 'never' }, status: 200 },
  { method: 'GET', path: '/api/products?q=pro', status: 200 },
  { method: 'POST', path: '/api/products', body: () => ({ code: `P${++seq}`, name: 'Basic', currency: 'USD', charges: [{ name: 'Setup', kind: 'one_time', amount: 5000 }] }), invalid: { code: '', name: 'x', currency: 'USD', charges: [{ name: 'x', kind: 'weird' }] }, status: 201 },
  { method: 'GET', path: () => `/api/products/${ctx.product.id}`, status: 200 },
  { method: 'PATCH', path: () => `/api/products/${ctx.product.id}`, body: { description: 'Our main plan' }, invalid: { currency: 12 }, status: 200 },
  { method: 'GET', path: '/api/usage?identifier=api_calls', status: 200 },
  { method: 'POST', path: '/api/usage', body: () => ({ accountNumber: ctx.account.number, identifier: 'api_calls', quantity: 7, occurredAt: '2026-02-05T00:00:00Z', idempotencyKey: `k-${++seq}` }), invalid: { accountNumber: 'A-1', quantity: 'many' }, status: 201 },
  { method: 'POST', path: '/api/usage', body: () => ({ records: [{ accountNumber: ctx.account.number, identifier: 'api_calls', quantity: 1, occurredAt: '2026-02-06', idempotencyKey: `b-${++seq}` }] }), invalid: { records: [{ identifier: 'api_calls' }] }, status: 200 },
  { method: 'GET', path: '/api/usage/uploads', status: 200 },
  { method: 'GET', path: () => `/api/usage/uploads/${ctx.upload.id}`, status: 200 },
  { method: 'GET', path: '/api/bill-runs', status: 200 },
  { method: 'POST', path: '/api/bill-runs', body: () => ({ periodStart: '2026-02-01', periodEnd: '2026-03-01', accountId: ID(), wait: true }), invalid: { periodStart: '2026-02-01' }, status: 201 },
  { method: 'GET', path: () => `/api/bill-runs/${ctx.run.id}`, status: 200 },
  { method: 'GET', path: () => `/api/bill-runs/${ctx.run.id}/accounts`, status: 200 },
  { method: 'GET', path: '/api/invoices?status=draft', status: 200 },
  { method: 'GET', path: () => `/api/invoices/${ctx.draft.invoice.id}`, status: 200 },
  { method: 'GET', path: () => `/api/invoices/${ctx.draft.invoice.id}/print`, status: 200 },
  { method: 'GET', path: '/api/invoices/print.css', status: 200 },
  { method: 'PATCH', path: () => `/api/invoices/${ctx.draft.invoice.id}`, body: { memo: 'Thank you' }, invalid: { total: 1 }, status: 200 },
  { method: 'POST', path: () => `/api/invoices/${ctx.draft.invoice.id}/lines`, body: { description: 'Goodwill', amount: -500 }, invalid: { description: '', amount: 1.5 }, status: 201 },
  { method: 'DELETE', path: async () => { const d = await newDraft(); return `/api/invoices/${d.invoice.id}/lines/${(await ok(full, `/api/invoices/${d.invoice.id}`)).lines[0].id}`; }, status: 200 },
  { method: 'POST', path: async () => `/api/invoices/${(await newDraft()).invoice.id}/finalize`, body: {}, invalid: { issueDate: 'today' }, status: 200 },
  { method: 'POST', path: async () => `/api/invoices/${(await newFinalized()).invoice.id}/void`, body: { reason: 'Billed in error' }, invalid: { reason: '' }, status: 200 },
  { method: 'GET', path: '/api/payments', status: 200 },
  { method: 'POST', path: '/api/payments', body: () => ({ accountId: ID(), amount: 2500, currency: 'USD', method: 'bank_transfer', reference: `W-${++seq}` }), invalid: () => ({ accountId: ID(), amount: 0, currency: 'USD', method: 'barter' }), status: 201 },
  { method: 'GET', path: () => `/api/payments/${ctx.payment.id}`, status: 200 },
  { method: 'GET', path: '/api/credits', status: 200 },
  { method: 'POST', path: '/api/credits', body: () => ({ accountId: ID(), amount: 300, currency: 'USD', reason: 'Outage' }), invalid: () => ({ accountId: ID(), amount: -1, currency: 'USD', reason: '' }), status: 201 },
  { method: 'GET', path: '/api/reports/aging', status: 200 },
  { method: 'GET', path: '/api/reports/aging?format=csv', status: 200 },
  { method: 'GET', path: '/api/reports/revenue?months=6', status: 200 },
  { method: 'GET', path: '/api/reports/revenue?format=csv', status: 200 },
  { method: 'GET', path: '/api/reports/usage', status: 200 },
  { method: 'GET', path: '/api/reports/usage?format=csv', status: 200 },
];

const resolve = async (r: Route) => (typeof r.path === 'function' ? await r.path() : r.path);
const bodyOf = (r: Route) => (typeof r.body === 'function' ? (r.body as () => unknown)() : r.body);
const label = (r: Route) => `${r.method} ${typeof r.path === 'string' ? r.path : (r.path.toString().match(/`([^`]+)`/)?.[1] ?? 'dynamic')}`;

describe('billing routes by permission level', () => {
  for (const r of routes) {
    test(`${label(r)}: Full Permission succeeds`, async () => {
      const path = await resolve(r);
      const res = await full.fetch(path, { method: r.method, body: bodyOf(r) });
      assert.equal(res.status, r.status, `${r.method} ${path}: ${await res.clone().text()}`);
      if (path.includes('format=csv')) assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
      if (path.endsWith('/print')) assert.match(await res.text(), /<table>/);
    });

    test(`${label(r)}: Read Only ${r.method === 'GET' ? 'reads' : 'is refused with 403'}`, async () => {
      const path = await resolve(r);
      const res = await read.fetch(path, { method: r.method, body: bodyOf(r) });
      assert.equal(res.status, r.method === 'GET' ? 200 : 403);
    });

    test(`${label(r)}: No Permission is refused with 403`, async () => {
      const res = await none.fetch(await resolve(r), { method: r.method, body: bodyOf(r) });
      assert.equal(res.status, 403);
    });

    test(`${label(r)}: signed out is refused with 401`, async () => {
      const res = await fetch(t.baseUrl + (await resolve(r)), { method: r.method, headers: r.body ? { 'content-type': 'application/json' } : {}, body: r.body ? JSON.stringify(bodyOf(r)) : undefined });
      assert.equal(res.status, 401);
    });

    if (r.method !== 'GET') {
      test(`${label(r)}: a write without the CSRF token is refused with 403`, async () => {
        const res = await full.fetch(await resolve(r), { method: r.method, body: bodyOf(r), csrf: false });
        assert.equal(res.status, 403);
      });
    }
    if (r.invalid !== undefined) {
      test(`${label(r)}: an invalid body is refused with 400 and field messages`, async () => {
        const res = await full.json(await resolve(r), { method: r.method, body: typeof r.invalid === 'function' ? r.invalid() : r.invalid });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.equal(res.body.error.code, 'invalid');
        assert.ok(Object.keys(res.body.error.fields ?? {}).length > 0, JSON.stringify(res.body));
      });
    }
  }
});

describe('billing rules over HTTP', () => {
  test('a duplicate usage key answers 200 with the original record', async () => {
    const rec = { accountNumber: ctx.account.number, identifier: 'api_calls', quantity: 9, occurredAt: '2027-01-07T00:00:00Z', idempotencyKey: 'dup-1' };
    const first = await full.json('/api/usage', { method: 'POST', body: rec });
    assert.equal(first.status, 201);
    const again = await full.json('/api/usage', { method: 'POST', body: { ...rec, quantity: 999 } });
    assert.equal(again.status, 200);
    assert.equal(again.body.id, first.body.id);
    assert.equal(again.body.quantity, 9);
    assert.equal(again.body.duplicate, true);
  });

  test('a CSV upload keeps good rows and reports each bad row with its line', async () => {
    const csv = `account_number,identifier,quantity,occurred_at,idempotency_key\n${ctx.account.number},api_calls,10,2027-01-08,csv-1\n${ctx.account.number},api_calls,ten,2027-01-08,csv-2\nA-999999,api_calls,1,2027-01-08,csv-3\n${ctx.account.number},api_calls,11,2027-01-09,csv-4\n`;
    const res = await full.fetch('/api/usage/uploads?fileName=feb.csv', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
    assert.equal(res.status, 201);
    const body = (await res.json()) as any;
    assert.equal(body.accepted, 2);
    assert.equal(body.rejected, 2);
    assert.deepEqual(body.errors.map((e: any) => e.line), [3, 4]);
    assert.match(body.errors[0].message, /quantity/);
    assert.match(body.errors[1].message, /No account A-999999/);
    const again = await full.fetch('/api/usage/uploads?fileName=feb.csv', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
    const second = (await again.json()) as any;
    assert.equal(second.accepted, 0);
    assert.equal(second.duplicates, 2);
  });

  test('a CSV without the needed columns is refused with a message on the file field', async () => {
    const res = await full.json('/api/usage/uploads', { method: 'POST', body: 'foo,bar\n1,2\n', headers: { 'content-type': 'text/csv' } } as any);
    assert.equal(res.status, 400);
    assert.match(res.body.error.fields.file, /identifier/);
  });

  test('a finalized invoice cannot be edited by any route', async () => {
    const { invoice } = await newFinalized();
    for (const [method, path, body] of [
      ['PATCH', `/api/invoices/${invoice.id}`, { memo: 'late change' }],
      ['POST', `/api/invoices/${invoice.id}/lines`, { description: 'extra', amount: 100 }],
      ['DELETE', `/api/invoices/${invoice.id}/lines/whatever`, undefined],
      ['POST', `/api/invoices/${invoice.id}/finalize`, {}],
    ] as const) {
      const res = await full.json(path, { method, body });
      assert.equal(res.status, 409, `${method} ${path}`);
    }
    const after = await ok(full, `/api/invoices/${invoice.id}`);
    assert.equal(after.total, invoice.total);
    assert.equal(after.memo, null);
  });

  test('a payment in the wrong currency is refused', async () => {
    const res = await full.json('/api/payments', { method: 'POST', body: { accountId: ID(), amount: 100, currency: 'EUR', method: 'card' } });
    assert.equal(res.status, 400);
    assert.match(res.body.error.fields.currency, /USD/);
  });

  test('subscribing an account to a product priced in another currency is refused', async () => {
    const eur = await ok(full, '/api/accounts', 'POST', { name: 'Euro GmbH', currency: 'EUR' });
    const res = await full.json('/api/subscriptions', { method: 'POST', body: { accountId: eur.id, productId: ctx.product.id, startDate: '2026-01-01' } });
    assert.equal(res.status, 400);
    assert.ok(res.body.error.fields.productId);
  });

  test('every change is in the audit log', async () => {
    const acct = await newAccount();
    const rows = await t.database.db.selectFrom('audit_log').select(['action', 'target_id']).where('target_id', '=', acct.id).execute();
    assert.deepEqual(rows.map((r) => r.action), ['account.create']);
    const actions = new Set((await t.database.db.selectFrom('audit_log').select('action').execute()).map((r) => r.action));
    for (const a of ['product.create', 'subscription.create', 'usage.ingest', 'usage.upload', 'bill_run.start', 'bill_run.complete', 'invoice.create', 'invoice.finalize', 'invoice.void', 'payment.create', 'credit.create']) assert.ok(actions.has(a), a);
  });

  test('lists page with a cursor', async () => {
    const p1 = await ok(full, '/api/accounts?limit=2');
    assert.equal(p1.items.length, 2);
    assert.ok(p1.nextCursor);
    const p2 = await ok(full, `/api/accounts?limit=2&cursor=${p1.nextCursor}`);
    assert.notEqual(p2.items[0].id, p1.items[0].id);
    assert.ok(p2.items[0].number > p1.items[1].number);
  });

  test('a batch mixing new records, already stored ones and a key repeated inside it stores each key once', async () => {
    const rec = (key: string, quantity: number) => ({ accountNumber: ctx.account.number, identifier: 'api_calls', quantity, occurredAt: '2027-02-03T04:05:06Z', idempotencyKey: key });
    const first = await ok(full, '/api/usage', 'POST', { records: [rec('mix-1', 1), rec('mix-2', 2)] });
    assert.deepEqual([first.created, first.duplicates], [2, 0]);
    const res = await ok(full, '/api/usage', 'POST', { records: [rec('mix-3', 3), rec('mix-1', 100), rec('mix-4', 4), rec('mix-3', 300), rec('mix-2', 200)] });
    assert.deepEqual([res.created, res.duplicates], [2, 3]);
    assert.deepEqual(res.items.map((i: any) => [i.idempotencyKey, i.quantity, i.duplicate]), [['mix-3', 3, false], ['mix-1', 1, true], ['mix-4', 4, false], ['mix-3', 3, true], ['mix-2', 2, true]]);
    assert.equal(res.items[1].id, first.items[0].id);
    assert.equal(res.items[3].id, res.items[0].id);
    const stored = await t.database.db.selectFrom('usage_records').select(['id', 'idempotency_key', 'quantity']).where('idempotency_key', 'like', 'mix-%').orderBy('idempotency_key').execute();
    assert.deepEqual(stored.map((r) => [r.idempotency_key, Number(r.quantity)]), [['mix-1', 1], ['mix-2', 2], ['mix-3', 3], ['mix-4', 4]]);
    // The ids answered are the stored rows' ids.
    assert.equal(res.items[2].id, Number(stored[3].id));
    assert.equal(res.items[0].id, Number(stored[2].id));
  });

  test('changing a subscription quantity shows on the account overview, and a stale version is refused', async () => {
    const a = await newAccount();
    const sub = await ok(full, '/api/subscriptions', 'POST', { accountId: a.id, productId: ctx.product.id, startDate: '2026-01-01', quantity: 2 });
    const before = (await ok(full, `/api/accounts/${a.id}`)).subscriptions[0];
    assert.deepEqual([before.quantity, before.version], [2, sub.version]);
    await ok(full, `/api/subscriptions/${sub.id}`, 'PATCH', { quantity: 5, version: before.version });
    const afterChange = (await ok(full, `/api/accounts/${a.id}`)).subscriptions[0];
    assert.equal(afterChange.quantity, 5);
    assert.equal(afterChange.version, before.version + 1);
    const stale = await full.json(`/api/subscriptions/${sub.id}`, { method: 'PATCH', body: { quantity: 7, version: before.version } });
    assert.equal(stale.status, 409);
    const bad = await full.json(`/api/subscriptions/${sub.id}`, { method: 'PATCH', body: { quantity: 0, version: afterChange.version } });
    assert.equal(bad.status, 400);
    assert.ok(bad.body.error.fields?.quantity, JSON.stringify(bad.body));
    const denied = await read.json(`/api/subscriptions/${sub.id}`, { method: 'PATCH', body: { quantity: 9 } });
    assert.equal(denied.status, 403);
    assert.equal((await ok(full, `/api/accounts/${a.id}`)).subscriptions[0].quantity, 5);
  });

  test('two edits of one product at once keep both: a rename and a new description', async () => {
    const p = await ok(full, '/api/products', 'POST', { code: `RACE${++seq}`, name: 'Race', currency: 'USD', charges: [{ name: 'Platform', kind: 'recurring', interval: 'month', amount: 1000 }] });
    for (let i = 0; i < 20; i++) {
      const [renamed, described] = await Promise.all([
        full.json(`/api/products/${p.id}`, { method: 'PATCH', body: { name: `Race ${i}` } }),
        full.json(`/api/products/${p.id}`, { method: 'PATCH', body: { description: `Round ${i}` } }),
      ]);
      assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
      assert.equal(described.status, 200, JSON.stringify(described.body));
      const now = await ok(full, `/api/products/${p.id}`);
      assert.deepEqual([now.name, now.description], [`Race ${i}`, `Round ${i}`], `round ${i}: both edits are kept`);
      assert.equal(now.version, p.version + 2 * (i + 1), `round ${i}: each edit moved the version once`);
    }
  });

  test('a quantity change at the moment of a cancellation does not undo the cancellation', async () => {
    const a = await newAccount();
    for (let i = 0; i < 20; i++) {
      const sub = await ok(full, '/api/subscriptions', 'POST', { accountId: a.id, productId: ctx.product.id, startDate: '2026-01-01', quantity: 1 });
      const [changed, cancelled] = await Promise.all([
        full.json(`/api/subscriptions/${sub.id}`, { method: 'PATCH', body: { quantity: 3 } }),
        full.json(`/api/subscriptions/${sub.id}/cancel`, { method: 'POST', body: { endDate: '2026-06-30' } }),
      ]);
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      assert.equal(cancelled.status, 200, JSON.stringify(cancelled.body));
      const now = await ok(full, `/api/subscriptions/${sub.id}`);
      assert.deepEqual([now.status, now.endDate, now.quantity], ['cancelled', '2026-06-30', 3], `round ${i}: cancelled, with the new quantity`);
    }
  });

  test('of two changes sent with the same version at once, one is applied and the other refused as stale', async () => {
    const a = await newAccount();
    for (let i = 0; i < 10; i++) {
      const sub = await ok(full, '/api/subscriptions', 'POST', { accountId: a.id, productId: ctx.product.id, startDate: '2026-01-01', quantity: 1 });
      const answers = await Promise.all([4, 6].map((quantity) => full.json(`/api/subscriptions/${sub.id}`, { method: 'PATCH', body: { quantity, version: sub.version } })));
      assert.deepEqual(answers.map((r) => r.status).sort(), [200, 409], `round ${i}: ${JSON.stringify(answers.map((r) => r.body))}`);
      const now = await ok(full, `/api/subscriptions/${sub.id}`);
      assert.equal(now.quantity, answers.find((r) => r.status === 200)!.body.quantity, `round ${i}: the applied change is the one kept`);
      assert.equal(now.version, sub.version + 1);
    }
  });

  async function waitForRun(id: string, client: Client = full) {
    for (let i = 0; i < 200; i++) {
      const r = await ok(client, `/api/bill-runs/${id}`);
      if (r.status !== 'running') return r;
      await new Promise((res) => setTimeout(res, 50));
    }
    throw new Error(`bill run ${id} still running`);
  }

  /** A run with one pending account that no node is working on (as if its node had stopped). */
  async function pendingRun(periodStart: string, periodEnd: string) {
    const a = await newAccount();
    await ok(full, '/api/subscriptions', 'POST', { accountId: a.id, productId: ctx.product.id, startDate: '2026-01-01' });
    const run = await createBillRun(t.database.db, systemActor('test'), { periodStart, periodEnd, accountId: a.id });
    return { account: a, run };
  }

  test('Resume continues a stopped bill run, and is refused while the run is still beating or for Read Only', async () => {
    const { account, run } = await pendingRun('2026-03-01', '2026-04-01');
    // Status 'running' with a fresh heartbeat: another node may be working on it.
    const busy = await full.json(`/api/bill-runs/${run.id}/resume`, { method: 'POST', body: {} });
    assert.equal(busy.status, 409);
    // The server stops: the run is marked interrupted with its account still pending.
    const stopped = await processBillRun(t.database.db, systemActor('test'), run.id, { signal: AbortSignal.abort() });
    assert.deepEqual([stopped.status, stopped.pending], ['interrupted', 1]);
    assert.equal((await read.json(`/api/bill-runs/${run.id}/resume`, { method: 'POST', body: {} })).status, 403);
    const resumed = await full.json(`/api/bill-runs/${run.id}/resume`, { method: 'POST', body: {} });
    assert.equal(resumed.status, 202);
    const done = await waitForRun(run.id);
    assert.deepEqual([done.status, done.billed, done.pending], ['completed', 1, 0]);
    const inv = await ok(full, `/api/invoices?billRunId=${run.id}`);
    assert.equal(inv.items.length, 1);
    assert.equal(inv.items[0].accountId, account.id);
  });

  test('a node starting up takes over a run left running by a dead node, but not one whose heartbeat is fresh', async () => {
    const dead = await pendingRun('2026-04-01', '2026-05-01');
    const alive = await pendingRun('2026-05-01', '2026-06-01');
    const stopped = await pendingRun('2026-06-01', '2026-07-01');
    await processBillRun(t.database.db, systemActor('test'), stopped.run.id, { signal: AbortSignal.abort() });
    // The dead node's last heartbeat was three minutes ago.
    await t.database.db.updateTable('bill_runs').set({ heartbeat_at: new Date(Date.now() - 180_000).toISOString() }).where('id', '=', dead.run.id).execute();
    const node2 = await startTestApp({ databaseUrl: t.databaseUrl });
    try {
      const d = await waitForRun(dead.run.id);
      assert.deepEqual([d.status, d.billed, d.pending], ['completed', 1, 0]);
      const s = await waitForRun(stopped.run.id);
      assert.deepEqual([s.status, s.billed, s.pending], ['completed', 1, 0]);
      const a = await ok(full, `/api/bill-runs/${alive.run.id}`);
      assert.deepEqual([a.status, a.pending], ['running', 1]);
      const audit = await t.database.db.selectFrom('audit_log').select(['target_id', 'actor_name']).where('action', '=', 'bill_run.resume').where('target_id', 'in', [dead.run.id, stopped.run.id, alive.run.id]).execute();
      assert.deepEqual(audit.map((r) => r.target_id).sort(), [dead.run.id, stopped.run.id].sort());
    } finally {
      await node2.close();
    }
  });
});


describe("a screen's response holds another screen's data only for those who may read that screen", () => {
  const readsOf = async (screens: string[]) => {
    const u = await createUserWithLevels(ctx.admin, { ...levels('none'), ...Object.fromEntries(screens.map((s) => [s, 'read'])) });
    return signIn(t.baseUrl, u.username, u.password);
  };
  const OVERVIEW_SECTIONS = ['balance', 'openInvoices', 'recentPayments', 'usageLast30Days', 'recentUsage'];
  let paid: any;
  before(async () => {
    // A finalized invoice paid in part by a payment with a reference, and usage on the same account.
    paid = await newFinalized();
    await ok(full, '/api/payments', 'POST', { accountId: paid.account.id, amount: 1234, currency: 'USD', method: 'bank_transfer', reference: 'WIRE-SECRET-1' });
    await ok(full, '/api/usage', 'POST', { accountNumber: paid.account.number, identifier: 'api_calls', quantity: 4, occurredAt: new Date().toISOString(), idempotencyKey: 'embedded-key-1' });
  });

  test('Read Only on Accounts alone shows the account and its subscriptions, without balance, invoices, payments or usage', async () => {
    const accountsOnly = await readsOf(['accounts']);
    assert.equal((await accountsOnly.json('/api/payments')).status, 403);
    const res = await accountsOnly.json(`/api/accounts/${paid.account.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.account.id, paid.account.id);
    assert.equal(res.body.subscriptions.length, 1);
    for (const k of OVERVIEW_SECTIONS) assert.ok(!(k in res.body), `${k} is shown: ${JSON.stringify(res.body[k])}`);
    const text = JSON.stringify(res.body);
    assert.ok(!text.includes('WIRE-SECRET-1') && !text.includes('embedded-key-1'), text);
    const list = await accountsOnly.json(`/api/accounts?q=${encodeURIComponent(paid.account.number)}`);
    assert.equal(list.body.items.length, 1);
    assert.ok(!('openBalance' in list.body.items[0]), JSON.stringify(list.body.items[0]));
  });

  test('each section of the account overview comes with a read of its own screen', async () => {
    const cases: [string[], string[]][] = [
      [['accounts', 'payments'], ['recentPayments']],
      [['accounts', 'usage'], ['usageLast30Days', 'recentUsage']],
      [['accounts', 'invoices'], ['openInvoices']],
      [['accounts', 'invoices', 'payments', 'usage'], OVERVIEW_SECTIONS],
    ];
    for (const [screens, shown] of cases) {
      const c = await readsOf(screens);
      const body = await ok(c, `/api/accounts/${paid.account.id}`);
      assert.deepEqual(OVERVIEW_SECTIONS.filter((k) => k in body), shown, `reads of ${screens.join(', ')}`);
    }
    const all = await ok(await readsOf(['accounts', 'invoices', 'payments', 'usage']), `/api/accounts/${paid.account.id}`);
    assert.equal(all.recentPayments[0].reference, 'WIRE-SECRET-1');
    assert.equal(all.recentUsage[0].idempotencyKey, 'embedded-key-1');
    assert.equal(all.openInvoices.length, 1);
    assert.equal(all.balance.openReceivables, paid.invoice.total - 1234);
    const list = await ok(await readsOf(['accounts', 'invoices']), `/api/accounts?q=${encodeURIComponent(paid.account.number)}`);
    assert.equal(list.items[0].openBalance, paid.invoice.total - 1234);
  });

  test('an invoice names the payments applied to it only to those who may read Payments', async () => {
    const invoicesOnly = await ok(await readsOf(['invoices']), `/api/invoices/${paid.invoice.id}`);
    assert.equal(invoicesOnly.amountPaid, 1234);
    assert.ok(!('allocations' in invoicesOnly), JSON.stringify(invoicesOnly.allocations));
    const withPayments = await ok(await readsOf(['invoices', 'payments']), `/api/invoices/${paid.invoice.id}`);
    assert.deepEqual(withPayments.allocations.map((a: any) => [a.amount, a.reference]), [[1234, 'WIRE-SECRET-1']]);
  });
});

describe('input the API does not take is a 400 naming the field, and nothing is stored', () => {
  const refused = (res: { status: number; body: any }, field: string) => {
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error.code, 'invalid');
    assert.ok(res.body.error.fields?.[field], `${field} is named: ${JSON.stringify(res.body)}`);
    assert.ok(res.body.error.requestId);
  };

  test('a body value of the wrong JSON type is refused, not converted: true, [250] or "1e3" is not an amount', async () => {
    const a = await newAccount();
    for (const amount of [true, [250], '1e3', '250', null]) {
      refused(await full.json('/api/payments', { method: 'POST', body: { accountId: a.id, amount, currency: 'USD', method: 'card' } }), 'amount');
      refused(await full.json('/api/credits', { method: 'POST', body: { accountId: a.id, amount, currency: 'USD', reason: 'Outage' } }), 'amount');
    }
    refused(await full.json('/api/payments', { method: 'POST', body: { accountId: a.id, amount: 100, currency: 'USD', method: 'card', reference: ['W-1'] } }), 'reference');
    refused(await full.json('/api/subscriptions', { method: 'POST', body: { accountId: a.id, productId: ctx.product.id, startDate: '2026-01-01', quantity: true } }), 'quantity');
    refused(await full.json('/api/bill-runs', { method: 'POST', body: { periodStart: '2026-01-01', periodEnd: '2026-02-01', accountId: a.id, wait: 'yes' } }), 'wait');
    const db = t.database.db;
    assert.equal((await db.selectFrom('payments').select('id').where('account_id', '=', a.id).execute()).length, 0);
    assert.equal((await db.selectFrom('credits').select('id').where('account_id', '=', a.id).execute()).length, 0);
    assert.equal((await db.selectFrom('subscriptions').select('id').where('account_id', '=', a.id).execute()).length, 0);
    assert.equal((await db.selectFrom('bill_runs').select('id').where('account_id', '=', a.id).execute()).length, 0);
  });

  test('an account edit with a list, a boolean or a null where text or a number goes changes nothing', async () => {
    const a = await newAccount();
    for (const [field, value] of [['contactName', ['x']], ['notes', ['x']], ['name', true], ['name', ['Renamed']], ['paymentTermsDays', null], ['paymentTermsDays', '45'], ['paymentTermsDays', true], ['taxRate', 5]] as const) {
      refused(await full.json(`/api/accounts/${a.id}`, { method: 'PATCH', body: { [field]: value } }), field);
    }
    const now = (await ok(full, `/api/accounts/${a.id}`)).account;
    assert.deepEqual([now.name, now.contactName, now.notes, now.paymentTermsDays, now.taxRate, now.version], [a.name, a.contactName, a.notes, a.paymentTermsDays, a.taxRate, a.version]);
  });

  test('a one-element list in an optional text field of a product, an invoice or a subscription is a 400, not a 500', async () => {
    refused(await full.json(`/api/products/${ctx.product.id}`, { method: 'PATCH', body: { description: ['x'] } }), 'description');
    refused(await full.json(`/api/products/${ctx.product.id}`, { method: 'PATCH', body: { name: ['x'] } }), 'name');
    const { invoice } = await newDraft();
    refused(await full.json(`/api/invoices/${invoice.id}`, { method: 'PATCH', body: { memo: ['x'] } }), 'memo');
    refused(await full.json(`/api/invoices/${invoice.id}/lines`, { method: 'POST', body: { description: 'Goodwill', amount: '-500' } }), 'amount');
    assert.deepEqual([(await ok(full, `/api/invoices/${invoice.id}`)).memo, (await ok(full, `/api/invoices/${invoice.id}`)).total], [null, invoice.total]);
    refused(await full.json(`/api/subscriptions/${ctx.subscription.id}`, { method: 'PATCH', body: { quantity: true } }), 'quantity');
  });

  test('query strings are still read as text: a number in the address is a number', async () => {
    const p = await ok(full, '/api/accounts?limit=1');
    assert.equal(p.items.length, 1);
    refused(await full.json('/api/accounts?limit=many'), 'limit');
    refused(await full.json('/api/invoices?overdue=maybe'), 'overdue');
  });

  test('a forged paging cursor is refused on every billing list, on either database', async () => {
    const forged = [[{}], [true, false], [[]], [1, '\u0000'], ['\u0000', 'x'], ['\u0000'], ['a\ud800'], [{ toString: 1 }, { valueOf: 2 }], ['a\ud800', 'b'], [null, null], [], ['2026-01-01T00:00:00.000Z', 'x', 3]];
    // Shapes right for another list: a name or code (one text), a time and an id (two texts), a usage id (an integer).
    const oneText = ['/api/accounts', '/api/products', `/api/bill-runs/${ctx.run.id}/accounts`];
    const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const lists = ['/api/accounts', '/api/subscriptions', '/api/products', '/api/usage', '/api/usage/uploads', '/api/bill-runs', `/api/bill-runs/${ctx.run.id}/accounts`, '/api/invoices', '/api/payments', '/api/credits'];
    for (const list of lists) {
      const wrongShape = list === '/api/usage' ? [['x'], [1.5], ['7'], [7, 'x']] : oneText.includes(list) ? [[7], ['x', 'y']] : [['x'], [7, 7], ['x', 7]];
      for (const key of [...forged, ...wrongShape]) {
        const res = await full.json(`${list}?cursor=${cursor(key)}`);
        refused(res, 'cursor');
        assert.match(res.body.error.message, /cursor is not valid/, `${list} ${JSON.stringify(key)}`);
      }
      // A cursor the list made itself still pages.
      const first = await ok(full, `${list}?limit=1`);
      if (first.nextCursor) assert.equal((await full.json(`${list}?limit=1&cursor=${first.nextCursor}`)).status, 200, list);
    }
  });

  test('a usage time on a day that does not exist, or at 24:00, is refused naming the day, not rolled over', async () => {
    const rec = (occurredAt: string, idempotencyKey: string) => ({ accountNumber: ctx.account.number, identifier: 'api_calls', quantity: 1, occurredAt, idempotencyKey });
    const bad = await full.json('/api/usage', { method: 'POST', body: rec('2025-02-31T10:00:00Z', 'no-such-day-1') });
    refused(bad, 'occurredAt');
    assert.match(bad.body.error.fields.occurredAt, /2025-02-31 is not a day: February 2025 has 28 days/);
    refused(await full.json('/api/usage', { method: 'POST', body: rec('2025-02-28T24:00:00Z', 'no-such-day-2') }), 'occurredAt');
    refused(await full.json('/api/usage', { method: 'POST', body: rec('2025-04-31', 'no-such-day-3') }), 'occurredAt');
    const batch = await full.json('/api/usage', { method: 'POST', body: { records: [rec('2027-03-01T00:00:00Z', 'no-such-day-4'), rec('2027-02-29T00:00:00Z', 'no-such-day-5')] } });
    refused(batch, 'records.1.occurredAt');
    assert.match(batch.body.error.fields['records.1.occurredAt'], /2027-02-29/);
    const stored = await t.database.db.selectFrom('usage_records').select('id').where('idempotency_key', 'like', 'no-such-day-%').execute();
    assert.equal(stored.length, 0);
    // A real leap day and an offset still work.
    const leap = await full.json('/api/usage', { method: 'POST', body: rec('2028-02-29T23:30:00-01:00', 'leap-day-1') });
    assert.equal(leap.status, 201, JSON.stringify(leap.body));
    assert.equal(leap.body.occurredAt, '2028-03-01T00:30:00.000Z');
  });

  test('a report date on a day that does not exist is a 400 naming the parameter, not today; without one it is still today', async () => {
    const cases: [string, string][] = [['/api/reports/aging?asOf=', 'asOf'], ['/api/reports/revenue?end=', 'end'], ['/api/reports/usage?end=', 'end']];
    for (const [path, param] of cases) {
      for (const day of ['2026-02-31', '2026-13-01', '2026-04-31', '2026-00-10', 'yesterday', '2026-1-5', '']) {
        for (const format of ['', '&format=csv']) {
          const res = await full.json(`${path}${encodeURIComponent(day)}${format}`);
          refused(res, param);
          assert.match(res.body.error.message, new RegExp(`^${param}\\b`), JSON.stringify(res.body));
        }
      }
    }
    const feb = await full.json('/api/reports/aging?asOf=2026-02-31');
    assert.equal(feb.body.error.fields.asOf, '2026-02-31 is not a day: February 2026 has 28 days');
    assert.equal((await full.json('/api/reports/revenue?end=2026-13-01')).body.error.fields.end, '2026-13-01 is not a day: there is no month 13');
    // A real day is used as given; none is today.
    assert.equal((await ok(full, '/api/reports/aging?asOf=2028-02-29')).asOf, '2028-02-29');
    assert.equal((await ok(full, '/api/reports/revenue?end=2026-02-28&months=2')).to, '2026-03-01');
    assert.equal((await ok(full, '/api/reports/usage?end=2026-02-28&months=1')).from, '2026-02-01');
    assert.equal((await ok(full, '/api/reports/aging')).asOf, new Date().toISOString().slice(0, 10));
  });

  test('the usage list takes from and to as a day or an ISO time, compared as times; anything else is a 400 naming it', async () => {
    const a = await newAccount();
    const key = (k: string) => `range-${a.number}-${k}`;
    const rec = (occurredAt: string, k: string) => ({ accountId: a.id, identifier: 'api_calls', quantity: 1, occurredAt, idempotencyKey: key(k) });
    await ok(full, '/api/usage', 'POST', { records: [rec('2026-05-01T00:00:00Z', 'k1'), rec('2026-05-01T23:30:00Z', 'k2'), rec('2026-05-02T08:00:00Z', 'k3')] });
    const keys = async (query: string) => {
      const res = await full.json(`/api/usage?accountId=${a.id}&${query}`);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      return res.body.items.map((i: { idempotencyKey: string }) => i.idempotencyKey.slice(key('').length)).sort();
    };
    assert.deepEqual(await keys('from=2026-05-01&to=2026-05-02'), ['k1', 'k2'], 'days, as the Usage screen sends them: [from, to)');
    assert.deepEqual(await keys('from=2026-05-01T23:30:00.000Z'), ['k2', 'k3']);
    assert.deepEqual(await keys('to=2026-05-01T23:30:00Z'), ['k1'], 'to is exclusive');
    // 01:00 at +02:00 is 23:00 UTC the day before: compared as text it came after k2.
    assert.deepEqual(await keys(`from=${encodeURIComponent('2026-05-02T01:00:00+02:00')}`), ['k2', 'k3']);
    assert.deepEqual(await keys(`to=${encodeURIComponent('2026-05-02T07:30:00-01:00')}`), ['k1', 'k2', 'k3'], '07:30 at -01:00 is 08:30 UTC');
    for (const [query, param] of [['from=zzz', 'from'], ['from=2026-5-1', 'from'], ['to=2026-02-30', 'to'], ['from=2026-05-01T24:00:00Z', 'from'], ['to=yesterday', 'to']]) {
      const res = await full.json(`/api/usage?accountId=${a.id}&${query}`);
      refused(res, param);
      assert.match(res.body.error.message, new RegExp(`^${param}\\b`), JSON.stringify(res.body));
    }
    assert.match((await full.json('/api/usage?to=2026-02-30')).body.error.fields.to, /2026-02-30 is not a day: February 2026 has 28 days/);
    assert.deepEqual(await keys('from=&to='), ['k1', 'k2', 'k3'], 'an empty filter is no filter, as for the others');
    const backwards = await full.json('/api/usage?from=2026-05-02&to=2026-05-01');
    refused(backwards, 'from');
    assert.ok(backwards.body.error.fields.to, JSON.stringify(backwards.body));
  });

  test('a tier limit that is not a whole number, an open tier before the last or a closed last tier is refused naming the tier; nothing is stored', async () => {
    const tier = (upTo: unknown, unitPrice = '0.001') => ({ upTo, unitPrice });
    const cases: [unknown[], string][] = [
      [[tier('abc'), tier(null)], 'charges.0.pricing.tiers.0.upTo'],
      [[tier(1000), tier('1e')], 'charges.0.pricing.tiers.1.upTo'],
      [[tier('1000'), tier(null)], 'charges.0.pricing.tiers.0.upTo'],
      [[tier(1.5), tier(null)], 'charges.0.pricing.tiers.0.upTo'],
      [[tier(true), tier(null)], 'charges.0.pricing.tiers.0.upTo'],
      [[tier(0), tier(null)], 'charges.0.pricing.tiers.0.upTo'],
      [[tier(1e21), tier(null)], 'charges.0.pricing.tiers.0.upTo'],
      [[tier(null), tier(null)], 'charges.0.pricing.tiers.0.upTo'],
      [[tier(1000), tier(500), tier(null)], 'charges.0.pricing.tiers.1.upTo'],
      [[tier(1000), tier(2000)], 'charges.0.pricing.tiers.1.upTo'],
    ];
    const count = async () => Number((await t.database.db.selectFrom('products').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const existing = await ok(full, `/api/products/${ctx.product.id}`);
    for (const model of ['graduated', 'volume']) {
      for (const [tiers, field] of cases) {
        const charges = [{ name: 'Calls', kind: 'usage', usageIdentifier: 'tier_check', pricing: { model, tiers } }];
        const what = `${model} ${JSON.stringify(tiers)}`;
        const created = await full.json('/api/products', { method: 'POST', body: { code: `TIER${++seq}`, name: 'Tiered', currency: 'USD', charges } });
        assert.equal(created.status, 400, `${what}: ${JSON.stringify(created.body)}`);
        assert.ok(created.body.error.fields?.[field], `${what}: ${field} is named: ${JSON.stringify(created.body)}`);
        const edited = await full.json(`/api/products/${ctx.product.id}`, { method: 'PATCH', body: { charges } });
        assert.equal(edited.status, 400, `${what}: ${JSON.stringify(edited.body)}`);
        assert.ok(edited.body.error.fields?.[field], `${what}: ${field} is named: ${JSON.stringify(edited.body)}`);
      }
    }
    assert.equal(await count(), before);
    assert.deepEqual(await ok(full, `/api/products/${ctx.product.id}`), existing);
    // Each says what is wrong with that tier.
    const message = async (tiers: unknown[]) => (await full.json('/api/products', { method: 'POST', body: { code: `TIER${++seq}`, name: 'Tiered', currency: 'USD', charges: [{ name: 'Calls', kind: 'usage', usageIdentifier: 'tier_check', pricing: { model: 'graduated', tiers } }] } })).body.error.fields;
    assert.equal((await message([tier(null), tier(null)]))['charges.0.pricing.tiers.0.upTo'], 'Only the last tier is open-ended: enter where this tier ends');
    assert.equal((await message([tier(1e21), tier(null)]))['charges.0.pricing.tiers.0.upTo'], 'Enter a whole number of units, 1 or more');
    assert.equal((await message([tier(1000), tier(500), tier(null)]))['charges.0.pricing.tiers.1.upTo'], 'Each tier must end above the previous one');
    assert.equal((await message([tier(1000), tier(2000)]))['charges.0.pricing.tiers.1.upTo'], 'The last tier must be open-ended (no upper bound)');
  });

  test('a wrong value inside a price is refused with the errors of the model it names, each at its field, and nothing else', async () => {
    const P = 'charges.1.pricing';
    const tiers = (...over: object[]) => [{ upTo: 1000, unitPrice: '0', ...over[0] }, { upTo: null, unitPrice: '0.002', ...over[1] }];
    // Each of these was also refused with "Must be null" on the price, and "Required", "Unknown field" or
    // "Must be equal to constant" on the fields of the shapes it was not.
    const cases: [unknown, Record<string, string>][] = [
      [{ model: 'unit' }, { [`${P}.unitPrice`]: 'Required' }],
      [{ model: 'unit', unitPrice: -1 }, { [`${P}.unitPrice`]: 'Must be string' }],
      [{ model: 'unit', unitPrice: '' }, { [`${P}.unitPrice`]: 'Must NOT have fewer than 1 characters' }],
      [{ model: 'unit', unitPrice: '0.1', tiers: tiers() }, { [`${P}.tiers`]: 'Unknown field' }],
      [{ model: 'graduated', tiers: tiers({}, { unitPrice: -0.002 }) }, { [`${P}.tiers.1.unitPrice`]: 'Must be string' }],
      [{ model: 'graduated', tiers: tiers({}, { flatFee: -100 }) }, { [`${P}.tiers.1.flatFee`]: 'Must be >= 0' }],
      [{ model: 'graduated', tiers: [{ upTo: 1000 }, { upTo: null, unitPrice: '0.002' }] }, { [`${P}.tiers.0.unitPrice`]: 'Required' }],
      [{ model: 'graduated', tiers: tiers({ upTo: 0 }) }, { [`${P}.tiers.0.upTo`]: 'Must be >= 1' }],
      [{ model: 'graduated', tiers: tiers({ upTo: '1000' }) }, { [`${P}.tiers.0.upTo`]: 'Must be integer or null' }],
      [{ model: 'graduated' }, { [`${P}.tiers`]: 'Required' }],
      [{ model: 'graduated', unitPrice: '0.1' }, { [`${P}.tiers`]: 'Required', [`${P}.unitPrice`]: 'Unknown field' }],
      [{ model: 'volume', tiers: [] }, { [`${P}.tiers`]: 'Must NOT have fewer than 1 items' }],
      [{ model: 'volume', tiers: tiers({}, { discount: 5 }) }, { [`${P}.tiers.1.discount`]: 'Unknown field' }],
      [{ model: 'volume', tiers: tiers({ unitPrice: '' }, { flatFee: 'ten' }) }, { [`${P}.tiers.0.unitPrice`]: 'Must NOT have fewer than 1 characters', [`${P}.tiers.1.flatFee`]: 'Must be integer' }],
      // The model itself: one error naming the models.
      [{ tiers: tiers() }, { [`${P}.model`]: 'Required: one of unit, graduated, volume' }],
      [{ model: 'tiered', tiers: tiers() }, { [`${P}.model`]: 'Must be one of unit, graduated, volume' }],
      [{ model: 2, unitPrice: '0.1' }, { [`${P}.model`]: 'Must be one of unit, graduated, volume' }],
      // Not a price at all: its types, as before.
      ['0.002', { [P]: 'Must be object or null' }],
    ];
    const charges = (pricing: unknown) => [
      { name: 'Platform', kind: 'recurring', interval: 'month', amount: 1000 },
      { name: 'Calls', kind: 'usage', usageIdentifier: 'shape_check', pricing },
    ];
    const count = async () => Number((await t.database.db.selectFrom('products').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const before = await count();
    const existing = await ok(full, `/api/products/${ctx.product.id}`);
    for (const [pricing, fields] of cases) {
      const what = JSON.stringify(pricing);
      const created = await full.json('/api/products', { method: 'POST', body: { code: `SHAPE${++seq}`, name: 'Shapes', currency: 'USD', charges: charges(pricing) } });
      assert.equal(created.status, 400, `${what}: ${JSON.stringify(created.body)}`);
      assert.deepEqual(created.body.error.fields, fields, what);
      const edited = await full.json(`/api/products/${ctx.product.id}`, { method: 'PATCH', body: { charges: charges(pricing) } });
      assert.equal(edited.status, 400, `${what}: ${JSON.stringify(edited.body)}`);
      assert.deepEqual(edited.body.error.fields, fields, what);
    }
    // Errors elsewhere in the body are kept beside the price's, and each charge's price is read on its own.
    const mixed = await full.json('/api/products', { method: 'POST', body: { code: `SHAPE${++seq}`, name: 'Shapes', currency: 'USD', charges: [
      { name: 'Calls', kind: 'usage', usageIdentifier: 'shape_a', pricing: { model: 'volume', tiers: tiers({}, { flatFee: -1 }) } },
      { name: '', kind: 'usage', usageIdentifier: 'shape_b', pricing: { model: 'unit', unitPrice: 1 } },
      { name: 'Setup', kind: 'one_time', interval: 'week', amount: 500 },
    ] } });
    assert.equal(mixed.status, 400);
    assert.deepEqual(mixed.body.error.fields, {
      'charges.0.pricing.tiers.1.flatFee': 'Must be >= 0',
      'charges.1.name': 'Must NOT have fewer than 1 characters',
      'charges.1.pricing.unitPrice': 'Must be string',
      'charges.2.interval': 'Must be one of month, year',
    });
    assert.equal(await count(), before);
    assert.deepEqual(await ok(full, `/api/products/${ctx.product.id}`), existing);
  });

  test('a list too long is the whole answer: its items are not each named, and nothing is stored', async () => {
    const count = async (table: 'products' | 'usage_records') => Number((await t.database.db.selectFrom(table).select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
    const [products, usage] = [await count('products'), await count('usage_records')];
    // Before: each of the 5,000 refused tiers was named beside the length (10,000 fields), and so was the charge's empty name.
    const badTier = { upTo: 0, unitPrice: 1 };
    const long = await full.json('/api/products', { method: 'POST', body: { code: `LONG${++seq}`, name: 'Long', currency: 'USD', charges: [
      { name: '', kind: 'usage', usageIdentifier: 'long_a', pricing: { model: 'unit', unitPrice: '1' } },
      { name: 'Calls', kind: 'usage', usageIdentifier: 'long_b', pricing: { model: 'volume', tiers: Array(5000).fill(badTier) } },
    ] } });
    assert.equal(long.status, 400);
    assert.deepEqual(long.body.error.fields, { 'charges.1.pricing.tiers': 'Must NOT have more than 20 items' });
    // Twenty refused tiers are each named.
    const twenty = await full.json('/api/products', { method: 'POST', body: { code: `LONG${++seq}`, name: 'Long', currency: 'USD', charges: [
      { name: 'Calls', kind: 'usage', usageIdentifier: 'long_c', pricing: { model: 'volume', tiers: Array(20).fill(badTier) } },
    ] } });
    assert.equal(twenty.status, 400);
    assert.equal(Object.keys(twenty.body.error.fields).length, 40, JSON.stringify(twenty.body.error.fields));
    assert.equal(twenty.body.error.fields['charges.0.pricing.tiers.19.upTo'], 'Must be >= 1');
    // A usage batch of 5,001 records, one of them refused: the count is the answer.
    const record = (i: number) => ({ accountNumber: ctx.account.number, identifier: 'api_calls', quantity: i === 7 ? 'many' : 1, occurredAt: '2026-02-06T00:00:00Z', idempotencyKey: `long-${seq}-${i}` });
    const batch = await full.json('/api/usage', { method: 'POST', body: { records: Array.from({ length: 5001 }, (_, i) => record(i)) } });
    assert.equal(batch.status, 400);
    assert.deepEqual(batch.body.error.fields, { records: 'Must NOT have more than 5000 items' });
    // A single record with a field too long: that field alone, though another is refused too.
    const single = await full.json('/api/usage', { method: 'POST', body: { ...record(0), quantity: 'many', idempotencyKey: 'k'.repeat(1000) } });
    assert.equal(single.status, 400);
    assert.deepEqual(single.body.error.fields, { idempotencyKey: 'Must NOT have more than 200 characters' });
    assert.deepEqual([await count('products'), await count('usage_records')], [products, usage]);
  });

  test('a CSV row on a day that does not exist is a row error naming the day; the other rows are kept', async () => {
    const n = ctx.account.number;
    const csv = `account_number,identifier,quantity,occurred_at,idempotency_key\n${n},api_calls,1,2027-03-02T00:00:00Z,csv-day-1\n${n},api_calls,1,2025-02-30T00:00:00Z,csv-day-2\n${n},api_calls,1,2027-03-02T24:00:00Z,csv-day-3\n`;
    const res = await full.fetch('/api/usage/uploads?fileName=days.csv', { method: 'POST', body: csv, headers: { 'content-type': 'text/csv' } });
    assert.equal(res.status, 201);
    const body = (await res.json()) as any;
    assert.deepEqual([body.accepted, body.rejected], [1, 2]);
    assert.deepEqual(body.errors.map((e: any) => e.line), [3, 4]);
    assert.match(body.errors[0].message, /occurredAt: 2025-02-30 is not a day/);
    assert.match(body.errors[1].message, /occurredAt: 24:00:00 is not a time of day/);
    const stored = await t.database.db.selectFrom('usage_records').select('idempotency_key').where('idempotency_key', 'like', 'csv-day-%').execute();
    assert.deepEqual(stored.map((r) => r.idempotency_key), ['csv-day-1']);
  });
});
