// Browser tests of sign-in, the permission-driven menu, read-only screens, live permission
// changes and sign-out, in Debian's chromium against a real app (web/dist built by npm test).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { provisioningLogDbOf } from '../../src/db/database.ts';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { holdProvisioningLog } from '../helpers/other-connection.ts';
import { captureOnFailure, gotoSignedOut, launchBrowser, menuScreens, newSession, signInThroughUi } from '../helpers/browser.ts';

const ALL_SCREENS = ['Home', 'Accounts', 'Products', 'Usage', 'Invoices', 'Payments', 'Reports', 'Users', 'Roles', 'Role Groups', 'SAML Settings', 'Provisioning Log', 'Audit Log'];

describe('admin UI in the browser', () => {
  let t: TestApp;
  let browser: Browser;
  let admin: { username: string; password: string };
  let adminApi: Client;

  before(async () => {
    t = await startTestApp();
    admin = await createLocalAdmin(t.database, 'ui-admin');
    adminApi = await signIn(t.baseUrl, admin.username, admin.password);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await t?.close();
  });

  async function session(): Promise<Page> {
    return (await newSession(browser, t.baseUrl)).page;
  }

  const cspViolations = (errors: string[]) => errors.filter((e) => /Content Security Policy|Refused to/i.test(e));

  test('an administrator signs in on the login page, lands on Home and sees every screen in the menu', async () => {
    const { page, errors } = await newSession(browser, t.baseUrl);
    await captureOnFailure('admin-sign-in', [page], async () => {
      await page.goto('/');
      await page.waitForURL(/\/login\?returnTo=%2F$/);
      await page.getByLabel('User name').fill(admin.username);
      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'not correct' }).waitFor();

      await signInThroughUi(page, admin.username, admin.password);
      assert.equal(new URL(page.url()).pathname, '/');
      await page.getByRole('heading', { level: 1, name: 'Home' }).waitFor();
      assert.deepEqual(await menuScreens(page), ALL_SCREENS);
      // The strict CSP (no inline scripts or styles) holds for the whole shell and a dense list.
      await page.goto('/operations/audit');
      await page.getByRole('table', { name: 'Audit log' }).waitFor();
      assert.deepEqual(cspViolations(errors), []);
    });
    await page.context().close();
  });

  test('the menu shows only permitted screens and a forbidden screen says so', async () => {
    const u = await createUserWithLevels(adminApi, { home: 'read', invoices: 'full', users: 'read' });
    const page = await session();
    await captureOnFailure('menu-permitted', [page], async () => {
      await signInThroughUi(page, u.username, u.password, '/invoices');
      assert.equal(new URL(page.url()).pathname, '/invoices');
      assert.deepEqual(await menuScreens(page), ['Home', 'Invoices', 'Users']);
      await page.goto('/setup/role-groups');
      await page.getByRole('heading', { level: 1, name: 'You do not have access' }).waitFor();
      await page.goto('/no/such/screen');
      await page.getByRole('heading', { level: 1, name: 'Page not found' }).waitFor();
    });
    await page.context().close();
  });

  test('a read-only user finds no edit control on users, roles and role groups', async () => {
    const u = await createUserWithLevels(adminApi, { home: 'read', users: 'read', roles: 'read', 'role-groups': 'read' });
    const page = await session();
    await captureOnFailure('read-only', [page], async () => {
      await signInThroughUi(page, u.username, u.password, '/setup/users');
      const main = page.getByRole('main');
      await main.getByRole('link', { name: u.username }).waitFor();
      assert.equal(await main.getByRole('link', { name: 'New user' }).count(), 0);

      await main.getByRole('link', { name: u.username }).click();
      await page.getByRole('heading', { level: 2, name: 'Effective permissions' }).waitFor();
      assert.equal(await main.locator('input, select, textarea').count(), 0, 'no form inputs on a read-only user page');
      for (const name of ['Save', 'Reset password', 'Sign out everywhere']) assert.equal(await main.getByRole('button', { name }).count(), 0, `no ${name} button`);

      await page.goto(`/setup/role-groups/${u.roleGroupId}`);
      await page.getByRole('table', { name: 'Permissions' }).waitFor();
      assert.equal(await main.getByRole('radio').count(), 0, 'matrix shows marks, not radios');
      assert.equal(await main.getByRole('textbox').count(), 0);
      for (const name of ['Save', 'Delete role group', 'Make SCIM Default']) assert.equal(await main.getByRole('button', { name }).count(), 0, `no ${name} button`);

      await page.goto('/setup/roles');
      await main.getByRole('link', { name: `role ${u.username}` }).waitFor();
      assert.equal(await main.getByRole('link', { name: 'New role' }).count(), 0);
      await page.goto('/setup/role-groups');
      await main.getByRole('link', { name: `rg ${u.username}` }).waitFor();
      assert.equal(await main.getByRole('link', { name: 'New role group' }).count(), 0);
    });
    await page.context().close();
  });

  test("editing a role group's matrix changes what another signed-in user can open, without signing in again", async () => {
    const u = await createUserWithLevels(adminApi, { home: 'read', users: 'read' });
    const adminPage = await session();
    const userPage = await session();
    await captureOnFailure('live-permissions', [adminPage, userPage], async () => {
      await signInThroughUi(userPage, u.username, u.password);
      assert.deepEqual(await menuScreens(userPage), ['Home', 'Users']);

      await signInThroughUi(adminPage, admin.username, admin.password, `/setup/role-groups/${u.roleGroupId}`);
      await adminPage.getByRole('radio', { name: 'Audit Log: Read Only' }).check();
      await adminPage.getByRole('radio', { name: 'Users: No Permission' }).check();
      await adminPage.getByRole('button', { name: 'Save' }).click();
      await adminPage.getByRole('status').filter({ hasText: `Saved role group rg ${u.username}` }).waitFor();

      // The other person just keeps clicking: the next navigation picks up the new levels.
      await userPage.getByRole('navigation', { name: 'Main menu' }).getByRole('link', { name: 'Users' }).click();
      const menu = userPage.getByRole('navigation', { name: 'Main menu' });
      await menu.getByRole('link', { name: 'Audit Log' }).waitFor();
      await userPage.getByRole('heading', { level: 1, name: 'You do not have access' }).waitFor();
      assert.deepEqual(await menuScreens(userPage), ['Home', 'Audit Log']);
      await menu.getByRole('link', { name: 'Audit Log' }).click();
      await userPage.getByRole('heading', { level: 1, name: 'Audit Log' }).waitFor();
      await userPage.getByRole('table', { name: 'Audit log' }).waitFor();
    });
    await adminPage.context().close();
    await userPage.context().close();
  });

  test('a Provisioning Log search that stops early says how far back it got, and Search older goes on until the matches are found', async () => {
    const { searchLimits, flushProvisioningLog } = await import('../../src/scim/provisioning-log.service.ts');
    await flushProvisioningLog(t.database.db);
    const row = (i: number, summary: string) => ({ at: new Date(Date.UTC(2003, 0, 1, 0, 0, i)).toISOString(), client: 'ui window test', method: 'POST', path: '/ResourceServer/api/SCIM/Users', status: 201, duration_ms: 2, summary, resource_type: 'User', resource_id: null, user_name: null, error: null, request_body: null, response_body: null });
    await provisioningLogDbOf(t.database.db).insertInto('provisioning_log').values(Array.from({ length: 600 }, (_, i) => row(i, i === 10 ? 'created user old.match@acme.com' : `created user filler${i}@acme.com`))).execute();
    const saved = { ...searchLimits };
    Object.assign(searchLimits, { windowRows: 200, budgetMs: 0 });
    const page = await session();
    try {
      await captureOnFailure('log-search-older', [page], async () => {
        await signInThroughUi(page, admin.username, admin.password, '/setup/provisioning-log');
        const main = page.getByRole('main');
        await main.getByLabel('Search').fill('old.match');
        await main.getByRole('button', { name: 'Search', exact: true }).click();
        await main.getByText('No request matches yet.').waitFor();
        assert.match((await main.getByRole('status').textContent()) ?? '', /Searched back to .*older requests are not searched yet/);
        // Each click searches one window further back; wait for its answer before looking again.
        const progress = () => page.evaluate(() => document.querySelector('main .search-progress, main .empty-state')?.textContent ?? '');
        const match = main.getByRole('cell', { name: 'created user old.match@acme.com' });
        for (let clicks = 0; !(await match.isVisible()); clicks++) {
          assert.ok(clicks < 10, 'found within 10 windows');
          const before = await progress();
          await main.getByRole('button', { name: 'Search older requests' }).click();
          await page.waitForFunction((b) => (document.querySelector('main .search-progress, main .empty-state')?.textContent ?? '') !== b, before);
        }
        // That window reached the oldest request: the search is complete and says nothing more.
        assert.equal(await progress(), '');
        assert.equal(await main.getByRole('button', { name: 'Search older requests' }).count(), 0);
      });
    } finally {
      Object.assign(searchLimits, saved);
      await provisioningLogDbOf(t.database.db).deleteFrom('provisioning_log').where('client', '=', 'ui window test').execute();
      await page.context().close();
    }
  });

  test('while another process holds the Provisioning Log, the page says its newest requests are still being stored, and Refresh shows them once stored', async () => {
    const { listLimits, logWriter, flushProvisioningLog } = await import('../../src/scim/provisioning-log.service.ts');
    await flushProvisioningLog(t.database.db);
    // The SCIM plugin's writer: one per database handle.
    const writer = logWriter(t.database.db, () => t.config.provisioningLogDays);
    const letGo = await holdProvisioningLog(t.databaseUrl);
    let held = true;
    const saved = { ...listLimits };
    listLimits.flushWaitMs = 300;
    const page = await session();
    try {
      await captureOnFailure('log-still-writing', [page], async () => {
        writer.add({ at: new Date().toISOString(), client: 'ui held test', method: 'POST', path: '/ResourceServer/api/SCIM/Users', status: 201, duration_ms: 2, summary: 'created user held.back@acme.com', resource_type: 'User', resource_id: null, user_name: 'held.back@acme.com', error: null, request_body: null, response_body: null });
        await signInThroughUi(page, admin.username, admin.password, '/setup/provisioning-log');
        const main = page.getByRole('main');
        // (The spinner is a status too.)
        const status = main.getByRole('status').filter({ hasText: 'still being stored' });
        await status.waitFor();
        assert.match((await status.textContent()) ?? '', /newest requests are still being stored: another server process is holding the log\. They are stored once it lets go; if there are too many to keep meanwhile, the Audit Log says how many are missing\./);
        const row = main.getByRole('cell', { name: 'created user held.back@acme.com' });
        assert.equal(await row.count(), 0);
        await letGo();
        held = false;
        // The writer may still be waking from its wait for the lock: the usual 2 s for this page.
        Object.assign(listLimits, saved);
        await main.getByRole('button', { name: 'Refresh' }).click();
        await row.waitFor();
        await status.waitFor({ state: 'detached' });
      });
    } finally {
      Object.assign(listLimits, saved);
      if (held) await letGo();
      await provisioningLogDbOf(t.database.db).deleteFrom('provisioning_log').where('client', '=', 'ui held test').execute();
      await page.context().close();
    }
  });

  test('signing out returns to the login page and the old session no longer opens screens', async () => {
    const page = await session();
    await captureOnFailure('sign-out', [page], async () => {
      await signInThroughUi(page, admin.username, admin.password, '/setup/users');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/login');
      await gotoSignedOut(page, '/setup/users');
      await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('returnTo') === '/setup/users');
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      const me = await page.request.get('/api/me');
      assert.equal(me.status(), 401);
    });
    await page.context().close();
  });
  test('Sign out everywhere on your own user says it ends this session too, and does: the other browser and this one are both signed out', async () => {
    const self = await createLocalAdmin(t.database, 'ui-self-signout');
    const elsewhere = await signIn(t.baseUrl, self.username, self.password);
    const page = await session();
    await captureOnFailure('sign-out-everywhere-self', [page], async () => {
      await signInThroughUi(page, self.username, self.password, '/setup/users');
      const me = await (await page.request.get('/api/me')).json();
      await page.goto(`/setup/users/${me.user.id}`);
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      const dialog = page.getByRole('dialog', { name: 'Sign out everywhere' });
      // Before: "End all 2 active sessions of Administrator? They will have to sign in again."
      await dialog.getByText('including this one').waitFor();
      await dialog.getByRole('button', { name: 'Sign me out everywhere' }).click();
      await page.waitForURL((url) => url.pathname === '/login');
      assert.equal((await page.request.get('/api/me')).status(), 401);
      assert.equal((await elsewhere.json('/api/me')).status, 401, 'the other browser is signed out too');
    });
    await page.context().close();
  });

  test("Sign out everywhere on someone without a session says so instead of offering to end 0 sessions", async () => {
    const idle = await createUserWithLevels(adminApi, { home: 'read' }, 'idle');
    const page = await session();
    await captureOnFailure('sign-out-everywhere-idle', [page], async () => {
      await signInThroughUi(page, admin.username, admin.password, '/setup/users');
      await page.goto(`/setup/users/${idle.userId}`);
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      const dialog = page.getByRole('dialog', { name: 'Sign out everywhere' });
      await dialog.getByText('had no active session when this page was loaded').waitFor();
      assert.equal(await dialog.getByText('End all 0').count(), 0);
    });
    await page.context().close();
  });
});
