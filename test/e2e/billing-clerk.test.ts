// A billing clerk's day in the browser: create an account, subscribe it, upload a usage CSV with one
// bad row, run bills, finalize the invoice, record a payment and see what is still owed in aging.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type TestApp } from '../helpers/app.ts';
import { captureOnFailure, launchBrowser, newSession, signInThroughUi } from '../helpers/browser.ts';

let t: TestApp;
let browser: Browser;
let clerk: { username: string; password: string };

// Bill the previous calendar month: the Run bills form proposes it.
const now = new Date();
const periodStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 10);
const inPeriod = (day: number) => `${periodStart.slice(0, 8)}${String(day).padStart(2, '0')}`;

before(async () => {
  t = await startTestApp();
  const admin = await createLocalAdmin(t.database);
  const api = await signIn(t.baseUrl, admin.username, admin.password);
  const product = await api.json('/api/products', {
    method: 'POST',
    body: {
      code: 'PRO', name: 'Pro', currency: 'USD',
      charges: [
        { name: 'Platform fee', kind: 'recurring', interval: 'month', amount: 10000 },
        { name: 'API calls', kind: 'usage', usageIdentifier: 'api_calls', pricing: { model: 'unit', unitPrice: '0.01' } },
      ],
    },
  });
  assert.equal(product.status, 201);
  clerk = await createUserWithLevels(api, { home: 'full', accounts: 'full', products: 'read', usage: 'full', invoices: 'full', payments: 'full', reports: 'read' }, 'clerk');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await t?.close();
});

test("a billing clerk's day: account, subscription, usage upload, bill run, finalize, payment, aging", async () => {
  const { page, errors } = await newSession(browser, t.baseUrl);
  await captureOnFailure('billing-clerk', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);

    // Create an account.
    await page.goto('/accounts');
    await page.getByRole('button', { name: 'New account' }).first().click();
    await page.getByLabel('Account name').fill('Globex Corporation');
    await page.getByLabel('Billing contact').fill('Hank Scorpio');
    await page.getByLabel('Tax rate (%)').fill('10');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { level: 1, name: 'Globex Corporation' }).waitFor();
    const accountNumber = (await page.getByText(/^A-\d{6} · billed in USD/).textContent())!.slice(0, 8);

    // Subscribe it to Pro from the first day of the period.
    await page.getByRole('button', { name: 'Subscribe' }).click();
    await page.getByLabel('Product').selectOption({ label: 'Pro (PRO)' });
    await page.getByLabel('Start date').fill(periodStart);
    await page.getByRole('dialog').getByRole('button', { name: 'Subscribe' }).click();
    await page.getByRole('table', { name: 'Subscriptions' }).getByText('Pro (PRO)').waitFor();

    // Upload usage with one bad row: the good rows are kept, the bad one is reported with its line.
    await page.goto('/usage?tab=upload');
    const csv = [
      'account_number,identifier,quantity,occurred_at,idempotency_key',
      `${accountNumber},api_calls,1200,${inPeriod(3)},u-1`,
      `${accountNumber},api_calls,lots,${inPeriod(4)},u-2`,
      `${accountNumber},api_calls,800,${inPeriod(5)},u-3`,
    ].join('\n');
    await page.locator('#usage-file').setInputFiles({ name: 'usage.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await page.getByRole('button', { name: 'Upload' }).click();
    await page.getByText(/3 rows — 2 accepted, 0 duplicates ignored, 1 rejected/).waitFor();
    const rejected = page.getByRole('table', { name: 'Rejected rows' });
    await rejected.getByRole('cell', { name: '3', exact: true }).waitFor();
    await rejected.getByText(/quantity/).waitFor();

    // Run bills for the period and watch it complete.
    await page.goto('/invoices');
    await page.getByRole('button', { name: 'Run bills' }).click();
    assert.equal(await page.getByLabel('Period start').inputValue(), periodStart);
    await page.getByRole('dialog').getByRole('button', { name: 'Run bills' }).click();
    await page.getByText(/1 invoiced · 0 skipped · 0 failed · 0 to go/).waitFor({ timeout: 20_000 });
    const row = page.getByRole('row').filter({ hasText: 'Globex Corporation' });
    await row.getByRole('link', { name: 'Draft' }).click();

    // The draft: platform fee 100.00 + 2,000 API calls at 0.01 = 20.00, tax 10% → 132.00. Finalize it.
    await page.getByRole('heading', { level: 1, name: 'Draft invoice' }).waitFor();
    await page.getByText('132.00 USD').first().waitFor();
    await page.getByRole('button', { name: 'Finalize' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Finalize' }).click();
    await page.getByRole('heading', { level: 1, name: /Invoice INV-\d{6}/ }).waitFor();

    // Record a partial payment.
    await page.goto('/payments');
    await page.getByRole('button', { name: 'Record payment' }).click();
    await page.getByLabel('Account', { exact: true }).selectOption({ label: `${accountNumber} Globex Corporation (USD)` });
    await page.getByLabel('Amount (USD)').fill('100.00');
    await page.getByLabel('Reference').fill('WIRE-42');
    await page.getByRole('dialog').getByRole('button', { name: 'Record payment' }).click();
    await page.getByRole('table', { name: 'Payments' }).getByText('WIRE-42').waitFor();

    // Aging shows what is still owed: 32.00, not yet due.
    await page.goto('/reports');
    const aging = page.getByRole('table', { name: 'Aging' });
    const agingRow = aging.getByRole('row').filter({ hasText: 'Globex Corporation' });
    await agingRow.waitFor();
    assert.match((await agingRow.textContent())!, /32\.00 USD/);
    await page.getByRole('img', { name: /Aging by account in USD/ }).waitFor();
    assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused to/i.test(e)), []);
  });
  await page.context().close();
});

test('a Read Only user sees the billing screens without their edit controls', async () => {
  const admin = await createLocalAdmin(t.database);
  const api = await signIn(t.baseUrl, admin.username, admin.password);
  const viewer = await createUserWithLevels(api, { home: 'read', accounts: 'read', invoices: 'read', payments: 'read', usage: 'read' }, 'viewer');
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('billing-read-only', [page], async () => {
    await signInThroughUi(page, viewer.username, viewer.password);
    await page.goto('/accounts');
    await page.getByRole('link', { name: 'Globex Corporation' }).click();
    await page.getByRole('heading', { level: 1, name: 'Globex Corporation' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Subscribe' }).count(), 0);
    assert.equal(await page.getByRole('button', { name: /Cancel/ }).count(), 0);
    await page.goto('/invoices');
    await page.getByRole('table', { name: 'Invoices' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Run bills' }).count(), 0);
    await page.getByRole('link', { name: /INV-\d{6}/ }).first().click();
    await page.getByRole('heading', { level: 1, name: /Invoice INV-/ }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Void/ }).count(), 0);
    await page.goto('/payments');
    await page.getByRole('table', { name: 'Payments' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Record payment' }).count(), 0);
    await page.goto('/usage');
    await page.getByRole('tab', { name: 'Records' }).waitFor();
    assert.equal(await page.getByRole('tab', { name: 'Upload CSV' }).count(), 0);
  });
  await page.context().close();
});
