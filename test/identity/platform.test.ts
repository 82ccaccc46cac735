// The edges every feature relies on: health, unknown routes, the UI fallback with its security
// headers, and error bodies that carry a request id but never a stack trace.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createLocalAdmin, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Client;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

before(async () => {
  t = await startTestApp();
  const a = await createLocalAdmin(t.database);
  admin = await signIn(t.baseUrl, a.username, a.password);
});
after(() => t.close());

test('GET /healthz answers 200 without signing in once the database answers', async () => {
  const res = await fetch(`${t.baseUrl}/healthz`);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok' });
});

test('an unknown API route answers 404 JSON with a request id, for any method', async () => {
  for (const method of ['GET', 'POST', 'DELETE']) {
    const res = await fetch(`${t.baseUrl}/api/no-such-thing?x=1`, { method });
    assert.equal(res.status, 404, method);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = await res.json();
    assert.equal(body.error.code, 'not_found');
    assert.equal(body.error.message, `No route ${method} /api/no-such-thing`);
    assert.match(body.error.requestId, UUID);
    assert.equal(res.headers.get('x-request-id'), body.error.requestId);
  }
  const signedIn = await admin.fetch('/api/no-such-thing');
  assert.equal(signedIn.status, 404);
});

test('a missing static file answers 404, not the UI', async () => {
  const res = await fetch(`${t.baseUrl}/assets/missing-file.js`);
  assert.equal(res.status, 404);
});

test('a UI path answers the HTML page with a Content-Security-Policy and other security headers', async () => {
  for (const p of ['/', '/setup/users', '/operations/audit?q=x', '/login']) {
    const res = await fetch(t.baseUrl + p);
    assert.equal(res.status, 200, p);
    assert.match(res.headers.get('content-type') ?? '', /text\/html/, p);
    assert.match(await res.text(), /<!doctype html>/i);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'self'/, p);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /object-src 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('x-frame-options'), 'x-frame-options set');
    assert.ok(res.headers.get('referrer-policy'), 'referrer-policy set');
  }
});

test('no Strict-Transport-Security on a plain-http PUBLIC_URL', async () => {
  const res = await fetch(`${t.baseUrl}/`);
  assert.equal(res.headers.get('strict-transport-security'), null);
});

test('an https PUBLIC_URL adds Strict-Transport-Security to UI and API responses, not to SCIM', async () => {
  const secure = await startTestApp({ env: { PUBLIC_URL: 'https://billing.acme.example' } });
  try {
    for (const p of ['/', '/api/me']) {
      const res = await fetch(secure.baseUrl + p);
      assert.match(res.headers.get('strict-transport-security') ?? '', /max-age=\d+/, p);
      assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'/, p);
    }
    const scim = await fetch(`${secure.baseUrl}/ResourceServer/api/SCIM/Users`);
    assert.equal(scim.status, 401);
    assert.equal(scim.headers.get('content-security-policy'), null);
    assert.equal(scim.headers.get('x-content-type-options'), 'nosniff');
  } finally {
    await secure.close();
  }
});

test('API responses carry the security headers and a request id too', async () => {
  const res = await admin.fetch('/api/me');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('x-request-id') ?? '', UUID);
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.ok(res.headers.get('content-security-policy'));
});

test('a client cannot choose its own request id', async () => {
  const res = await fetch(`${t.baseUrl}/api/me`, { headers: { 'x-request-id': 'chosen-by-client' } });
  assert.notEqual(res.headers.get('x-request-id'), 'chosen-by-client');
  assert.notEqual((await res.json()).error.requestId, 'chosen-by-client');
});

test('a body that is not JSON, or too large, is refused with a JSON error and no stack trace', async () => {
  const bad = await admin.fetch('/api/role-groups', { method: 'POST', body: '{"name": "x",', headers: { 'content-type': 'application/json' } });
  assert.equal(bad.status, 400);
  const badBody = await bad.text();
  assert.match(JSON.parse(badBody).error.requestId, UUID);
  assert.doesNotMatch(badBody, /\bat .*\.(ts|js):\d+/);
  const big = await admin.fetch('/api/role-groups', { method: 'POST', body: JSON.stringify({ name: 'x'.repeat(2 * 1024 * 1024) }) });
  assert.equal(big.status, 413);
  assert.equal((await big.json()).error.code, 'payload_too_large');
});

