// In the browser: resuming a stopped bill run from its progress view, changing a subscription's
// quantity from the account's Subscriptions table, the tiers of a usage price (as typed and as the
// server refuses them), and the Usage screen's date filters (their errors, and the fields following
// the URL on back and forward).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { captureOnFailure, launchBrowser, newSession, settled, signInThroughUi } from '../helpers/browser.ts';
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
  clerk = await createUserWithLevels(api, { home: 'full', accounts: 'full', invoices: 'full', products: 'full', usage: 'read' }, 'clerk');
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

/** The New product dialog, filled in up to a usage charge "API calls" priced by tiers: the dialog and its tiers field. */
async function newTieredProduct(page: Page, p: { code: string; name: string; usageIdentifier: string; model: 'graduated' | 'volume' }): Promise<{ dialog: Locator; tiers: Locator }> {
  await page.goto('/products');
  await page.getByRole('button', { name: 'New product' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Code').fill(p.code);
  await dialog.getByLabel('Name', { exact: true }).fill(p.name);
  await dialog.getByRole('button', { name: 'Add charge' }).click();
  await dialog.getByLabel('Charge name').fill('API calls');
  await dialog.getByLabel('Kind').selectOption('usage');
  await dialog.getByLabel('Usage identifier').fill(p.usageIdentifier);
  await dialog.getByLabel('Pricing').selectOption(p.model);
  return { dialog, tiers: dialog.getByLabel(/^Tiers, one per line/) };
}

test('a tier limit that is not a whole number is shown under the tiers, and nothing is sent until it is one', async () => {
  const { page } = await newSession(browser, t.baseUrl);
  const writes: string[] = [];
  page.on('request', (r) => {
    if (r.method() !== 'GET' && new URL(r.url()).pathname.startsWith('/api/products')) writes.push(`${r.method()} ${r.url()}`);
  });
  await captureOnFailure('billing-tiers', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);
    const { dialog, tiers } = await newTieredProduct(page, { code: 'CALLS', name: 'Calls', usageIdentifier: 'ui_calls', model: 'graduated' });
    // "abc" and "1e" were sent as null: the last tier was saved open-ended, the first refused as "not above the previous one".
    for (const [text, shown] of [['1000:0\nabc:0.002', /Tier 2: "abc" is not a whole number/], ['1e:0\n*:0.002', /Tier 1: "1e" is not a whole number/], ['1,000:0\n*:0.002', /Tier 1: "1,000" is not a whole number/]] as const) {
      await tiers.fill(text);
      await dialog.getByRole('button', { name: 'Create product' }).click();
      await dialog.getByRole('alert').filter({ hasText: shown }).waitFor();
      assert.equal(await tiers.getAttribute('aria-invalid'), 'true', text);
      const describedBy = (await tiers.getAttribute('aria-describedby')) ?? '';
      assert.match(await page.locator(`[id="${describedBy}"]`).innerText(), shown, `${text}: the message is the field's own`);
    }
    assert.deepEqual(writes, [], 'nothing was sent');
    await tiers.fill('1000:0\n*:0.002');
    await dialog.getByRole('button', { name: 'Create product' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });
  await page.context().close();
  assert.equal(writes.length, 1);
  const saved = await api.json('/api/products?q=CALLS');
  assert.deepEqual(saved.body.items.map((p: any) => p.charges[0].pricing), [{ model: 'graduated', tiers: [{ upTo: 1000, unitPrice: '0' }, { upTo: null, unitPrice: '0.002' }] }]);
});

test("the server's error on a tier is shown under the tiers naming the tier, without the errors of the other pricing models", async () => {
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('billing-tier-server-error', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);
    const { dialog, tiers } = await newTieredProduct(page, { code: 'VOLUME', name: 'Volume pricing', usageIdentifier: 'ui_volume', model: 'volume' });
    // The first was "Must be null; Required; Unknown field; Must be equal to constant; Must NOT have fewer than 1 characters"
    // (the schema's error for each pricing model), the second "Enter a price of zero or more" without its tier.
    for (const [text, shown] of [
      ['1000:\n*:0.002', 'Tier 1 unit price: Must NOT have fewer than 1 characters'],
      ['1000:0\n*:-0.002', 'Tier 2 unit price: Enter a price of zero or more'],
    ] as const) {
      await tiers.fill(text);
      const answer = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname === '/api/products');
      await dialog.getByRole('button', { name: 'Create product' }).click();
      assert.equal((await answer).status(), 400, text);
      await dialog.getByRole('alert').filter({ hasText: shown }).waitFor();
      assert.equal(await describedText(page, tiers), shown, `${text}: the tiers' error is that tier's alone`);
    }
    await tiers.fill('1000:0\n*:0.002');
    await dialog.getByRole('button', { name: 'Create product' }).click();
    await dialog.waitFor({ state: 'hidden' });
  });
  await page.context().close();
  const saved = await api.json('/api/products?q=VOLUME');
  assert.deepEqual(saved.body.items.map((p: any) => p.charges[0].pricing), [{ model: 'volume', tiers: [{ upTo: 1000, unitPrice: '0' }, { upTo: null, unitPrice: '0.002' }] }]);
});

