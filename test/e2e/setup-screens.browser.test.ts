// In the browser: Setup screens an IT admin reads when connecting an identity provider. SAML
// Settings lists only SCIM access tokens that work, names them and revokes one at a time; Users names
// SCIM roles as the Roles screen does;
// the Provisioning Log prints an error once and says how long requests are kept; SAML Settings gives
// every URL the Okta and Entra guides tell the admin to enter.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { createLocalAdmin, createUserWithLevels } from '../helpers/app.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { createToken } from '../../src/scim/scim-tokens.service.ts';
import { captureOnFailure, launchBrowser, newSession, signInThroughUi } from '../helpers/browser.ts';
import { oktaUser, startScim, type ScimHarness } from '../scim/scim-client.ts';

let h: ScimHarness;
let browser: Browser;
let admin: { username: string; password: string };

before(async () => {
  h = await startScim({ env: { PROVISIONING_LOG_DAYS: '45' } });
  admin = await createLocalAdmin(h.t.database);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await h?.t.close();
});

/** Runs `run` on a new page signed in as the admin; screenshots under `name` if it fails. */
async function asAdmin(name: string, run: (page: Page) => Promise<void>): Promise<void> {
  const { page } = await newSession(browser, h.t.baseUrl);
  try {
    await captureOnFailure(name, [page], async () => {
      await signInThroughUi(page, admin.username, admin.password);
      await run(page);
    });
  } finally {
    await page.context().close();
  }
}

/** The SCIM Access Token panel's table rows as [name, expires], or null when it shows no table. */
async function tokenRows(page: Page): Promise<string[][] | null> {
  const panel = page.getByRole('region', { name: 'SCIM Access Token' });
  await panel.getByRole('table', { name: 'SCIM access tokens' }).or(panel.getByText('No SCIM access token')).waitFor();
  const table = panel.getByRole('table', { name: 'SCIM access tokens' });
  if (!(await table.count())) return null;
  const rows = await table.locator('tbody tr').all();
  return Promise.all(rows.map(async (r) => [await r.locator('td').nth(0).innerText(), await r.locator('td').nth(3).innerText()]));
}

test('the SCIM Access Token panel lists only tokens that work; once all are cleared it says there is none and offers only Get Token', async () => {
  // The harness's own token ("test") is revoked by the refresh below; then "old" works in its grace period.
  const old = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'old' } });
  const refreshed = await h.admin.json('/api/scim/tokens/refresh', { method: 'POST', body: { graceHours: 2, name: 'new' } });
  assert.equal(refreshed.status, 201);
  await h.admin.json('/api/scim/tokens', { method: 'DELETE' });
  const current = await h.admin.json('/api/scim/tokens/refresh', { method: 'POST', body: { graceHours: 2, name: 'current' } });
  const gone = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'expired' } });
  await h.t.database.db.updateTable('scim_tokens').set({ expires_at: '2000-01-01T00:00:00.000Z' }).where('id', '=', gone.body.item.id).execute();
  const grace = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'in grace' } });
  await h.t.database.db.updateTable('scim_tokens').set({ expires_at: '2099-01-01T00:00:00.000Z' }).where('id', '=', grace.body.item.id).execute();
  const states = Object.fromEntries((await h.admin.json('/api/scim/tokens')).body.items.map((i: { name: string; state: string }) => [i.name, i.state]));
  assert.deepEqual(states, { 'in grace': 'expiring', expired: 'expired', current: 'active', new: 'revoked', old: 'revoked', test: 'revoked' });
  assert.ok(old.body.item.id && current.body.item.id);

  await asAdmin('scim-token-panel', async (page) => {
    await page.goto('/setup/saml');
    const panel = page.getByRole('region', { name: 'SCIM Access Token' });
    // Before: all six were listed, the revoked ones as "Does not expire".
    const rows = await tokenRows(page);
    const byName = Object.fromEntries(rows ?? []);
    assert.deepEqual(Object.keys(byName).sort(), ['current', 'in grace']);
    assert.match(byName['in grace'], /2099/, 'a token in its grace period shows when it stops working');
    assert.equal(byName.current, '—', 'a token not being replaced has no end');
    assert.ok(await panel.getByRole('button', { name: 'Refresh Token' }).isEnabled());

    await h.admin.json('/api/scim/tokens', { method: 'DELETE' });
    await page.reload();
    assert.equal(await tokenRows(page), null, 'no table once every token is revoked');
    await panel.getByText('No SCIM access token').waitFor();
    assert.equal(await panel.getByRole('button', { name: 'Refresh Token' }).isDisabled(), true);
    assert.equal(await panel.getByRole('button', { name: 'Clear Token' }).isDisabled(), true);
    assert.equal(await panel.getByRole('button', { name: 'Get Token' }).isEnabled(), true);
  });
});