test('a NUL character in a field or the address, or an address with bad percent-encoding, is a 400 in the API error format on both databases', async () => {
  const field = await admin.json('/api/role-groups', { method: 'POST', body: { name: 'Finance\u0000', levels: {} } });
  assert.equal(field.status, 400);
  assert.equal(field.body.error.code, 'invalid');
  assert.match(field.body.error.fields.name, /NUL character/);
  const nested = await admin.json('/api/accounts', { method: 'POST', body: { name: 'Acme', currency: 'EUR', billingAddress: { city: 'Par\u0000is' } } });
  assert.equal(nested.status, 400);
  assert.deepEqual(Object.keys(nested.body.error.fields), ['billingAddress.city']);
  for (const path of ['/api/users?q=%00', '/api/search?q=a%00b']) {
    const r = await admin.json(path);
    assert.equal(r.status, 400, path);
    assert.match(r.body.error.message, /NUL character/);
  }
  // A URL that is not valid percent-encoding is refused before routing, in the same error format.
  const badUrl = await admin.json('/api/users/%E0%A4%A');
  assert.equal(badUrl.status, 400);
  assert.equal(badUrl.body.error.code, 'invalid');
  assert.match(badUrl.body.error.requestId, UUID);
  // Half a UTF-16 surrogate pair is not text either: stored, it came back as U+FFFD (PostgreSQL) or
  // three of them (SQLite), and a usage record's idempotency key with one was a 500 on SQLite.
  const lone = await admin.json('/api/role-groups', { method: 'POST', body: { name: 'Finance\ud800', levels: {} } });
  assert.equal(lone.status, 400);
  assert.match(lone.body.error.fields.name, /not valid Unicode text/);
  const usage = await admin.json('/api/usage', { method: 'POST', body: { records: [{ accountId: 'x', identifier: 'calls', quantity: 1, occurredAt: '2025-04-01T00:00:00Z', idempotencyKey: 'key-\udfff' }] } });
  assert.equal(usage.status, 400);
  assert.deepEqual(Object.keys(usage.body.error.fields), ['records.0.idempotencyKey']);
  // A whole pair is an ordinary character.
  const emoji = await admin.json('/api/role-groups', { method: 'POST', body: { name: 'Budget \ud83d\ude00', levels: {} } });
  assert.equal(emoji.status, 201, JSON.stringify(emoji.body));
  // Nothing was stored, and the same name without it is fine.
  const list = await admin.json('/api/role-groups');
  assert.ok(!JSON.stringify(list.body).includes('Finance'));
  assert.ok(JSON.stringify(list.body).includes('"Budget 😀"'));
  assert.equal((await admin.json('/api/role-groups', { method: 'POST', body: { name: 'Finance', levels: {} } })).status, 201);
});

test('a server error answers 500 with a reference and hides the cause; /healthz answers 503 when the database is gone', async () => {
  // A second app whose database this test breaks on purpose.
  const s = await startTestApp();
  try {
    const a = await createLocalAdmin(s.database);
    const c = await signIn(s.baseUrl, a.username, a.password);
    await sql`drop table audit_log`.execute(s.database.db);
    const res = await c.fetch('/api/audit');
    assert.equal(res.status, 500);
    const text = await res.text();
    const body = JSON.parse(text);
    assert.equal(body.error.code, 'internal');
    assert.match(body.error.requestId, UUID);
    assert.ok(body.error.message.includes(body.error.requestId), 'the message gives the reference to quote');
    assert.doesNotMatch(text, /audit_log|no such table|does not exist|\bat .*\.(ts|js):\d+|stack/i);

    await s.database.db.destroy();
    const health = await fetch(`${s.baseUrl}/healthz`);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), { status: 'database unavailable' });
  } finally {
    await s.close();
  }
});
