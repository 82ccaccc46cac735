// Two app nodes over one database (PostgreSQL with TEST_DATABASE=postgres, else one SQLite file),
// both serving the same PUBLIC_URL as they would behind a load balancer: a login started on one
// node is finished on the other, and a replay is refused on either.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../helpers/app.ts';
import { b64, craftResponse, postToAcs, signResponse } from '../helpers/idp.ts';
import { startSamlApp, sessionCookie, type SamlTestApp } from './setup.ts';

let a: SamlTestApp;
let b: TestApp;

before(async () => {
  a = await startSamlApp();
  b = await startTestApp({ databaseUrl: a.databaseUrl, env: { PUBLIC_URL: a.baseUrl } });
  await a.createUser('alice@example.com');
});
after(async () => {
  await b?.close();
  await a?.close();
});

test('a request issued on one node is answered on another node over the same database', async () => {
  assert.equal(b.config.publicUrl, a.config.publicUrl);
  const { requestId, location } = await a.login('/invoices');
  assert.ok(location.includes('SAMLRequest='));
  const xml = a.signed({ inResponseTo: requestId });
  const res = await postToAcs(b.baseUrl, b64(xml));
  assert.equal(res.status, 302, await res.text());
  assert.equal(res.headers.get('location'), '/invoices', 'the return path stored by node A is used by node B');
  const cookie = sessionCookie(res)!;
  // The session is shared too: node A knows the person node B signed in.
  const me = await fetch(`${a.baseUrl}/api/me`, { headers: { cookie } });
  assert.equal(me.status, 200);

  const replay = await postToAcs(a.baseUrl, b64(xml));
  assert.equal(replay.status, 403);
  assert.equal((await a.lastRefusal())?.reason, 'replay');
});

test('an IdP-initiated response consumed on one node is refused as a replay on the other', async () => {
  const xml = signResponse(craftResponse(a.fields()), 'both', { key: a.keys.idp.key, cert: a.keys.idp.cert });
  assert.equal((await postToAcs(a.baseUrl, b64(xml))).status, 302);
  const again = await postToAcs(b.baseUrl, b64(xml));
  assert.equal(again.status, 403);
  assert.equal((await a.lastRefusal())?.reason, 'replay');
});

test('two nodes racing on the same response sign the person in once', async () => {
  const { requestId } = await a.login('/');
  const xml = b64(a.signed({ inResponseTo: requestId }));
  const results = await Promise.all([postToAcs(a.baseUrl, xml), postToAcs(b.baseUrl, xml), postToAcs(a.baseUrl, xml), postToAcs(b.baseUrl, xml)]);
  const statuses = results.map((r) => r.status).sort();
  assert.deepEqual(statuses, [302, 403, 403, 403]);
});