test('an admin names two SCIM access tokens and revokes one from its row: the other still provisions and the revoked one gets 401; Read Only sees no Revoke; revoking the last working token leaves the empty state', async () => {
  // Only this test's tokens may work, so that revoking its last one leaves none (the next test makes its own).
  await h.admin.json('/api/scim/tokens', { method: 'DELETE' });
  const reader = await createUserWithLevels(h.admin, { 'saml-settings': 'read' });
  const scimStatus = async (token: string) => (await fetch(`${h.base}/Users?count=1`, { headers: { authorization: `Bearer ${token}` } })).status;

  await asAdmin('scim-token-revoke', async (page) => {
    await page.goto('/setup/saml');
    const panel = page.getByRole('region', { name: 'SCIM Access Token' });
    const copyBox = panel.getByLabel('New SCIM access token', { exact: true });
    await panel.getByText('No SCIM access token').waitFor();

    /** Get Token with `name`; the dialog, still open when the server refused the name. */
    const getToken = async (name: string) => {
      await panel.getByRole('button', { name: 'Get Token' }).click();
      const dialog = page.getByRole('dialog', { name: 'Get a SCIM access token' });
      await dialog.getByLabel('Name (optional)').fill(name);
      await dialog.getByRole('button', { name: 'Get Token' }).click();
      return dialog;
    };
    const row = (name: string) => panel.getByRole('table', { name: 'SCIM access tokens' }).locator('tbody tr').filter({ has: page.getByRole('cell', { name, exact: true }) });
    /** Revoke… on the row of `name`, the question it asks, and the toast; the row goes. */
    const revoke = async (name: string, question: string) => {
      await row(name).getByRole('button', { name: `Revoke ${name}` }).click();
      const confirm = page.getByRole('dialog', { name: `Revoke SCIM access token “${name}”?` });
      await confirm.getByText(question).waitFor();
      await confirm.getByRole('button', { name: 'Revoke token' }).click();
      await page.getByRole('status').filter({ hasText: `SCIM access token “${name}” revoked.` }).waitFor();
      await row(name).waitFor({ state: 'detached' });
    };

    // A name the server refuses is shown under its field; corrected, the token is made under it.
    const refused = await getToken('x'.repeat(101));
    await refused.getByText('Shorten it to 100 characters or fewer.').waitFor();
    assert.equal(await refused.getByLabel('Name (optional)').getAttribute('aria-invalid'), 'true');
    await refused.getByLabel('Name (optional)').fill('Okta production');
    await refused.getByRole('button', { name: 'Get Token' }).click();
    await row('Okta production').waitFor();
    const okta = await copyBox.inputValue();
    await getToken('Nightly script');
    await row('Nightly script').waitFor();
    const script = await copyBox.inputValue();
    assert.notEqual(script, okta);
    assert.deepEqual(await tokenRows(page), [['Nightly script', '—'], ['Okta production', '—']], 'both names, newest first; neither expires');

    // The Okta token in use: its row says when; the script's says Never.
    assert.equal(await scimStatus(okta), 200);
    await page.reload();
    const used = (await h.admin.json('/api/scim/tokens')).body.items.find((i: { name: string }) => i.name === 'Okta production').lastUsedAt;
    assert.ok(used);
    assert.equal(await row('Okta production').locator('td').nth(2).locator('time').getAttribute('datetime'), used);
    assert.equal(await row('Nightly script').locator('td').nth(2).innerText(), 'Never');
    await getToken('Nightly script (spare)');
    await row('Nightly script (spare)').waitFor();
    const spare = await copyBox.inputValue();

    await revoke('Nightly script', 'Your identity provider stops provisioning with it at once. The other tokens keep working.');
    assert.deepEqual([await scimStatus(script), await scimStatus(okta), await scimStatus(spare)], [401, 200, 200], 'only the revoked token is refused');
    // The token on show is revoked: it is no longer offered for copying.
    await revoke('Nightly script (spare)', 'Your identity provider stops provisioning with it at once. The other token keeps working.');
    assert.equal(await copyBox.count(), 0);
    assert.deepEqual([await scimStatus(spare), await scimStatus(okta)], [401, 200]);

    // Read Only sees the tokens, not the buttons that change them.
    const { page: readerPage } = await newSession(browser, h.t.baseUrl);
    try {
      await captureOnFailure('scim-token-revoke-reader', [readerPage], async () => {
        await signInThroughUi(readerPage, reader.username, reader.password, '/setup/saml');
        assert.deepEqual(await tokenRows(readerPage), [['Okta production', '—']]);
        const readerPanel = readerPage.getByRole('region', { name: 'SCIM Access Token' });
        assert.deepEqual(await readerPanel.getByRole('button').allInnerTexts(), [], 'no Get, Refresh, Clear or Revoke');
      });
    } finally {
      await readerPage.context().close();
    }

    // Refresh under a new name: the old token shows the end of its grace period, the new one "—".
    await panel.getByRole('button', { name: 'Refresh Token' }).click();
    const refresh = page.getByRole('dialog', { name: 'Refresh the SCIM access token' });
    await refresh.getByLabel('Name (optional)').fill('Okta (rotated)');
    // An emptied grace period is not 0 hours (which would end the other tokens at once): it is refused.
    await refresh.getByLabel('Grace period (hours)').fill('');
    await refresh.getByText('Enter 0 to 720 hours.').waitFor();
    assert.equal(await refresh.getByRole('button', { name: 'Refresh Token' }).isDisabled(), true);
    await refresh.getByLabel('Grace period (hours)').fill('2');
    await refresh.getByRole('button', { name: 'Refresh Token' }).click();
    await row('Okta (rotated)').waitFor();
    const rotated = await copyBox.inputValue();
    const graceEnd = (await h.admin.json('/api/scim/tokens')).body.items.find((i: { name: string }) => i.name === 'Okta production').expiresAt;
    assert.equal(await row('Okta production').locator('td').nth(3).locator('time').getAttribute('datetime'), graceEnd);
    assert.equal(await row('Okta (rotated)').locator('td').nth(3).innerText(), '—');

    await revoke('Okta production', 'Your identity provider stops provisioning with it at once. The other token keeps working.');
    assert.deepEqual([await scimStatus(okta), await scimStatus(rotated)], [401, 200]);
    // The last working token: the panel says there is none.
    await revoke('Okta (rotated)', 'It is the only working token: provisioning stops until you get a new one and paste it into your identity provider.');
    await panel.getByText('No SCIM access token').waitFor();
    assert.equal(await tokenRows(page), null);
    assert.equal(await scimStatus(rotated), 401);
    assert.equal(await panel.getByRole('button', { name: 'Clear Token' }).isDisabled(), true);
  });
});

