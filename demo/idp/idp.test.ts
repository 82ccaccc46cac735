// The demo IdP against a real Ledgerline over HTTP (no browser): SAML responses that Ledgerline's
// ACS accepts, and the exact SCIM request sequences of Okta (AIW: GET then PUT) and Entra (PATCH).
// Run: node --import tsx --test demo/idp/idp.test.ts   (the browser walkthrough is test/e2e/walkthrough.test.ts)
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createLocalAdmin, signIn, startTestApp, type Client, type TestApp } from '../../test/helpers/app.ts';
import { startDemoIdp, type DemoIdp } from './idp.app.ts';
import type { ClientStyle } from './idp.state.ts';

const wire = (idp: DemoIdp, from: number) =>
  idp.state.log.filter((x) => x.n > from).map((x) => `${x.method} ${decodeURIComponent(x.url.replace(/^https?:\/\/[^/]+\/ResourceServer\/api\/SCIM/, ''))} ${x.status}`);
const lastN = (idp: DemoIdp) => idp.state.log.at(-1)?.n ?? 0;

/** The SP-initiated round trip a browser makes, with fetch: /Login → IdP /sso → chooser → ACS. */
async function ssoSignIn(t: TestApp, idp: DemoIdp, userName: string): Promise<Response> {
  const login = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Login?returnTo=%2F`, { redirect: 'manual' });
  assert.equal(login.status, 302, 'Ledgerline redirects to the IdP');
  const chooser = await fetch(login.headers.get('location')!);
  const page = await chooser.text();
  assert.equal(chooser.status, 200, page);
  const pendingId = /name="pending" value="([^"]+)"/.exec(page)![1];
  const person = idp.state.personByUserName(userName)!;
  const posted = await fetch(`${idp.url}/sso/respond`, { method: 'POST', body: new URLSearchParams({ pending: pendingId, personId: person.id }) });
  const form = await posted.text();
  const samlResponse = /name="SAMLResponse" value="([^"]+)"/.exec(form)![1];
  const relay = /name="RelayState" value="([^"]*)"/.exec(form)?.[1];
  const body = new URLSearchParams({ SAMLResponse: samlResponse });
  if (relay !== undefined) body.set('RelayState', relay);
  return fetch(`${t.baseUrl}/AuthorizationServer/Saml2/ACS`, { method: 'POST', body, redirect: 'manual' });
}

for (const style of ['okta', 'entra'] as ClientStyle[]) {
  describe(`demo IdP in ${style} style against Ledgerline`, () => {
    let t: TestApp;
    let idp: DemoIdp;
    let admin: Client;

    before(async () => {
      t = await startTestApp();
      const creds = await createLocalAdmin(t.database, 'demo-admin');
      admin = await signIn(t.baseUrl, creds.username, creds.password);
      idp = await startDemoIdp({ style });
      const token = await admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'demo idp' } });
      assert.equal(token.status, 201, JSON.stringify(token.body));
      const s = idp.state.app;
      s.sso = { ssoUrl: `${t.baseUrl}/AuthorizationServer/Saml2/ACS`, audience: t.baseUrl };
      Object.assign(s.provisioning, { scimEnabled: true, baseUrl: `${t.baseUrl}/ResourceServer/api/SCIM`, token: token.body.token });
      const saml = await admin.json('/api/saml/settings', { method: 'PUT', body: { idpEntityId: idp.entityId, metadataUrl: idp.metadataUrl, enabled: true } });
      assert.equal(saml.status, 200, JSON.stringify(saml.body));
    });

    after(async () => {
      await idp?.close();
      await t?.close();
    });

    test('Test Connector Configuration succeeds with the token from Ledgerline', async () => {
      const from = lastN(idp);
      const out = await idp.provisioner.testConnector();
      assert.ok(out.ok, out.message);
      if (style === 'okta') assert.deepEqual(wire(idp, from), ['GET /Users?startIndex=1&count=2 200']);
      else assert.match(wire(idp, from).join('\n'), /^GET \/Users\?filter=userName eq "[^"]+" 200\nGET \/Groups\?excludedAttributes=members&filter=displayName eq "[^"]+" 200$/);
    });

    test('assigning a person looks them up by userName, then creates them', async () => {
      const fiona = idp.state.personByUserName('fiona.finance@example.com')!;
      const from = lastN(idp);
      const out = await idp.provisioner.assign(fiona.id);
      assert.ok(out.ok, out.message);
      const expectedLookup = style === 'okta' ? 'GET /Users?filter=userName eq "fiona.finance@example.com"&startIndex=1&count=100 200' : 'GET /Users?filter=userName eq "fiona.finance@example.com" 200';
      assert.deepEqual(wire(idp, from), [expectedLookup, 'POST /Users 201']);
      const users = await admin.json(`/api/users?q=fiona`);
      assert.equal(users.body.items[0].source, 'idp');
    });

    test('pushing a group creates it and sends its members the IdP way', async () => {
      const finance = idp.state.groupByName('Finance')!;
      const from = lastN(idp);
      const out = await idp.provisioner.pushGroup(finance.id);
      assert.ok(out.ok, out.message);
      const a = idp.state.assignment(finance.memberIds[0])!;
      if (style === 'okta') {
        assert.deepEqual(wire(idp, from), ['GET /Groups?filter=displayName eq "Finance"&startIndex=1&count=100 200', 'POST /Groups 201', `GET /Groups/${idp.state.push(finance.id)!.scimId} 200`, `PUT /Groups/${idp.state.push(finance.id)!.scimId} 200`]);
        const put = idp.state.log.at(-1)!.requestBody as any;
        assert.deepEqual(put.members, [{ value: a.scimId, display: 'fiona.finance@example.com' }]);
        assert.equal(put.displayName, 'Finance');
      } else {
        const id = idp.state.push(finance.id)!.scimId;
        assert.deepEqual(wire(idp, from), ['GET /Groups?excludedAttributes=members&filter=displayName eq "Finance" 200', 'POST /Groups 201', `GET /Groups/${id}?excludedAttributes=members 200`, `PATCH /Groups/${id} 204`]);
        assert.deepEqual((idp.state.log.at(-1)!.requestBody as any).Operations, [{ op: 'Add', path: 'members', value: [{ $ref: null, value: a.scimId }] }]);
      }
      const roles = await admin.json('/api/roles?q=Finance');
      assert.ok(roles.body.items.some((r: any) => r.isScim && r.name === 'Finance'), JSON.stringify(roles.body));
    });

    test('SP-initiated sign-in through the IdP gives a session', async () => {
      const res = await ssoSignIn(t, idp, 'fiona.finance@example.com');
      assert.equal(res.status, 302, await res.text());
      const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ll_session='))!.split(';')[0];
      const me = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie } });
      assert.equal(((await me.json()) as any).user.userName, 'fiona.finance@example.com');
    });

    test('IdP-initiated sign-in from the app tile gives a session when Ledgerline allows it', async () => {
      const allowed = await admin.json('/api/saml/settings', { method: 'PUT', body: { allowIdpInitiated: true } });
      assert.equal(allowed.status, 200, JSON.stringify(allowed.body));
      const fiona = idp.state.personByUserName('fiona.finance@example.com')!;
      const launched = await fetch(`${idp.url}/home/launch`, { method: 'POST', body: new URLSearchParams({ personId: fiona.id }) });
      const form = await launched.text();
      assert.doesNotMatch(Buffer.from(/name="SAMLResponse" value="([^"]+)"/.exec(form)![1], 'base64').toString(), /InResponseTo/);
      const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/ACS`, {
        method: 'POST',
        body: new URLSearchParams({ SAMLResponse: /name="SAMLResponse" value="([^"]+)"/.exec(form)![1] }),
        redirect: 'manual',
      });
      assert.equal(res.status, 302, await res.text());
      assert.ok(res.headers.getSetCookie().some((c) => c.startsWith('ll_session=')));
    });

    test('moving the person to another group and deactivating them use the IdP dialect', async () => {
      const fiona = idp.state.personByUserName('fiona.finance@example.com')!;
      const support = idp.state.groupByName('Support')!;
      assert.ok((await idp.provisioner.pushGroup(support.id)).ok);
      let from = lastN(idp);
      const moved = await idp.provisioner.setGroupsOf(fiona.id, [support.id]);
      assert.ok(moved.ok, moved.message);
      const bodies = idp.state.log.filter((x) => x.n > from && x.method !== 'GET').map((x) => x.requestBody as any);
      if (style === 'okta') {
        assert.deepEqual(
          bodies.map((b) => [b.displayName, b.members.length]),
          [
            ['Finance', 0],
            ['Support', 1],
          ],
        );
      } else {
        assert.deepEqual(bodies[0].Operations, [{ op: 'Remove', path: 'members', value: [{ value: idp.state.assignment(fiona.id)!.scimId }] }]);
      }
      from = lastN(idp);
      const off = await idp.provisioner.setPersonStatus(fiona.id, 'deactivated');
      assert.ok(off.ok, off.message);
      const sent = idp.state.log.filter((x) => x.n > from);
      if (style === 'okta') {
        assert.deepEqual(sent.map((x) => x.method), ['GET', 'PUT']);
        assert.equal((sent[1].requestBody as any).active, false);
      } else {
        assert.deepEqual(sent.map((x) => x.method), ['PATCH']);
        assert.deepEqual((sent[0].requestBody as any).Operations, [{ op: 'Replace', path: 'active', value: 'False' }]);
      }
      const res = await ssoSignIn(t, idp, 'fiona.finance@example.com');
      assert.notEqual(res.status, 302);
      assert.match(await res.text(), /disabled/i);
      assert.ok((await idp.provisioner.setPersonStatus(fiona.id, 'active')).ok);
      assert.equal((await ssoSignIn(t, idp, 'fiona.finance@example.com')).status, 302);
    });

    test('unassigning deactivates the user and re-assigning finds and reactivates the same user', async () => {
      const sam = idp.state.personByUserName('sam.support@example.com')!;
      assert.ok((await idp.provisioner.assign(sam.id)).ok);
      const scimId = idp.state.assignment(sam.id)!.scimId;
      let from = lastN(idp);
      assert.ok((await idp.provisioner.unassign(sam.id)).ok);
      const sent = idp.state.log.filter((x) => x.n > from);
      const deactivation = sent.find((x) => x.method !== 'GET' && String(x.url).includes('/Users/'))!;
      if (style === 'okta') assert.equal((deactivation.requestBody as any).active, false);
      else assert.deepEqual((deactivation.requestBody as any).Operations, [{ op: 'Replace', path: 'active', value: 'False' }]);
      const off = await admin.json(`/api/users?q=${encodeURIComponent(sam.userName)}`);
      assert.equal(off.body.items[0].status, 'disabled');

      from = lastN(idp);
      assert.ok((await idp.provisioner.assign(sam.id)).ok);
      assert.equal(idp.state.assignment(sam.id)!.scimId, scimId, 'linked to the existing user, not a new one');
      assert.ok(!wire(idp, from).some((l) => l.startsWith('POST /Users')));
      const on = await admin.json(`/api/users?q=${encodeURIComponent(sam.userName)}`);
      assert.equal(on.body.items[0].status, 'active');
    });

    test('renaming a pushed group renames its SCIM role', async () => {
      const support = idp.state.groupByName('Support')!;
      const from = lastN(idp);
      assert.ok((await idp.provisioner.renameGroup(support.id, 'Customer Support')).ok);
      const write = idp.state.log.filter((x) => x.n > from && x.method !== 'GET');
      if (style === 'okta') assert.equal((write[0].requestBody as any).displayName, 'Customer Support');
      else assert.deepEqual((write[0].requestBody as any).Operations, [{ op: 'Replace', path: 'displayName', value: 'Customer Support' }]);
      const roles = await admin.json('/api/roles?q=Customer');
      assert.ok(roles.body.items.some((r: any) => r.isScim && r.name === 'Customer Support'), JSON.stringify(roles.body));
      assert.ok((await idp.provisioner.renameGroup(support.id, 'Support')).ok);
    });

    test('unlinking with "delete the group in the target app" sends DELETE', async () => {
      const support = idp.state.groupByName('Support')!;
      const id = idp.state.push(support.id)!.scimId;
      const from = lastN(idp);
      assert.ok((await idp.provisioner.unlink(support.id, true)).ok);
      assert.deepEqual(wire(idp, from), [`DELETE /Groups/${id} 204`]);
      const roles = await admin.json('/api/roles?q=Support');
      assert.equal(roles.body.items.filter((r: any) => r.isScim).length, 0);
    });
  });
}
