// Session lifetime: idle and absolute expiry (configurable), "sign out everywhere", and a user who
// stops being Active loses every session at once.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createLocalAdmin, signIn, startTestApp, startWithAdmin, type Client, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Client;
let adminId: string;

async function newUser(app: TestApp = t, by: Client = admin) {
  const userName = `s-${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(12).toString('base64url')}`;
  const res = await by.json('/api/users', { method: 'POST', body: { userName, password, roleId: 'role-read-only-core' } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { userName, password, id: res.body.id as string, client: () => signIn(app.baseUrl, userName, password) };
}

const minutesAgo = (m: number) => new Date(Date.now() - m * 60_000).toISOString();

async function setSession(app: TestApp, userId: string, values: { last_seen_at?: string; expires_at?: string }) {
  await app.database.db.updateTable('sessions').set(values).where('user_id', '=', userId).execute();
}

before(async () => {
  ({ t, admin, adminId } = await startWithAdmin());
});
after(() => t.close());

test('a session idle for longer than the idle limit (60 minutes by default) ends', async () => {
  const u = await newUser();
  const c = await u.client();
  await setSession(t, u.id, { last_seen_at: minutesAgo(61) });
  assert.equal((await c.fetch('/api/me')).status, 401);
  const left = await t.database.db.selectFrom('sessions').select('id_hash').where('user_id', '=', u.id).execute();
  assert.equal(left.length, 0, 'the expired session is removed');
  // Expiry is final: coming back within the limit afterwards does not revive it.
  assert.equal((await c.fetch('/api/me')).status, 401);
});

test('a user\'s active-session count leaves out sessions past the idle limit', async () => {
  const u = await newUser();
  await u.client();
  await u.client();
  assert.equal((await admin.json(`/api/users/${u.id}`)).body.activeSessions, 2);
  await setSession(t, u.id, { last_seen_at: minutesAgo(61) });
  assert.equal((await admin.json(`/api/users/${u.id}`)).body.activeSessions, 0);
});

test('activity within the idle limit keeps the session and moves its idle clock', async () => {
  const u = await newUser();
  const c = await u.client();
  const before = minutesAgo(30);
  await setSession(t, u.id, { last_seen_at: before });
  assert.equal((await c.fetch('/api/me')).status, 200);
  const row = await t.database.db.selectFrom('sessions').select('last_seen_at').where('user_id', '=', u.id).executeTakeFirstOrThrow();
  assert.ok(Date.parse(row.last_seen_at) > Date.parse(before) + 29 * 60_000, 'last_seen_at refreshed');
});

test('a session past its absolute expiry ends even when it is in use', async () => {
  const u = await newUser();
  const c = await u.client();
  await setSession(t, u.id, { expires_at: minutesAgo(1) });
  assert.equal((await c.fetch('/api/me')).status, 401);
});

test('the idle and absolute limits follow SESSION_IDLE_MINUTES and SESSION_ABSOLUTE_HOURS', async () => {
  const s = await startTestApp({ env: { SESSION_IDLE_MINUTES: '5', SESSION_ABSOLUTE_HOURS: '2' } });
  try {
    const a = await createLocalAdmin(s.database);
    const res = await fetch(`${s.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: a.username, password: a.password }) });
    assert.equal(res.status, 200);
    assert.match(res.headers.getSetCookie().find((c) => c.startsWith('ll_session='))!, /Max-Age=7200/);
    const c = await signIn(s.baseUrl, a.username, a.password);
    const me = await c.json('/api/me');
    const id = me.body.user.id as string;
    const rows = await s.database.db.selectFrom('sessions').selectAll().where('user_id', '=', id).execute();
    for (const r of rows) {
      const lifetime = Date.parse(r.expires_at) - Date.parse(r.created_at);
      assert.ok(Math.abs(lifetime - 2 * 3600_000) < 5000, `absolute lifetime ${lifetime} ms`);
    }
    await setSession(s, id, { last_seen_at: minutesAgo(4) });
    assert.equal((await c.fetch('/api/me')).status, 200, '4 minutes idle is within 5');
    await setSession(s, id, { last_seen_at: minutesAgo(6) });
    assert.equal((await c.fetch('/api/me')).status, 401, '6 minutes idle is beyond 5');
  } finally {
    await s.close();
  }
});

test('"sign out everywhere" ends every session of that user and no one else\'s', async () => {
  const u = await newUser();
  const one = await u.client();
  const two = await u.client();
  const other = await newUser();
  const bystander = await other.client();
  const detail = await admin.json(`/api/users/${u.id}`);
  assert.equal(detail.body.activeSessions, 2);
  const res = await admin.json(`/api/users/${u.id}/sign-out-everywhere`, { method: 'POST' });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { ended: 2 });
  assert.equal((await one.fetch('/api/me')).status, 401);
  assert.equal((await two.fetch('/api/me')).status, 401);
  assert.equal((await bystander.fetch('/api/me')).status, 200);
  assert.equal((await admin.fetch('/api/me')).status, 200);
  assert.equal((await admin.json(`/api/users/${u.id}`)).body.activeSessions, 0);
  const audit = await admin.json(`/api/audit?action=user.sign_out_everywhere&targetId=${u.id}`);
  assert.equal(audit.body.items.length, 1);
  assert.match(audit.body.items[0].summary, /2 sessions ended/);
  // They can sign in again afterwards.
  assert.equal((await (await u.client()).fetch('/api/me')).status, 200);
});

for (const status of ['suspended', 'disabled'] as const) {
  test(`a ${status} user's sessions end at once and they cannot sign in until made active again`, async () => {
    const u = await newUser();
    const c = await u.client();
    assert.equal((await c.fetch('/api/me')).status, 200);
    const res = await admin.json(`/api/users/${u.id}`, { method: 'PATCH', body: { status } });
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.equal(res.body.status, status);
    assert.equal(res.body.activeSessions, 0);
    assert.equal((await c.fetch('/api/me')).status, 401);
    await assert.rejects(u.client(), /401/);
    assert.equal((await admin.json(`/api/users/${u.id}`, { method: 'PATCH', body: { status: 'active' } })).status, 200);
    assert.equal((await (await u.client()).fetch('/api/me')).status, 200);
  });
}

test('a session whose user was made inactive behind the API\'s back is refused too', async () => {
  const u = await newUser();
  const c = await u.client();
  await t.database.db.updateTable('users').set({ status: 'disabled' }).where('id', '=', u.id).execute();
  assert.equal((await c.fetch('/api/me')).status, 401);
});

test('an administrator cannot suspend or disable themselves', async () => {
  const res = await admin.json(`/api/users/${adminId}`, { method: 'PATCH', body: { status: 'suspended' } });
  assert.equal(res.status, 400);
  assert.ok('status' in res.body.error.fields);
  assert.equal((await admin.fetch('/api/me')).status, 200);
});

test('resetting a password ends that user\'s sessions and the new password works', async () => {
  const u = await newUser();
  const c = await u.client();
  const res = await admin.json(`/api/users/${u.id}/password`, { method: 'POST', body: {} });
  assert.equal(res.status, 200);
  assert.match(res.body.password, /^[A-Za-z0-9]{20}$/);
  assert.equal((await c.fetch('/api/me')).status, 401);
  await assert.rejects(signIn(t.baseUrl, u.userName, u.password), /401/);
  assert.equal((await (await signIn(t.baseUrl, u.userName, res.body.password)).fetch('/api/me')).status, 200);
  // Without a body at all, as a script sends it: a generated password too (it was a 400 "body: Must be object").
  const bare = await admin.fetch(`/api/users/${u.id}/password`, { method: 'POST' });
  assert.equal(bare.status, 200);
  const generated = ((await bare.json()) as { password: string }).password;
  assert.match(generated, /^[A-Za-z0-9]{20}$/);
  assert.equal((await (await signIn(t.baseUrl, u.userName, generated)).fetch('/api/me')).status, 200);
  assert.equal((await admin.json(`/api/users/${u.id}/password`, { method: 'POST', body: { password: 12345678901234 } })).status, 400, 'a password that is not text');
  const chosen = `Chosen-${randomBytes(8).toString('hex')}`;
  const set = await admin.json(`/api/users/${u.id}/password`, { method: 'POST', body: { password: chosen } });
  assert.equal(set.status, 200);
  assert.equal(set.body.password, null);
  assert.equal((await (await signIn(t.baseUrl, u.userName, chosen)).fetch('/api/me')).status, 200);
  const audit = JSON.stringify((await admin.json(`/api/audit?targetId=${u.id}`)).body);
  assert.ok(!audit.includes(chosen) && !audit.includes(res.body.password), 'no password in the audit log');
});