/** The text of the element that describes `field` (its error), or '' when none does. */
async function describedText(page: Page, field: Locator): Promise<string> {
  const ids = (await field.getAttribute('aria-describedby')) ?? '';
  return ids ? page.locator(`[id="${ids}"]`).innerText() : '';
}

test('usage dates the server refuses are shown under their fields, as typed, and no records pass for filtered ones', async () => {
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('usage-dates', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);
    const from = page.getByLabel('From', { exact: true });
    const to = page.getByLabel('To (exclusive)');
    const notice = page.getByText('No usage records are shown until the dates are corrected.');
    // A bookmarked URL with a day that does not exist: the server's words under From, the day kept in it.
    await page.goto('/usage?from=2026-02-31');
    await page.getByRole('alert').filter({ hasText: 'February 2026 has 28 days' }).waitFor();
    // Before: a page banner ("from: 2026-02-31 is not a day…"), and a date field that showed nothing.
    assert.equal(await describedText(page, from), '2026-02-31 is not a day: February 2026 has 28 days');
    assert.equal(await from.getAttribute('aria-invalid'), 'true');
    assert.equal(await from.inputValue(), '2026-02-31');
    await notice.waitFor();
    // A from after to, typed and applied: each field says which way it is wrong, the dates stay.
    await from.fill('2026-03-10');
    await to.fill('2026-03-01');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('alert').filter({ hasText: 'Must not be before from' }).waitFor();
    assert.equal(await describedText(page, from), 'Must not be after to');
    assert.equal(await describedText(page, to), 'Must not be before from');
    assert.deepEqual([await from.inputValue(), await to.inputValue()], ['2026-03-10', '2026-03-01']);
    await notice.waitFor();
    assert.equal(await page.getByRole('table', { name: 'Usage records' }).count(), 0);
    // Corrected and applied: no error, and the list (empty here) for those dates.
    await to.fill('2026-03-20');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No usage records match.').waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    assert.equal(await notice.count(), 0);
    assert.equal(await from.getAttribute('aria-invalid'), null);
  });
  await page.context().close();
});

test('a usage date’s error goes once its field is changed, and comes back when Apply gets it again', async () => {
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('usage-dates-edited', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);
    const from = page.getByLabel('From', { exact: true });
    const to = page.getByLabel('To (exclusive)');
    const notice = page.getByText('No usage records are shown until the dates are corrected.');
    await page.goto('/usage?from=2026-03-10&to=2026-03-01');
    await page.getByRole('alert').filter({ hasText: 'Must not be before from' }).waitFor();
    assert.equal(await describedText(page, from), 'Must not be after to');
    // Changed, not applied: From no longer holds what the server refused, so its error goes (before:
    // it stayed under the new date until Apply). To still does; no records until Apply.
    await from.fill('2026-03-05');
    assert.equal(await settled(() => describedText(page, from), ''), '', 'From’s error goes when it is changed');
    assert.equal(await from.getAttribute('aria-invalid'), null);
    assert.equal(await describedText(page, to), 'Must not be before from');
    await notice.waitFor();
    // Applied, and still after To: the server says so again, under both.
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByRole('alert').filter({ hasText: 'Must not be after to' }).waitFor();
    assert.equal(await describedText(page, from), 'Must not be after to');
    assert.equal(await describedText(page, to), 'Must not be before from');
    // The same for To: changed, its error goes and From's stays; applied, the list.
    await to.fill('2026-03-20');
    assert.equal(await settled(() => describedText(page, to), ''), '', 'To’s error goes when it is changed');
    assert.equal(await describedText(page, from), 'Must not be after to');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.getByText('No usage records match.').waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
  });
  await page.context().close();
});

