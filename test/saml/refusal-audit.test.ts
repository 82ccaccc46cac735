// An SSO refusal is found in the Audit Log as docs/okta.md §5 and docs/entra.md §5.3 say: by the
// reference the person was shown, and by the action name auth.sso_failed.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLocalAdmin, signIn, type Client } from '../helpers/app.ts';
import { startSamlApp, type SamlTestApp } from './setup.ts';

let t: SamlTestApp;
let admin: Client;

before(async () => {
  t = await startSamlApp();
  await t.createUser('alice@example.com');
  const a = await createLocalAdmin(t.database);
  admin = await signIn(t.baseUrl, a.username, a.password);
});
after(async () => t?.close());

test("the Audit Log's search finds a refused sign-in by the reference the person was shown and by auth.sso_failed", async () => {
  const res = await t.post(t.signed({ audience: 'https://someone-else.example' }));
  assert.equal(res.status, 403);
  const ref = /SSO-[0-9A-F]{10}/.exec(await res.text())?.[0];
  assert.ok(ref, 'the page shows a reference');

  // Before: the reference was only in the entry's details, which the search does not read.
  const byRef = await admin.json(`/api/audit?q=${ref}`);
  assert.equal(byRef.status, 200);
  assert.deepEqual(byRef.body.items.map((i: { action: string; details: { referenceId: string } }) => [i.action, i.details.referenceId]), [['auth.sso_failed', ref]]);
  assert.match(byRef.body.items[0].summary, new RegExp(`reference ${ref}`));
  // Typed as the person may read it out, in lower case.
  assert.equal((await admin.json(`/api/audit?q=${ref.toLowerCase()}`)).body.items.length, 1);

  // Before: the action name was not searched, so this found nothing.
  const byAction = await admin.json('/api/audit?q=auth.sso_failed');
  assert.ok(byAction.body.items.length >= 1);
  assert.ok(byAction.body.items.every((i: { action: string }) => i.action === 'auth.sso_failed'), JSON.stringify(byAction.body.items.map((i: { action: string }) => i.action)));
  assert.ok(byAction.body.items.some((i: { details: { referenceId: string } }) => i.details.referenceId === ref));
});

test('opening the ACS URL in a browser shows what it is for (405, Allow: POST); a response sent in its URL is refused with a reference and audited', async () => {
  const acs = `${t.baseUrl}/AuthorizationServer/Saml2/ACS`;
  // Before: a JSON 404 ("No route GET /AuthorizationServer/Saml2/ACS").
  const opened = await fetch(acs);
  assert.equal(opened.status, 405);
  assert.equal(opened.headers.get('allow'), 'POST');
  assert.match(opened.headers.get('content-type') ?? '', /^text\/html/);
  const page = await opened.text();
  assert.match(page, /receives sign-ins from your identity provider/);
  assert.match(page, /href="\/login"/);

  const response = Buffer.from('<samlp:Response/>').toString('base64');
  const redirected = await fetch(`${acs}?SAMLResponse=${encodeURIComponent(response)}&RelayState=x`);
  assert.equal(redirected.status, 403);
  const text = await redirected.text();
  const ref = /SSO-[0-9A-F]{10}/.exec(text)?.[0];
  assert.ok(ref, text);
  assert.doesNotMatch(text, /binding|Redirect|SAMLResponse/, 'the details are for the audit log, not the page');
  const audited = await admin.json(`/api/audit?q=${ref}`);
  assert.deepEqual(audited.body.items.map((i: { details: { reason: string } }) => i.details.reason), ['wrong_binding']);
  assert.match(audited.body.items[0].details.detail, /HTTP-POST/);
});
