// Local sign-in and sign-out over HTTP: cookies, the generic failure message, the Origin check,
// rate limiting per account and per address, and the audit trail of every attempt.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createLocalAdmin, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Client;
const GENERIC = 'The user name or password is not correct, or the account is not active';

function login(body: unknown, headers: Record<string, string> = {}) {
  return fetch(`${t.baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: t.baseUrl, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function newLocalUser(status: 'active' | 'suspended' | 'disabled' = 'active') {
  const userName = `u-${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(12).toString('base64url')}`;
  const res = await admin.json('/api/users', { method: 'POST', body: { userName, password, roleId: 'role-read-only-core', status } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { userName, password, id: res.body.id as string };
}

async function auditRows() {
  return t.database.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
}

function windowStart(seconds = 15 * 60) {
  return new Date(Math.floor(Date.now() / (seconds * 1000)) * seconds * 1000).toISOString();
}

/** Rate-limit windows are 15-minute slots of the clock: wait out a slot's last seconds so a test's attempts share one. */
async function inOneWindow() {
  const left = 15 * 60_000 - (Date.now() % (15 * 60_000));
  if (left < 15_000) await new Promise((r) => setTimeout(r, left + 50));
}

before(async () => {
  t = await startTestApp();
  const a = await createLocalAdmin(t.database);
  admin = await signIn(t.baseUrl, a.username, a.password);
});
after(() => t.close());

test('signing in returns the user and an HttpOnly, SameSite=Lax session cookie that /api/me accepts', async () => {
  const u = await newLocalUser();
  const res = await login({ username: u.userName, password: u.password });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.user.userName, u.userName);
  assert.equal(body.user.role.name, 'Read Only Core');
  assert.ok(!JSON.stringify(body).includes('password_hash') && !JSON.stringify(body).includes('scrypt$'));
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('ll_session='))!;
  assert.ok(cookie, 'session cookie set');
  assert.match(cookie, /HttpOnly/i);
  assert.match(cookie, /SameSite=Lax/i);
  assert.match(cookie, /Path=\//);
  assert.doesNotMatch(cookie, /Secure/i, 'no Secure flag on a plain-http PUBLIC_URL');
  const me = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: cookie.split(';')[0] } });
  assert.equal(me.status, 200);
  const meBody = await me.json();
  assert.equal(meBody.user.id, u.id);
  assert.equal(typeof meBody.csrfToken, 'string');
  assert.ok(meBody.csrfToken.length >= 20);
});

test('a write with the right CSRF token is still refused when the browser says it comes from another origin', async () => {
  const body = { userName: `o-${randomBytes(4).toString('hex')}`, roleId: 'role-read-only-core' };
  for (const origin of ['https://evil.example', 'null', new URL(t.baseUrl).origin.replace('127.0.0.1', 'localhost')]) {
    const res = await admin.fetch('/api/users', { method: 'POST', body, headers: { origin } });
    assert.equal(res.status, 403, origin);
    assert.equal((await res.json()).error.message, 'Changes must come from the Ledgerline page itself');
  }
  assert.equal((await admin.json(`/api/users?q=${body.userName}`)).body.items.length, 0, 'nothing was created');
  assert.equal((await admin.fetch('/api/users', { method: 'POST', body, headers: { origin: new URL(t.baseUrl).origin } })).status, 201);
  const read = await admin.fetch('/api/users', { headers: { origin: 'https://evil.example' } });
  assert.equal(read.status, 200, 'reads are not writes (and no other origin may read the answer: no CORS)');
});

test('user names are matched case-insensitively', async () => {
  const u = await newLocalUser();
  assert.equal((await login({ username: u.userName.toUpperCase(), password: u.password })).status, 200);
});

test('the session cookie is Secure when PUBLIC_URL is https', async () => {
  const s = await startTestApp({ env: { PUBLIC_URL: 'https://ledgerline.example.com' } });
  try {
    const a = await createLocalAdmin(s.database);
    const res = await fetch(`${s.baseUrl}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'https://ledgerline.example.com' },
      body: JSON.stringify({ username: a.username, password: a.password }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.getSetCookie().find((c) => c.startsWith('ll_session='))!, /;\s*Secure/i);
  } finally {
    await s.close();
  }
});

