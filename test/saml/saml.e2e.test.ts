// The SAML Settings screen and SSO sign-in in a real browser (Debian's chromium) against a real app
// (web/dist built by npm test). The IdP is samlify's IdentityProvider behind an intercepted route:
// it reads our AuthnRequest and auto-posts its signed response to the ACS, as Okta does.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { createLocalAdmin } from '../helpers/app.ts';
import { captureOnFailure, launchBrowser, newSession, signInThroughUi } from '../helpers/browser.ts';
import { idpMetadataXml, samlifyIdp } from '../helpers/idp.ts';
import { IDP_ENTITY_ID, IDP_SSO_URL, startSamlApp, type SamlTestApp } from './setup.ts';
import { readSettings } from '../../src/saml/saml.settings.repo.ts';

let t: SamlTestApp;
let browser: Browser;
let admin: { username: string; password: string };

before(async () => {
  t = await startSamlApp({ configure: false });
  admin = await createLocalAdmin(t.database, 'saml-admin');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await t?.close();
});

test('an administrator configures SSO on the SAML Settings screen: values to copy, pasted metadata, Test Settings, Enabled, a SCIM token', async () => {
  const { page, errors } = await newSession(browser, t.baseUrl);
  await captureOnFailure('saml-settings', [page], async () => {
    await signInThroughUi(page, admin.username, admin.password, '/setup/saml');
    await page.getByRole('heading', { level: 1, name: 'SAML Settings' }).waitFor();
    assert.equal(await page.getByLabel('Single sign-on URL', { exact: true }).inputValue(), t.acsUrl);
    assert.equal(await page.getByLabel('Audience URI (SP Entity ID)', { exact: true }).inputValue(), t.baseUrl);
    assert.equal(await page.getByLabel('SP metadata URL', { exact: true }).inputValue(), `${t.baseUrl}/AuthorizationServer/Saml2/Metadata`);
    assert.equal(await page.getByLabel('SCIM connector base URL', { exact: true }).inputValue(), `${t.baseUrl}/ResourceServer/api/SCIM`);

    await page.getByLabel('Entity ID', { exact: true }).fill(IDP_ENTITY_ID);
    await page.getByLabel('Paste or upload metadata XML').check();
    await page.getByLabel('Metadata XML', { exact: true }).fill(idpMetadataXml({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, certs: [t.keys.idp.cert] }));
    await page.getByRole('button', { name: 'Test Settings' }).click();
    const results = page.getByRole('list', { name: 'Test Settings results' });
    await results.waitFor();
    assert.equal(await results.getByText('Pass', { exact: true }).count(), 5);
    // Changing what was tested takes its results away (before, they stayed, vouching for an Entity ID
    // no longer in the field); testing again brings them back.
    await page.getByLabel('Entity ID', { exact: true }).fill(`${IDP_ENTITY_ID}/typo`);
    await results.waitFor({ state: 'detached' });
    await page.getByLabel('Entity ID', { exact: true }).fill(IDP_ENTITY_ID);
    await page.getByRole('button', { name: 'Test Settings' }).click();
    await results.waitFor();
    assert.equal(await results.getByText('Pass', { exact: true }).count(), 5);

    await page.getByRole('switch').check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Single sign-on is enabled').first().waitFor();
    await page.getByRole('table', { name: 'IdP signing certificates' }).getByText('CN=Okta Test IdP').waitFor();
    assert.equal(await page.getByText('SSO enabled', { exact: true }).count(), 1);

    // Options: signed requests (Okta Single Logout needs them), with the SP certificate to download.
    const signing = page.getByLabel('Sign AuthnRequests and LogoutRequests (RSA-SHA256)');
    assert.equal(await signing.isChecked(), false, 'off: the IdP metadata does not ask for signed requests');
    await signing.check();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/valid until \d{4}-\d{2}-\d{2}/).waitFor();
    assert.equal((await readSettings(t.database.db)).signRequests, true);
    const download = await page.request.get('/AuthorizationServer/Saml2/Certificate');
    assert.match(await download.text(), /^-----BEGIN CERTIFICATE-----/);

    await page.getByRole('button', { name: 'Get Token' }).click();
    await page.getByRole('dialog', { name: 'Get a SCIM access token' }).getByRole('button', { name: 'Get Token' }).click();
    const token = await page.getByLabel('New SCIM access token', { exact: true }).inputValue();
    assert.ok(token.length >= 20);
    await page.getByRole('table', { name: 'SCIM access tokens' }).waitFor();
    const list = await fetch(`${t.baseUrl}/ResourceServer/api/SCIM/Users`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(list.status, 200, 'the token shown once works against the SCIM base URL');
    assert.deepEqual(errors.filter((e) => /Content Security Policy|Refused to/i.test(e)), []);
  });
  await page.context().close();
});

test('a deep link opened while signed out returns there after "Log in with SSO"', async () => {
  await t.createUser('alice@example.com');
  const spMetadataXml = await (await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Metadata`)).text();
  const idp = samlifyIdp({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, keys: t.keys.idp });
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('saml-sso', [page], async () => {
    await page.route(`${IDP_SSO_URL}**`, async (route) => {
      const samlResponse = await idp.respond({ spMetadataXml, nameId: 'alice@example.com', sign: 'both', requestUrl: route.request().url() });
      await route.fulfill({
        contentType: 'text/html',
        body: `<form method="post" action="${t.acsUrl}"><input type="hidden" name="SAMLResponse" value="${samlResponse}"></form><script>document.forms[0].submit()</script>`,
      });
    });
    await page.goto('/invoices');
    await page.waitForURL(/\/login\?returnTo=%2Finvoices$/);
    await page.getByRole('link', { name: 'Log in with SSO' }).click();
    await page.waitForURL(`${t.baseUrl}/invoices`);
    await page.getByRole('heading', { level: 1, name: 'Invoices' }).waitFor();
  });
  await page.context().close();
});