test('a user in pushed groups Admin and Support shows their SCIM roles as the Roles screen names them, not as the core role Admin', async () => {
  h.token = (await createToken(h.t.database.db, systemActor('test'), 'roles')).token;
  const user = await h.scim('POST', '/Users', oktaUser('fiona.roles@acme.com'));
  assert.equal(user.status, 201);
  for (const displayName of ['Admin', 'Support']) {
    const g = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName, members: [{ value: user.body.id }] });
    assert.equal(g.status, 201);
  }
  await asAdmin('users-scim-roles', async (page) => {
    await page.goto('/setup/roles?q=admin');
    const roles = page.getByRole('table', { name: 'Roles' });
    await roles.getByRole('link', { name: 'Admin (SCIM)' }).waitFor();

    await page.goto('/setup/users?q=fiona.roles');
    const row = page.getByRole('table', { name: 'Users' }).locator('tbody tr').filter({ hasText: 'fiona.roles@acme.com' });
    // Before: "Admin, Support", as if the user had the core role Admin.
    assert.equal((await row.locator('td').nth(3).innerText()).trim(), 'Admin (SCIM), Support SCIM roles');
    assert.equal(await row.locator('td').nth(3).locator('[title]').getAttribute('title'), 'Pushed groups Admin, Support');

    await row.getByRole('link', { name: 'fiona.roles@acme.com' }).click();
    const role = page.getByLabel('Role', { exact: true });
    await role.waitFor();
    assert.equal(await role.innerText(), 'Admin (SCIM), Support (SCIM roles)');
    const pushed = page.locator('.field').filter({ has: page.getByText('Pushed groups', { exact: true }) }).locator('.ro-value');
    assert.equal(await pushed.innerText(), 'Admin (SCIM role Admin (SCIM)), Support (SCIM role Support)');
  });
});