test('a wrong password, an unknown user and an inactive user all get the same generic 401', async () => {
  const good = await newLocalUser();
  const suspended = await newLocalUser('suspended');
  const disabled = await newLocalUser('disabled');
  const attempts = [
    { username: good.userName, password: 'not-the-password' },
    { username: `nobody-${randomBytes(3).toString('hex')}`, password: 'whatever-it-is' },
    { username: suspended.userName, password: suspended.password },
    { username: disabled.userName, password: disabled.password },
  ];
  for (const a of attempts) {
    const res = await login(a);
    assert.equal(res.status, 401, a.username);
    const body = await res.json();
    assert.equal(body.error.code, 'unauthorized');
    assert.equal(body.error.message, GENERIC);
    assert.equal(res.headers.getSetCookie().filter((c) => c.startsWith('ll_session=') && !/ll_session=;/.test(c)).length, 0, 'no session cookie on failure');
  }
});

test('a provisioned user has no password and cannot sign in locally', async () => {
  const now = new Date().toISOString();
  const id = `idp-${randomBytes(4).toString('hex')}`;
  await t.database.db.insertInto('users').values({
    id, user_name: id, user_name_norm: id, display_name: null, given_name: null, family_name: null, email: null, email_norm: null,
    external_id: null, role_id: null, status: 'active', source: 'idp', time_zone: 'UTC', locale: 'en-US', password_hash: null,
    scim_attributes: '{}', version: 1, created_at: now, updated_at: now,
  }).execute();
  const res = await login({ username: id, password: 'anything-goes-here' });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error.message, GENERIC);
});

