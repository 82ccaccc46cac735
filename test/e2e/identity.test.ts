// Browser tests of sign-in, the permission-driven menu, read-only screens, live permission
// changes and sign-out, in Debian's chromium against a real app (web/dist built by npm test).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { captureOnFailure, launchBrowser, menuScreens, newSession, signInThroughUi } from '../helpers/browser.ts';

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

  test('signing out returns to the login page and the old session no longer opens screens', async () => {
    const page = await session();
    await captureOnFailure('sign-out', [page], async () => {
      await signInThroughUi(page, admin.username, admin.password, '/setup/users');
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.waitForURL((url) => url.pathname === '/login');
      await page.goto('/setup/users');
      await page.waitForURL((url) => url.pathname === '/login' && url.searchParams.get('returnTo') === '/setup/users');
      await page.getByRole('button', { name: 'Sign in' }).waitFor();
      const me = await page.request.get('/api/me');
      assert.equal(me.status(), 401);
    });
    await page.context().close();
  });
});
