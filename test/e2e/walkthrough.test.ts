// The vendor guide (../shared/seed/000_a509ce9ee9ed637d.txt), end to end, in Chromium: an admin
// configures Ledgerline and the demo identity provider side by side exactly as the guide has
// them configure LogiSense and Okta, then people are provisioned, pushed into groups, given
// permissions, signed in through SAML, moved, deactivated and unlinked — all through the pages.
// Each numbered step of issue 6 is one subtest; a failing step leaves screenshots in test-results/.
// The whole flow runs twice: the IdP's SCIM client in Okta style (GET then PUT) and in Entra
// style (PATCH, capitalised ops, "False").
// Also takes the README's two screenshots (Okta run only): into test-results/screenshots/, or over
// docs/screenshots/ with UPDATE_SCREENSHOTS=1 (so `npm test` leaves the checkout unchanged).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page, Response as PwResponse } from 'playwright-core';
import { CATALOGUE, SCREENS, type ScreenKey } from '../../src/identity/catalogue.ts';
import { startDemoIdp, type DemoIdp } from '../../demo/idp/idp.app.ts';
import type { ClientStyle } from '../../demo/idp/idp.state.ts';
import { createLocalAdmin, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { captureOnFailure, gotoSignedOut, launchBrowser, menuScreens, newSession, signInThroughUi } from '../helpers/browser.ts';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const DOCS_SCREENSHOTS = path.join(ROOT, process.env.UPDATE_SCREENSHOTS === '1' ? 'docs/screenshots' : 'test-results/screenshots');
const FIONA = 'fiona.finance@example.com';
const SAM = 'sam.support@example.com';
const ALL_SCREENS = SCREENS.map((s) => s.label);

/** Waits for the page's own call to the admin API and returns its response. */
function apiCall(page: Page, method: string, pathname: string | RegExp): Promise<PwResponse> {
  return page.waitForResponse((r) => {
    if (r.request().method() !== method) return false;
    const p = new URL(r.url()).pathname;
    return typeof pathname === 'string' ? p === pathname : pathname.test(p);
  });
}

/** Clicks a submit button on a demo-IdP page and returns the notice the IdP showed. */
async function idpSubmit(page: Page, button: string, within?: string): Promise<{ ok: boolean; text: string }> {
  const scope = within ? page.getByRole('form', { name: within }) : page;
  await Promise.all([page.waitForURL(/[?&]msg=/), scope.getByRole('button', { name: button, exact: true }).click()]);
  const notice = page.locator('.notice').first();
  const text = (await notice.textContent()) ?? '';
  return { ok: (await notice.getAttribute('class'))?.includes('ok') ?? false, text };
}

/** A README picture: the page from its top, in a window tall enough to show the whole screen. */
async function readmeShot(page: Page, file: string, height: number): Promise<void> {
  fs.mkdirSync(DOCS_SCREENSHOTS, { recursive: true });
  const size = page.viewportSize()!;
  await page.evaluate(() => document.querySelectorAll('*').forEach((el) => el.scrollTop > 0 && (el.scrollTop = 0)));
  await page.setViewportSize({ width: 1280, height });
  await page.screenshot({ path: path.join(DOCS_SCREENSHOTS, file) });
  await page.setViewportSize(size);
}

async function me(page: Page): Promise<{ status: number; body: any }> {
  const r = await page.request.get('/api/me');
  return { status: r.status(), body: r.status() === 200 ? await r.json() : null };
}

function visibleScreens(perms: Record<ScreenKey, string>): string[] {
  return SCREENS.filter((s) => perms[s.key] && perms[s.key] !== 'none').map((s) => s.label);
}

for (const style of ['okta', 'entra'] as ClientStyle[]) {
  describe(`the vendor guide, step by step, in Chromium (IdP in ${style} style)`, () => {
    let t: TestApp;
    let idp: DemoIdp;
    let browser: Browser;
    let admin: { username: string; password: string };
    let adminApi: Client;
    let ledger: Page; // the admin's tab on Ledgerline
    let idpAdmin: Page; // the admin's tab on the IdP console (same browser profile)
    let fiona: Page; // Fiona's own browser profile
    let started = 0;

    before(async () => {
      started = Date.now();
      t = await startTestApp();
      admin = await createLocalAdmin(t.database, 'guide-admin');
      adminApi = await signIn(t.baseUrl, admin.username, admin.password);
      idp = await startDemoIdp({ style });
      browser = await launchBrowser();
      const s = await newSession(browser, t.baseUrl);
      ledger = s.page;
      idpAdmin = await s.context.newPage();
      fiona = (await newSession(browser, t.baseUrl)).page;
    });

    after(async () => {
      await browser?.close();
      await idp?.close();
      await t?.close();
      console.log(`walkthrough (${style}) ran in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });

    // Two tabs in one profile, like an admin with Ledgerline and the IdP console side by side.
    // Chromium throttles animation frames in a background tab, which makes Playwright's
    // "stable element" wait take seconds; each switch therefore brings the tab to the front.

    // Each step builds on the previous one: after a failure the later steps fail at once, naming
    // the step that broke, instead of each waiting out its own timeouts.
    let broken: string | null = null;
    const step = (name: string, fn: () => Promise<void>) =>
      test(name, async () => {
        if (broken) throw new Error(`not run: ${broken} failed`);
        try {
          await captureOnFailure(`walkthrough-${style}-${name.slice(0, 7)}`, [ledger, idpAdmin, fiona], fn);
        } catch (err) {
          broken = name.slice(0, name.indexOf(':'));
          throw err;
        }
      });

    step('step 1: the admin connects Ledgerline and the IdP (SAML Settings, Test Settings, SSO on, SCIM token, Test Connector Configuration)', async () => {
      await ledger.bringToFront();
      await signInThroughUi(ledger, admin.username, admin.password, '/setup/saml');
      await ledger.getByRole('heading', { level: 1, name: 'SAML Settings' }).waitFor();

      // Values for the identity provider, copied from Ledgerline into the IdP's Sign On tab.
      const ssoUrl = await ledger.getByLabel('Single sign-on URL', { exact: true }).inputValue();
      const audience = await ledger.getByLabel(/^Audience URI/).inputValue();
      const scimBase = await ledger.getByLabel('SCIM connector base URL', { exact: true }).inputValue();
      assert.equal(ssoUrl, `${t.baseUrl}/AuthorizationServer/Saml2/ACS`);
      assert.equal(audience, t.baseUrl);
      assert.equal(scimBase, `${t.baseUrl}/ResourceServer/api/SCIM`);
      await idpAdmin.bringToFront();
      await idpAdmin.goto(`${idp.url}/admin/app/sign-on`);
      await idpAdmin.getByLabel('Single sign-on URL').fill(ssoUrl);
      await idpAdmin.getByLabel('Audience URI (SP Entity ID)').fill(audience);
      assert.ok((await idpSubmit(idpAdmin, 'Save')).ok);

      // The IdP's entity ID and metadata URL ("View IdP metadata"), pasted into Ledgerline.
      const entityId = (await idpAdmin.locator('#idp-entity-id').textContent())!.trim();
      const metadataUrl = (await idpAdmin.locator('#idp-metadata-url').textContent())!.trim();
      await ledger.bringToFront();
      await ledger.getByRole('textbox', { name: 'Entity ID', exact: true }).fill(entityId);
      await ledger.getByRole('textbox', { name: 'Provider Metadata URL', exact: true }).fill(metadataUrl);
      const tested = apiCall(ledger, 'POST', '/api/saml/settings/test');
      await ledger.getByRole('button', { name: 'Test Settings' }).click();
      const testBody = await (await tested).json();
      assert.equal(testBody.ok, true, `Test Settings: ${JSON.stringify(testBody.checks)}`);
      await ledger.getByRole('switch', { name: 'Enabled' }).check();
      // The IdP's app tile (IdP-initiated sign-in) is used in step 7.
      await ledger.getByLabel(/^Allow IdP-initiated sign-in/).check();
      const saved = apiCall(ledger, 'PUT', '/api/saml/settings');
      await ledger.getByRole('button', { name: 'Save', exact: true }).click();
      assert.equal((await saved).status(), 200);
      if (style === 'okta') await readmeShot(ledger, 'saml-settings.png', 1400);

      // SCIM Access Token: Get Token, shown once on the screen, pasted into the IdP.
      const minted = apiCall(ledger, 'POST', '/api/scim/tokens');
      await ledger.getByRole('button', { name: 'Get Token' }).click();
      const getToken = ledger.getByRole('dialog', { name: 'Get a SCIM access token' });
      await getToken.getByLabel('Name (optional)').fill(style === 'okta' ? 'Okta' : 'Entra');
      await getToken.getByRole('button', { name: 'Get Token' }).click();
      const token = (await (await minted).json()).token as string;
      assert.ok(token.length >= 32);
      await ledger.waitForFunction((tok) => Array.from(document.querySelectorAll('input')).some((i) => i.value === tok), token);

      await idpAdmin.bringToFront();
      await idpAdmin.goto(`${idp.url}/admin/app/general`);
      await idpAdmin.getByLabel('Enable SCIM provisioning').check();
      assert.ok((await idpSubmit(idpAdmin, 'Save')).ok);
      await idpAdmin.getByRole('link', { name: 'Provisioning' }).click();
      await idpAdmin.getByLabel('SCIM connector base URL').fill(scimBase);
      await idpAdmin.getByLabel('Unique identifier field for users').fill('userName');
      await idpAdmin.getByLabel('Bearer').fill(token);
      const connector = await idpSubmit(idpAdmin, 'Test Connector Configuration', 'Integration');
      assert.ok(connector.ok, connector.text);
      assert.ok((await idpSubmit(idpAdmin, 'Save', 'Integration')).ok);
      // To App: Create Users and Deactivate Users enabled.
      await idpAdmin.getByRole('form', { name: 'To App' }).getByLabel('Create Users').check();
      await idpAdmin.getByRole('form', { name: 'To App' }).getByLabel('Deactivate Users').check();
      assert.ok((await idpSubmit(idpAdmin, 'Save', 'To App')).ok);
      const u = new URL(idp.state.log[0].url);
      const first = `${idp.state.log[0].method} ${decodeURIComponent(u.pathname + u.search).replace('/ResourceServer/api/SCIM', '')}`;
      if (style === 'okta') assert.equal(first, 'GET /Users?startIndex=1&count=2');
      else assert.match(first, /^GET \/Users\?filter=userName eq "[^"]+"$/);
    });

    step('step 2: assigning two people creates them on Setup › Users, from the identity provider, read-only', async () => {
      await idpAdmin.bringToFront();
      await idpAdmin.goto(`${idp.url}/admin/app/assignments`);
      for (const name of ['Fiona', 'Sam']) {
        const r = await idpSubmit(idpAdmin, `Assign ${name}`);
        assert.ok(r.ok, r.text);
      }
      await ledger.bringToFront();
      await ledger.goto('/setup/users');
      const main = ledger.getByRole('main');
      for (const userName of [FIONA, SAM]) {
        const row = main.getByRole('row').filter({ has: ledger.getByRole('link', { name: userName }) });
        await row.waitFor();
        assert.match((await row.textContent()) ?? '', /Identity provider/);
      }
      // Read-only access: the SCIM Default role group (ReadOnly) and nothing editable.
      const users = await adminApi.json(`/api/users?q=${encodeURIComponent(FIONA)}`);
      const detail = await adminApi.json(`/api/users/${users.body.items[0].id}`);
      const levels = new Set(detail.body.effectivePermissions.map((p: any) => p.level));
      assert.deepEqual([...levels], ['read']);
      await main.getByRole('link', { name: FIONA }).click();
      await ledger.getByRole('heading', { level: 2, name: 'Effective permissions' }).waitFor();
      await ledger.getByText(/managed by your identity provider/i).first().waitFor();
    });

    step('step 3: pushing Finance and Support creates two SCIM roles and role groups with their members', async () => {
      await idpAdmin.bringToFront();
      await idpAdmin.goto(`${idp.url}/admin/app/push-groups`);
      for (const group of ['Finance', 'Support']) {
        await idpAdmin.getByLabel('Group', { exact: true }).selectOption({ label: group });
        const r = await idpSubmit(idpAdmin, 'Save');
        assert.ok(r.ok, r.text);
      }
      await ledger.bringToFront();
      await ledger.goto('/setup/roles');
      for (const group of ['Finance', 'Support']) {
        const row = ledger.getByRole('main').getByRole('row').filter({ has: ledger.getByRole('link', { name: group, exact: true }) });
        await row.waitFor();
        assert.match((await row.textContent()) ?? '', /SCIM role/);
      }
      await ledger.goto('/setup/role-groups');
      for (const group of ['Finance', 'Support']) await ledger.getByRole('main').getByRole('link', { name: group, exact: true }).waitFor();
      await ledger.goto('/setup/users');
      const fionaRow = ledger.getByRole('main').getByRole('row').filter({ has: ledger.getByRole('link', { name: FIONA }) });
      await fionaRow.filter({ hasText: 'Finance' }).waitFor();
      await ledger.getByRole('main').getByRole('row').filter({ has: ledger.getByRole('link', { name: SAM }) }).filter({ hasText: 'Support' }).waitFor();
      if (style === 'okta') await readmeShot(ledger, 'users.png', 480);
    });

    step('step 4: the admin gives Finance Full Permission on Invoices and Payments, Read Only on Accounts, nothing elsewhere', async () => {
      await ledger.bringToFront();
      await ledger.goto('/setup/role-groups');
      await ledger.getByRole('main').getByRole('link', { name: 'Finance', exact: true }).click();
      const matrix = ledger.getByRole('table', { name: 'Permissions' });
      await matrix.waitFor();
      // Start from nothing: every menu row to No Permission, then the grants. Home stays readable,
      // because the guide's "sees Home" needs it.
      for (const menu of CATALOGUE) {
        const single = menu.screens.length === 1 && menu.screens[0].key === menu.key;
        await matrix.getByRole('radio', { name: `${single ? menu.screens[0].label : `${menu.label} (all screens)`}: No Permission`, exact: true }).check();
      }
      const grants: [string, string][] = [
        ['Home', 'Read Only'],
        ['Accounts', 'Read Only'],
        ['Invoices', 'Full Permission'],
        ['Payments', 'Full Permission'],
      ];
      for (const [screen, level] of grants) await matrix.getByRole('radio', { name: `${screen}: ${level}`, exact: true }).check();
      const saved = apiCall(ledger, 'PATCH', /^\/api\/role-groups\//);
      await ledger.getByRole('button', { name: 'Save', exact: true }).click();
      const body = await (await saved).json();
      const granted = Object.entries(body.levels as Record<string, string>).filter(([, l]) => l !== 'none');
      assert.deepEqual(Object.fromEntries(granted), { home: 'read', accounts: 'read', invoices: 'full', payments: 'full' });
    });

    step('step 5: after sign-out the login page offers Log in with SSO; Fiona signs in at the IdP and sees exactly her screens', async () => {
      await ledger.bringToFront();
      await ledger.getByRole('button', { name: 'Sign out' }).click();
      await ledger.waitForURL(/\/login/);
      await ledger.getByRole('link', { name: 'Log in with SSO' }).waitFor();

      await fiona.bringToFront();
      await fiona.goto('/login');
      await fiona.getByRole('link', { name: 'Log in with SSO' }).click();
      await fiona.waitForURL(`${idp.url}/sso?**`);
      await fiona.getByRole('button', { name: /^Sign in as Fiona Finance/ }).click();
      await fiona.waitForURL(`${t.baseUrl}/**`);
      await fiona.getByRole('navigation', { name: 'Main menu' }).waitFor();
      assert.deepEqual(await menuScreens(fiona), ['Home', 'Accounts', 'Invoices', 'Payments']);
      const who = await me(fiona);
      assert.equal(who.body.user.userName, FIONA);
      assert.deepEqual(
        Object.fromEntries(Object.entries(who.body.permissions).filter(([, l]) => l !== 'none')),
        { home: 'read', accounts: 'read', invoices: 'full', payments: 'full' },
      );
      // Every other screen: refused by the API, and a "no access" page in the UI.
      for (const p of ['/api/users', '/api/roles', '/api/role-groups', '/api/saml/settings', '/api/audit', '/api/provisioning-log', '/api/products', '/api/usage']) {
        assert.equal((await fiona.request.get(p)).status(), 403, `${p} must be refused`);
      }
      const write = await fiona.request.post('/api/accounts', { headers: { 'x-csrf-token': who.body.csrfToken, origin: t.baseUrl }, data: { name: 'Not allowed Ltd' } });
      assert.equal(write.status(), 403, 'Accounts is read-only');
      // Payments is editable: an (empty) write gets past the permission check and fails only validation.
      const pay = await fiona.request.post('/api/payments', { headers: { 'x-csrf-token': who.body.csrfToken, origin: t.baseUrl }, data: {} });
      assert.equal(pay.status(), 400, `Payments is editable: ${await pay.text()}`);
      await fiona.goto('/setup/users');
      await fiona.getByRole('heading', { level: 1, name: 'You do not have access' }).waitFor();
    });

    step('step 6: moving Fiona from Finance to Support in the IdP changes her screens on her next request', async () => {
      const person = idp.state.personByUserName(FIONA)!;
      await idpAdmin.bringToFront();
      await idpAdmin.goto(`${idp.url}/admin/people/${person.id}`);
      await idpAdmin.getByRole('checkbox', { name: 'Finance' }).uncheck();
      await idpAdmin.getByRole('checkbox', { name: 'Support' }).check();
      const r = await idpSubmit(idpAdmin, 'Save groups');
      assert.ok(r.ok, r.text);
      const sent = idp.state.log.slice(-4).map((x) => x.method);
      assert.deepEqual(sent, style === 'okta' ? ['GET', 'PUT', 'GET', 'PUT'] : ['GET', 'PATCH', 'GET', 'PATCH']);

      // No new sign-in: the same session, next request.
      await fiona.bringToFront();
      await fiona.goto('/');
      await fiona.getByRole('navigation', { name: 'Main menu' }).waitFor();
      const who = await me(fiona);
      assert.equal(who.body.permissions.invoices, 'read', 'Invoices is no longer editable');
      assert.deepEqual(await menuScreens(fiona), visibleScreens(who.body.permissions));
      assert.deepEqual(await menuScreens(fiona), ALL_SCREENS, 'Support starts as a copy of SCIM Default: every screen, read only');
    });

    step('step 7: deactivating Fiona in the IdP ends her session; SSO then says the account is disabled; reactivation restores access', async () => {
      const person = idp.state.personByUserName(FIONA)!;
      await idpAdmin.bringToFront();
      await idpAdmin.goto(`${idp.url}/admin/people/${person.id}`);
      let r = await idpSubmit(idpAdmin, 'Deactivate');
      assert.ok(r.ok, r.text);
      assert.equal((await me(fiona)).status, 401, 'the open session is refused on the next request');
      await fiona.bringToFront();
      // Bringing the tab to the front also makes the open page re-check its session (on focus), and
      // its own move to the login page can supersede this navigation: gotoSignedOut allows for it.
      await gotoSignedOut(fiona, '/');
      await fiona.waitForURL(/\/login/);

      await fiona.getByRole('link', { name: 'Log in with SSO' }).click();
      await fiona.getByRole('button', { name: /^Sign in as Fiona Finance/ }).click();
      await fiona.waitForURL(`${t.baseUrl}/**`);
      await fiona.getByText(/account is disabled/i).first().waitFor();
      assert.equal((await me(fiona)).status, 401);

      await idpAdmin.bringToFront();
      r = await idpSubmit(idpAdmin, 'Activate');
      assert.ok(r.ok, r.text);
      // Back in, this time from the IdP's dashboard tile (IdP-initiated, no AuthnRequest).
      await fiona.bringToFront();
      await fiona.goto(`${idp.url}/home`);
      await fiona.getByLabel('Signed in to the IdP as').selectOption({ label: `Fiona Finance (${FIONA})` });
      await fiona.getByRole('button', { name: 'Ledgerline', exact: true }).click();
      await fiona.getByRole('navigation', { name: 'Main menu' }).waitFor();
      assert.equal((await me(fiona)).body.user.userName, FIONA);
    });

    step('step 8: unlinking Support with "Delete the group in the target app" removes its SCIM role; Fiona falls back to SCIM Default', async () => {
      await idpAdmin.bringToFront();
      await idpAdmin.goto(`${idp.url}/admin/app/push-groups`);
      await idpAdmin.getByLabel('When unlinking Support').selectOption('delete');
      const r = await idpSubmit(idpAdmin, 'Unlink Support');
      assert.ok(r.ok, r.text);
      assert.equal(idp.state.log.at(-1)!.method, 'DELETE');

      await ledger.bringToFront();
      await signInThroughUi(ledger, admin.username, admin.password, '/setup/roles');
      await ledger.getByRole('main').getByRole('link', { name: 'Finance', exact: true }).waitFor();
      assert.equal(await ledger.getByRole('main').getByRole('link', { name: 'Support', exact: true }).count(), 0);
      await ledger.goto('/setup/users');
      await ledger.getByRole('main').getByRole('row').filter({ has: ledger.getByRole('link', { name: FIONA }) }).filter({ hasText: 'SCIM Default' }).waitFor();

      const users = await adminApi.json(`/api/users?q=${encodeURIComponent(FIONA)}`);
      const detail = await adminApi.json(`/api/users/${users.body.items[0].id}`);
      assert.deepEqual(detail.body.pushedGroups, []);
      const scimDefault = (await adminApi.json('/api/role-groups')).body.items.find((g: any) => g.isScimDefault);
      for (const p of detail.body.effectivePermissions) if (p.level !== 'none') assert.deepEqual(p.grantedBy.map((g: any) => g.name), [scimDefault.name]);

      // Her next request carries the SCIM Default permissions.
      await fiona.bringToFront();
      await fiona.goto('/');
      await fiona.getByRole('navigation', { name: 'Main menu' }).waitFor();
      const who = await me(fiona);
      const expected = (await adminApi.json(`/api/role-groups/${scimDefault.id}`)).body.levels;
      assert.deepEqual(who.body.permissions, expected);
    });
  });
}