test('sign-in from another origin is refused with 403; no Origin (a script) is accepted', async () => {
  const u = await newLocalUser();
  const cross = await login({ username: u.userName, password: u.password }, { origin: 'https://evil.example' });
  assert.equal(cross.status, 403);
  assert.equal((await cross.json()).error.code, 'forbidden');
  assert.equal(cross.headers.getSetCookie().length, 0);
  const nullOrigin = await login({ username: u.userName, password: u.password }, { origin: 'null' });
  assert.equal(nullOrigin.status, 403);
  const script = await fetch(`${t.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u.userName, password: u.password }) });
  assert.equal(script.status, 200);
});

test('an invalid sign-in body answers 400 naming the missing fields', async () => {
  const res = await login({ username: 'someone' });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.code, 'invalid');
  assert.ok('password' in body.error.fields);
  const empty = await login({ username: '', password: '' });
  assert.equal(empty.status, 400);
  assert.ok('username' in (await empty.json()).error.fields);
  const malformed = await login('{"username": ');
  assert.equal(malformed.status, 400);
  const mb = await malformed.json();
  assert.ok(mb.error.requestId);
  assert.doesNotMatch(JSON.stringify(mb), /\n\s+at /, 'no stack trace');
});

test('after 10 attempts on one account in 15 minutes it is refused with 429, even with the right password; other accounts are unaffected', async () => {
  await inOneWindow();
  const victim = await newLocalUser();
  const other = await newLocalUser();
  for (let i = 0; i < 10; i++) assert.equal((await login({ username: victim.userName, password: `wrong-${i}-password` })).status, 401, `attempt ${i + 1}`);
  const limited = await login({ username: victim.userName, password: victim.password });
  assert.equal(limited.status, 429);
  assert.equal((await limited.json()).error.code, 'rate_limited');
  // The per-account key is the normalised name: changing case does not get around it.
  assert.equal((await login({ username: victim.userName.toUpperCase(), password: victim.password })).status, 429);
  assert.equal((await login({ username: other.userName, password: other.password })).status, 200);
  const rows = await auditRows();
  assert.ok(rows.some((r) => r.action === 'auth.login_failed' && r.target_name === victim.userName && JSON.parse(r.details!).reason === 'rate_limited'));
});

test('a successful sign-in clears the failures counted against that account', async () => {
  await inOneWindow();
  const u = await newLocalUser();
  const key = `login:user:${u.userName}`;
  await t.database.db.insertInto('rate_limits').values({ key, window_start: windowStart(), count: 9 }).execute();
  assert.equal((await login({ username: u.userName, password: u.password })).status, 200, 'the 10th attempt is still allowed');
  // Had the 10 attempts been kept, this 11th one would be refused with 429.
  assert.equal((await login({ username: u.userName, password: 'wrong-password-1' })).status, 401);
});

test('once an address has made 50 attempts in the window, every account is refused from it', async () => {
  await inOneWindow();
  const u = await newLocalUser();
  const key = 'login:ip:127.0.0.1';
  const saved = await t.database.db.selectFrom('rate_limits').selectAll().where('key', '=', key).executeTakeFirst();
  await t.database.db.deleteFrom('rate_limits').where('key', '=', key).execute();
  await t.database.db.insertInto('rate_limits').values({ key, window_start: windowStart(), count: 50 }).execute();
  try {
    const res = await login({ username: u.userName, password: u.password });
    assert.equal(res.status, 429);
  } finally {
    await t.database.db.deleteFrom('rate_limits').where('key', '=', key).execute();
    if (saved) await t.database.db.insertInto('rate_limits').values(saved).execute();
  }
});

test('successful sign-ins do not use up the per-address allowance (an office behind one address can sign in)', async () => {
  await inOneWindow();
  const key = 'login:ip:127.0.0.1';
  const users = [await newLocalUser(), await newLocalUser(), await newLocalUser()];
  await t.database.db.deleteFrom('rate_limits').where('key', '=', key).execute();
  await t.database.db.insertInto('rate_limits').values({ key, window_start: windowStart(), count: 49 }).execute();
  try {
    for (const u of users) assert.equal((await login({ username: u.userName, password: u.password })).status, 200, u.userName);
  } finally {
    await t.database.db.deleteFrom('rate_limits').where('key', '=', key).execute();
  }
});

test('sign-in successes and failures are audited with the reason, and no password appears in the audit log', async () => {
  const u = await newLocalUser();
  const wrong = `Wrong-${randomBytes(8).toString('hex')}`;
  assert.equal((await login({ username: u.userName, password: wrong })).status, 401);
  assert.equal((await login({ username: u.userName, password: u.password }, { 'x-ledgerline-client': 'ui' })).status, 200);
  const rows = (await auditRows()).filter((r) => r.target_name === u.userName && r.action.startsWith('auth.'));
  const failed = rows.find((r) => r.action === 'auth.login_failed')!;
  assert.ok(failed, 'failure audited');
  assert.equal(JSON.parse(failed.details!).reason, 'wrong password');
  assert.equal(failed.actor_id, u.id);
  assert.equal(failed.ip, '127.0.0.1');
  assert.ok(failed.request_id);
  const ok = rows.find((r) => r.action === 'auth.login')!;
  assert.ok(ok, 'success audited');
  assert.equal(ok.actor_id, u.id);
  assert.equal(ok.source, 'ui');
  const everything = JSON.stringify(await auditRows());
  assert.ok(!everything.includes(wrong), 'the wrong password is not in the audit log');
  assert.ok(!everything.includes(u.password), 'the right password is not in the audit log');
  assert.ok(!everything.includes('scrypt$'), 'no password hash in the audit log');
  // The audit API shows the same entries to an admin.
  const api = await admin.json(`/api/audit?action=auth.&q=${encodeURIComponent(u.userName)}`);
  assert.equal(api.status, 200);
  assert.deepEqual(new Set(api.body.items.map((i: { action: string }) => i.action)), new Set(['auth.login', 'auth.login_failed']));
});

test('signing out answers 204, clears the cookie and ends the session for good', async () => {
  const u = await newLocalUser();
  const c = await signIn(t.baseUrl, u.userName, u.password);
  const res = await c.fetch('/api/auth/logout', { method: 'POST' });
  assert.equal(res.status, 204);
  assert.match(res.headers.getSetCookie().find((x) => x.startsWith('ll_session='))!, /ll_session=;.*(Expires=Thu, 01 Jan 1970|Max-Age=0)/i);
  assert.equal((await c.fetch('/api/me')).status, 401);
  const rows = await t.database.db.selectFrom('sessions').select('id_hash').where('user_id', '=', u.id).execute();
  assert.equal(rows.length, 0);
  assert.ok((await auditRows()).some((r) => r.action === 'auth.logout' && r.target_id === u.id));
});

test('signing out without the CSRF header is refused and the session stays', async () => {
  const u = await newLocalUser();
  const c = await signIn(t.baseUrl, u.userName, u.password);
  const res = await c.fetch('/api/auth/logout', { method: 'POST', csrf: false });
  assert.equal(res.status, 403);
  assert.equal((await c.fetch('/api/me')).status, 200);
});

test('signing out when already signed out answers 204', async () => {
  const res = await fetch(`${t.baseUrl}/api/auth/logout`, { method: 'POST' });
  assert.equal(res.status, 204);
});

test('a forged session cookie is treated as signed out', async () => {
  const res = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: `ll_session=${randomBytes(32).toString('base64url')}` } });
  assert.equal(res.status, 401);
  const long = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: `ll_session=${'x'.repeat(500)}` } });
  assert.equal(long.status, 401);
});

test('the session cookie value is never stored: the database holds only its hash', async () => {
  const u = await newLocalUser();
  const c = await signIn(t.baseUrl, u.userName, u.password);
  const value = c.cookie.split('=')[1];
  const rows = await t.database.db.selectFrom('sessions').selectAll().where('user_id', '=', u.id).execute();
  assert.equal(rows.length, 1);
  assert.ok(!JSON.stringify(rows).includes(value));
});
