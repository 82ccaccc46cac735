// Who SSO signs in: the user whose userName equals the NameID (or a chosen attribute), with the
// permissions their role groups give; unknown users only when just-in-time creation is on.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { updateSettings } from '../../src/saml/saml.settings.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { startSamlApp, sessionCookie, type SamlTestApp } from './setup.ts';

let t: SamlTestApp;
before(async () => {
  t = await startSamlApp();
  await t.createUser('alice@example.com');
});
after(async () => t?.close());
const set = (input: Parameters<typeof updateSettings>[3]) => updateSettings(t.database.db, t.config, systemActor('test'), input);

describe('matching and permissions', () => {
  test('a provisioned user signed in by SSO gets the SCIM Default role group (read-only) and the session records the SSO details', async () => {
    const res = await t.post(t.signed({ sessionIndex: 'okta-session-1' }));
    const cookie = sessionCookie(res)!;
    const me = await (await fetch(`${t.baseUrl}/api/me`, { headers: { cookie } })).json();
    const permissions = (me.permissions ?? me.user?.permissions) as Record<string, string>;
    assert.ok(permissions, JSON.stringify(me));
    assert.ok(Object.values(permissions).every((l) => l === 'read' || l === 'none'), 'read-only by default');
    assert.equal(permissions['saml-settings'], 'read');
    const session = await t.database.db.selectFrom('sessions').select(['method', 'sso_info']).where('method', '=', 'saml').orderBy('created_at', 'desc').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(session.sso_info!), { nameId: 'alice@example.com', nameIdFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', sessionIndex: 'okta-session-1', issuer: 'http://www.okta.com/exkTestIdp123' });
    const audit = await t.database.db.selectFrom('audit_log').select(['source', 'target_name']).where('action', '=', 'auth.sso_login').orderBy('id', 'desc').executeTakeFirstOrThrow();
    assert.deepEqual(audit, { source: 'saml', target_name: 'alice@example.com' });
  });

  test('signing in with SSO on a browser that holds another session replaces that session', async () => {
    const first = sessionCookie(await t.post(t.signed()))!;
    const res = await fetch(t.acsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: first },
      body: new URLSearchParams({ SAMLResponse: Buffer.from(t.signed()).toString('base64') }),
      redirect: 'manual',
    });
    assert.equal(res.status, 302);
    assert.notEqual(sessionCookie(res), first);
    assert.equal((await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: first } })).status, 401);
  });

  test('the user name can come from a named attribute instead of the NameID', async () => {
    await set({ userNameSource: 'login' });
    try {
      const res = await t.post(t.signed({ nameId: '00u1abcd', attributes: { login: 'Alice@example.com' } }));
      assert.equal(res.status, 302);
      const missing = await t.post(t.signed({ nameId: 'alice@example.com' }));
      assert.equal(missing.status, 403);
      assert.equal((await t.lastRefusal())?.reason, 'no_name_id');
    } finally {
      await set({ userNameSource: 'nameId' });
    }
  });
});

describe('just-in-time creation', () => {
  test('is off by default: an unknown user is refused and not created', async () => {
    const res = await t.post(t.signed({ nameId: 'newbie@example.com' }));
    assert.equal(res.status, 403);
    const row = await t.database.db.selectFrom('users').select('id').where('user_name_norm', '=', 'newbie@example.com').executeTakeFirst();
    assert.equal(row, undefined);
  });

  test('when on, creates the unknown user as a provisioned user and signs them in', async () => {
    await set({ jitProvisioning: true });
    try {
      const res = await t.post(t.signed({ nameId: 'newbie@example.com', attributes: { firstName: 'New', lastName: 'Bie' } }));
      assert.equal(res.status, 302);
      const user = await t.database.db.selectFrom('users').select(['source', 'status', 'display_name', 'password_hash']).where('user_name_norm', '=', 'newbie@example.com').executeTakeFirstOrThrow();
      assert.deepEqual(user, { source: 'idp', status: 'active', display_name: 'New Bie', password_hash: null });
    } finally {
      await set({ jitProvisioning: false });
    }
  });
});

describe('just-in-time creation, racing', () => {
  test('four sign-ins of one new user at once (two tabs, a double post) create the user once and sign in all four', async () => {
    await set({ jitProvisioning: true });
    try {
      const responses = await Promise.all(Array.from({ length: 4 }, () => t.post(t.signed({ nameId: 'twice@example.com' }))));
      assert.deepEqual(responses.map((r) => r.status), [302, 302, 302, 302]);
      assert.ok(responses.every((r) => sessionCookie(r)), 'each got a session');
      const users = await t.database.db.selectFrom('users').select('id').where('user_name_norm', '=', 'twice@example.com').execute();
      assert.equal(users.length, 1);
      const created = await t.database.db.selectFrom('audit_log').select('id').where('action', '=', 'user.create').where('target_name', '=', 'twice@example.com').execute();
      assert.equal(created.length, 1, 'one creation in the audit log');
    } finally {
      await set({ jitProvisioning: false });
    }
  });
});

describe('when SSO is disabled', () => {
  test('the login page is told so and the Login endpoint refuses with a page', async () => {
    await set({ enabled: false });
    try {
      assert.deepEqual(await (await fetch(`${t.baseUrl}/api/auth/sso`)).json(), { enabled: false, loginUrl: '/AuthorizationServer/Saml2/Login' });
      const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Login?returnTo=/invoices`, { redirect: 'manual' });
      assert.equal(res.status, 403);
      assert.match(await res.text(), /Single sign-on is not enabled/);
      assert.equal((await t.lastRefusal())?.reason, 'sso_disabled');
    } finally {
      await set({ enabled: true });
    }
  });
});

describe('SP-initiated login', () => {
  test('redirects to the IdP with a deflated AuthnRequest for our ACS, asking for no particular authentication context', async () => {
    const { location } = await t.login('/invoices');
    const u = new URL(location);
    assert.equal(u.searchParams.get('RelayState'), '/invoices');
    const { inflateRawSync } = await import('node:zlib');
    const xml = inflateRawSync(Buffer.from(u.searchParams.get('SAMLRequest')!, 'base64')).toString();
    assert.match(xml, new RegExp(`AssertionConsumerServiceURL="${t.acsUrl}"`));
    assert.match(xml, new RegExp(`<saml:Issuer[^>]*>${t.spEntityId}</saml:Issuer>`));
    assert.doesNotMatch(xml, /RequestedAuthnContext/);
    const stored = await t.database.db.selectFrom('saml_requests').select('return_to').where('id', '=', /ID="([^"]+)"/.exec(xml)![1]).executeTakeFirstOrThrow();
    assert.equal(stored.return_to, '/invoices');
  });
});