test('the usage filter fields follow the URL on back and forward, as the records do, and each Apply is a step Back undoes', async () => {
  const p = await api.json('/api/products', { method: 'POST', body: { code: 'METER', name: 'Metered', currency: 'USD', charges: [{ name: 'Readings', kind: 'usage', usageIdentifier: 'ui_readings', pricing: { model: 'graduated', tiers: [{ upTo: null, unitPrice: '0.01' }] } }] } });
  assert.equal(p.status, 201);
  const a = await api.json('/api/accounts', { method: 'POST', body: { name: 'Vandelay', currency: 'USD' } });
  assert.equal(a.status, 201);
  const s = await api.json('/api/subscriptions', { method: 'POST', body: { accountId: a.body.id, productId: p.body.id, startDate: '2026-01-01', quantity: 1 } });
  assert.equal(s.status, 201);
  const reading = (occurredAt: string, idempotencyKey: string) => ({ accountId: a.body.id, identifier: 'ui_readings', quantity: 3, occurredAt, idempotencyKey });
  const u = await api.json('/api/usage', { method: 'POST', body: { records: [reading('2026-02-10T12:00:00Z', 'february-reading'), reading('2026-03-10T12:00:00Z', 'march-reading')] } });
  assert.equal(u.status, 200);
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('usage-history', [page], async () => {
    await signInThroughUi(page, clerk.username, clerk.password);
    const from = page.getByLabel('From', { exact: true });
    const to = page.getByLabel('To (exclusive)');
    const keys = () => page.getByRole('table', { name: 'Usage records' }).locator('tbody code').allTextContents();
    const fields = async () => [await from.inputValue(), await to.inputValue()];
    await page.goto('/usage?from=2026-03-01&to=2026-04-01');
    assert.deepEqual(await settled(keys, ['march-reading']), ['march-reading']);
    assert.deepEqual(await fields(), ['2026-03-01', '2026-04-01']);
    // The menu's Usage: the URL and the records lose the dates, and so do the fields (before: they kept them).
    await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'Usage', exact: true }).click();
    assert.deepEqual(await settled(keys, ['march-reading', 'february-reading']), ['march-reading', 'february-reading']);
    assert.deepEqual(await settled(fields, ['', '']), ['', ''], 'the fields show the URL’s (no) dates');
    await page.goBack();
    assert.deepEqual(await settled(keys, ['march-reading']), ['march-reading']);
    assert.deepEqual(await settled(fields, ['2026-03-01', '2026-04-01']), ['2026-03-01', '2026-04-01'], 'back: the dates of the URL gone back to');
    await page.goForward();
    assert.deepEqual(await settled(keys, ['march-reading', 'february-reading']), ['march-reading', 'february-reading']);
    assert.deepEqual(await settled(fields, ['', '']), ['', ''], 'forward: none again');
    // A date the server refused, gone back to: in its field with its error; gone forward from, neither.
    await page.goto('/usage?from=2026-02-31');
    await page.getByRole('alert').filter({ hasText: 'February 2026 has 28 days' }).waitFor();
    await page.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'Usage', exact: true }).click();
    assert.deepEqual(await settled(keys, ['march-reading', 'february-reading']), ['march-reading', 'february-reading']);
    assert.deepEqual(await settled(fields, ['', '']), ['', '']);
    assert.equal(await page.getByRole('alert').count(), 0);
    await page.goBack();
    await page.getByRole('alert').filter({ hasText: 'February 2026 has 28 days' }).waitFor();
    assert.equal(await from.inputValue(), '2026-02-31');
    assert.equal(await describedText(page, from), '2026-02-31 is not a day: February 2026 has 28 days');
    // Apply is a step in the browser's history (before: it replaced the current one, so Back left the
    // screen); applying the same dates again is not another step.
    await page.goto('/usage');
    assert.deepEqual(await settled(keys, ['march-reading', 'february-reading']), ['march-reading', 'february-reading']);
    const apply = async (dates: [string, string]) => {
      await from.fill(dates[0]);
      await to.fill(dates[1]);
      await page.getByRole('button', { name: 'Apply' }).click();
      await page.waitForURL((url) => url.searchParams.get('from') === dates[0] && url.searchParams.get('to') === dates[1]);
    };
    await apply(['2026-03-01', '2026-04-01']);
    assert.deepEqual(await settled(keys, ['march-reading']), ['march-reading']);
    await apply(['2026-02-01', '2026-03-01']);
    await apply(['2026-02-01', '2026-03-01']);
    assert.deepEqual(await settled(keys, ['february-reading']), ['february-reading']);
    await page.goBack();
    assert.deepEqual(await settled(keys, ['march-reading']), ['march-reading'], 'Back: the dates applied before');
    assert.deepEqual(await settled(fields, ['2026-03-01', '2026-04-01']), ['2026-03-01', '2026-04-01']);
    await page.goBack();
    assert.deepEqual(await settled(keys, ['march-reading', 'february-reading']), ['march-reading', 'february-reading'], 'Back again: no dates');
    assert.deepEqual(await settled(fields, ['', '']), ['', '']);
    assert.equal(new URL(page.url()).pathname, '/usage', 'still on Usage');
  });
  await page.context().close();
});

test('with Read Only on Accounts alone, the account screen shows the account and no balance, invoices, payments or usage panels', async () => {
  const account = await subscribedAccount('Soylent');
  const pay = await api.json('/api/payments', { method: 'POST', body: { accountId: account.id, amount: 700, currency: 'USD', method: 'card', reference: 'CARD-77' } });
  assert.equal(pay.status, 201);
  const viewer = await createUserWithLevels(api, { accounts: 'read' }, 'accounts-viewer');
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('billing-accounts-only', [page], async () => {
    await signInThroughUi(page, viewer.username, viewer.password);
    await page.goto('/accounts');
    await page.getByRole('link', { name: 'Soylent' }).waitFor();
    assert.equal(await page.getByRole('columnheader', { name: 'Open balance' }).count(), 0);
    await page.goto(`/accounts/${account.id}`);
    await page.getByRole('table', { name: 'Subscriptions' }).getByText('Pro (PRO)').waitFor();
    for (const heading of ['Open invoices', 'Recent payments', 'Usage, last 30 days', 'Latest usage records']) {
      assert.equal(await page.getByRole('heading', { name: heading }).count(), 0, heading);
    }
    for (const text of ['Balance', 'Open receivables', 'Account credit']) assert.equal(await page.getByText(text, { exact: true }).count(), 0, text);
  });
  await page.context().close();
});
