// In the browser: resuming a stopped bill run from its progress view, and changing a subscription's
// quantity from the account's Subscriptions table.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { captureOnFailure, launchBrowser, newSession, signInThroughUi } from '../helpers/browser.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { createBillRun, processBillRun } from '../../src/billing/billruns.service.ts';

let t: TestApp;
let browser: Browser;
let api: Client;
let clerk: { username: string; password: string };
let product: { id: string };

before(async () => {
  t = await startTestApp();
  const admin = await createLocalAdmin(t.database);
  api = await signIn(t.baseUrl, admin.username, admin.password);
  const p = await api.json('/api/products', { method: 'POST', body: { code: 'PRO', name: 'Pro', currency: 'USD', charges: [{ name: 'Platform fee', kind: 'recurring', interval: 'month', amount: 10000 }] } });
  assert.equal(p.status, 201);
  product = p.body;
  clerk = await createUserWithLevels(api, { home: 'full', accounts: 'full', invoices: 'full' }, 'clerk');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await t?.close();
});

async function subscribedAccount(name: string) {
  const a = await api.json('/api/accounts', { method: 'POST', body: { name, currency: 'USD' } });
  assert.equal(a.status, 201);
  const s = await api.json('/api/subscriptions', { method: 'POST', body: { accountId: a.body.id, productId: product.id, startDate: '2026-01-01', quantity: 1 } });
  assert.equal(s.status, 201);
  return a.body;
}

test('a bill run stopped with accounts left shows Resume, which bills the rest', async () => {
  await subscribedAccount('Initech');
  await subscribedAccount('Umbrella');
  // A run whose server stopped before billing anything: interrupted, two accounts pending.
  const run = await createBillRun(t.database.db, systemActor('test'), { periodStart: '2026-03-01', periodEnd: '2026-04-01' });
  const stopped = await processBillRun(t.database.db, systemActor('test'), run.id, { signal: AbortSignal.abort() });
  assert.deepEqual([stopped.status, stopped.pending], ['interrupted', 2]);
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('billing-resume', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);
    await page.goto('/invoices');
    await page.getByText(/0 invoiced · 0 skipped · 0 failed · 2 to go/).waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.getByText(/2 invoiced · 0 skipped · 0 failed · 0 to go/).waitFor({ timeout: 20_000 });
    assert.equal(await page.getByRole('button', { name: 'Resume' }).count(), 0);
  });
  await page.context().close();
  const after = await api.json(`/api/bill-runs/${run.id}`);
  assert.deepEqual([after.body.status, after.body.billed], ['completed', 2]);
});

test('the quantity of a subscription is changed from the account screen', async () => {
  const account = await subscribedAccount('Hooli');
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('billing-quantity', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);
    await page.goto(`/accounts/${account.id}`);
    const subs = page.getByRole('table', { name: 'Subscriptions' });
    await subs.getByText('Pro (PRO)').waitFor();
    await subs.getByRole('button', { name: 'Change quantity of Pro' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Quantity').fill('0');
    await dialog.getByRole('button', { name: 'Change quantity' }).click();
    await dialog.getByText(/>= 1|at least|whole number/i).first().waitFor();
    await dialog.getByLabel('Quantity').fill('12');
    await dialog.getByRole('button', { name: 'Change quantity' }).click();
    await subs.getByRole('cell', { name: '12', exact: true }).waitFor();
  });
  await page.context().close();
  const overview = await api.json(`/api/accounts/${account.id}`);
  assert.equal(overview.body.subscriptions[0].quantity, 12);
});
