// Two app nodes on one database (PostgreSQL when TEST_DATABASE=postgres, else one SQLite file)
// behave as one system: sessions, permission changes and sign-out are shared state.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientFor, createLocalAdmin, createUserWithLevels, freePort, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';

let a: TestApp;
let b: TestApp;
let adminOnB: Client;

before(async () => {
  a = await startTestApp();
  b = await startTestApp({ databaseUrl: a.databaseUrl });
  const creds = await createLocalAdmin(a.database);
  adminOnB = await signIn(b.baseUrl, creds.username, creds.password);
});
after(async () => {
  await b.close();
  await a.close();
});

/** The same session (cookie and CSRF token) sent to the other node. */
const onNode = (node: TestApp, c: Client) => clientFor(node.baseUrl, c.cookie, c.csrfToken);

test('the two nodes are separate apps with their own connections to the same database', () => {
  assert.notEqual(a.baseUrl, b.baseUrl);
  assert.equal(a.databaseUrl, b.databaseUrl);
  assert.notEqual(a.database, b.database);
});

test('a session created by signing in on node A is valid on node B, including for writes with its CSRF token', async () => {
  const u = await createUserWithLevels(adminOnB, { 'role-groups': 'full' });
  const onA = await signIn(a.baseUrl, u.username, u.password);
  const onB = onNode(b, onA);
  const me = await onB.json('/api/me');
  assert.equal(me.status, 200);
  assert.equal(me.body.user.userName, u.username);
  assert.equal(me.body.csrfToken, onA.csrfToken);
  const created = await onB.json('/api/role-groups', { method: 'POST', body: { name: `made on B by ${u.username}` } });
  assert.equal(created.status, 201);
  assert.equal((await onA.json(`/api/role-groups/${created.body.id}`)).status, 200, 'visible on A at once');
});

test('a role group changed on node B is enforced on node A at once', async () => {
  const u = await createUserWithLevels(adminOnB, { users: 'read' });
  const onA = await signIn(a.baseUrl, u.username, u.password);
  assert.equal((await onA.fetch('/api/users')).status, 200);
  const patched = await adminOnB.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { users: 'none' } } });
  assert.equal(patched.status, 200);
  assert.equal((await onA.fetch('/api/users')).status, 403);
  assert.equal((await onA.json('/api/me')).body.permissions.users, 'none');
  await adminOnB.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { users: 'full' } } });
  const write = await onA.json('/api/users', { method: 'POST', body: { userName: `from-a-${Date.now()}`, roleId: u.roleId } });
  assert.equal(write.status, 201, 'Full Permission granted on B lets the user write on A');
});

test('signing out on node A ends the session on node B', async () => {
  const u = await createUserWithLevels(adminOnB, { users: 'read' });
  const onA = await signIn(a.baseUrl, u.username, u.password);
  const onB = onNode(b, onA);
  assert.equal((await onB.fetch('/api/me')).status, 200);
  assert.equal((await onA.fetch('/api/auth/logout', { method: 'POST' })).status, 204);
  assert.equal((await onB.fetch('/api/me')).status, 401);
});

test('disabling a user on node B ends their session on node A', async () => {
  const u = await createUserWithLevels(adminOnB, { users: 'read' });
  const onA = await signIn(a.baseUrl, u.username, u.password);
  assert.equal((await adminOnB.json(`/api/users/${u.userId}`, { method: 'PATCH', body: { status: 'disabled' } })).status, 200);
  assert.equal((await onA.fetch('/api/me')).status, 401);
});

test('failed sign-ins are counted across nodes for the per-account limit', async () => {
  const u = await createUserWithLevels(adminOnB, { users: 'read' });
  const attempt = (node: TestApp, password: string) =>
    fetch(`${node.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: u.username, password }) });
  // Rate-limit windows are 15-minute slots of the clock: wait out a slot's last seconds.
  const left = 15 * 60_000 - (Date.now() % (15 * 60_000));
  if (left < 15_000) await new Promise((r) => setTimeout(r, left + 50));
  for (let i = 0; i < 10; i++) assert.equal((await attempt(i % 2 ? a : b, `wrong-password-${i}`)).status, 401);
  assert.equal((await attempt(a, u.password)).status, 429);
  assert.equal((await attempt(b, u.password)).status, 429);
});

test('a separate server process (what npm start runs) shares sessions and permissions with node A', async () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: baseUrl, DATABASE_URL: a.databaseUrl, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const ok = await fetch(`${baseUrl}/healthz`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`server process did not start: ${output}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.doesNotMatch(output, /first start: created the local administrator/, 'no first administrator on a database that has users');
    const u = await createUserWithLevels(adminOnB, { users: 'read' });
    const onA = await signIn(a.baseUrl, u.username, u.password);
    const onProcess = clientFor(baseUrl, onA.cookie, onA.csrfToken);
    assert.equal((await onProcess.fetch('/api/users')).status, 200);
    await adminOnB.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { users: 'none' } } });
    assert.equal((await onProcess.fetch('/api/users')).status, 403);
    assert.equal((await onProcess.fetch('/api/auth/logout', { method: 'POST' })).status, 204);
    assert.equal((await onA.fetch('/api/me')).status, 401);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
});