test('the Provisioning Log prints a failed request\'s error once, with its scimType, and says how long requests are kept', async () => {
  h.token = (await createToken(h.t.database.db, systemActor('test'), 'log')).token;
  assert.equal((await h.scim('POST', '/Users', oktaUser('fiona.twice@acme.com'))).status, 201);
  const again = await h.scim('POST', '/Users', oktaUser('fiona.twice@acme.com'));
  assert.equal(again.status, 409);
  const detail: string = again.body.detail;
  assert.equal(again.body.scimType, 'uniqueness');
  const api = await h.admin.json('/api/provisioning-log?status=error');
  assert.equal(api.body.retentionDays, 45, 'the API says PROVISIONING_LOG_DAYS');

  await asAdmin('provisioning-log-error-once', async (page) => {
    await page.goto('/setup/provisioning-log?q=fiona.twice');
    const row = page.getByRole('table', { name: 'Provisioning log' }).locator('tbody tr').filter({ hasText: '409' });
    const text = (await row.locator('td').nth(3).innerText()).trim();
    // Before: "failed to create user fiona.twice@acme.com: <detail> — uniqueness: <detail>".
    assert.equal(text, `failed to create user fiona.twice@acme.com: ${detail} — uniqueness`);
    await page.getByText('Requests are kept for 45 days.', { exact: true }).waitFor();
  });
});

test('Values for your identity provider has the Single Logout URL and Sign on URL the guides tell the admin to enter, each read-only with Copy', async () => {
  await asAdmin('sp-values-panel', async (page) => {
    await page.goto('/setup/saml');
    const panel = page.getByRole('region', { name: 'Values for your identity provider' });
    // Before: the panel had no such boxes (docs/okta.md §6.3, docs/entra.md §2 name them).
    for (const [label, path] of [['Single Logout URL', '/AuthorizationServer/Saml2/Logout'], ['Sign on URL', '/AuthorizationServer/Saml2/Login']]) {
      const box = panel.getByLabel(label, { exact: true });
      assert.equal(await box.inputValue(), `${h.t.baseUrl}${path}`, label);
      assert.equal(await box.getAttribute('readonly'), '');
      await panel.getByRole('button', { name: `Copy ${label}`, exact: true }).waitFor();
    }
  });
});
