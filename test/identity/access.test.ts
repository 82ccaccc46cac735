// Every identity route under /api against every kind of caller: Full Permission, Read Only,
// No Permission on that screen (but Full everywhere else), signed out, a write without the CSRF
// header, and an invalid body or query. One app for the whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { SCREEN_KEYS, type ScreenKey } from '../../src/identity/catalogue.ts';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Client;
const callers: Record<string, { full: Client; read: Client; none: Client }> = {};
const uniq = () => randomBytes(4).toString('hex');

const allFull = () => Object.fromEntries(SCREEN_KEYS.map((k) => [k, 'full'])) as Record<ScreenKey, 'full' | 'none' | 'read'>;

async function user(levels: Record<string, 'none' | 'read' | 'full'>): Promise<Client> {
  const u = await createUserWithLevels(admin, levels);
  return signIn(t.baseUrl, u.username, u.password);
}

// Fixtures made with the admin client, fresh for each call so writes never collide. They give no
// level a Full caller lacks: nobody gives or manages more than they hold (escalation.test.ts).
async function newRoleGroup(levels: Record<string, string> = {}) {
  const r = await admin.json('/api/role-groups', { method: 'POST', body: { name: `rg-${uniq()}`, levels } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; name: string };
}
async function newRole() {
  const rg = await newRoleGroup();
  const r = await admin.json('/api/roles', { method: 'POST', body: { name: `role-${uniq()}`, roleGroupIds: [rg.id] } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; name: string };
}
async function newUser() {
  const role = await newRole();
  const r = await admin.json('/api/users', { method: 'POST', body: { userName: `user-${uniq()}`, password: `Pw-${uniq()}-${uniq()}`, roleId: role.id } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; userName: string };
}

interface Case {
  screen: ScreenKey;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  /** Builds a request that succeeds for a Full Permission caller. */
  valid(): Promise<{ path: string; body?: unknown; expect: number }>;
  /** A request the schema or the service refuses, and the field it names. */
  invalid?: () => Promise<{ path: string; body?: unknown; field: string }>;
}

const cases: Case[] = [
  {
    screen: 'users', method: 'GET', path: '/api/users',
    valid: async () => ({ path: '/api/users?limit=5', expect: 200 }),
    invalid: async () => ({ path: '/api/users?limit=0', field: 'limit' }),
  },
  {
    screen: 'users', method: 'GET', path: '/api/users/:id',
    valid: async () => ({ path: `/api/users/${(await newUser()).id}`, expect: 200 }),
  },
  {
    screen: 'users', method: 'POST', path: '/api/users',
    valid: async () => ({ path: '/api/users', body: { userName: `new-${uniq()}`, roleId: (await newRole()).id }, expect: 201 }),
    invalid: async () => ({ path: '/api/users', body: { displayName: 'no user name', roleId: 'role-admin' }, field: 'userName' }),
  },
  {
    screen: 'users', method: 'PATCH', path: '/api/users/:id',
    valid: async () => ({ path: `/api/users/${(await newUser()).id}`, body: { displayName: 'Changed' }, expect: 200 }),
    invalid: async () => ({ path: `/api/users/${(await newUser()).id}`, body: { status: 'asleep' }, field: 'status' }),
  },
  {
    screen: 'users', method: 'POST', path: '/api/users/:id/password',
    valid: async () => ({ path: `/api/users/${(await newUser()).id}/password`, body: {}, expect: 200 }),
    invalid: async () => ({ path: `/api/users/${(await newUser()).id}/password`, body: { password: 'short' }, field: 'password' }),
  },
  {
    screen: 'users', method: 'POST', path: '/api/users/:id/sign-out-everywhere',
    valid: async () => ({ path: `/api/users/${(await newUser()).id}/sign-out-everywhere`, expect: 200 }),
  },
  {
    screen: 'roles', method: 'GET', path: '/api/roles',
    valid: async () => ({ path: '/api/roles?q=role', expect: 200 }),
    invalid: async () => ({ path: '/api/roles?limit=500', field: 'limit' }),
  },
  {
    screen: 'roles', method: 'GET', path: '/api/roles/:id',
    valid: async () => ({ path: '/api/roles/role-admin', expect: 200 }),
  },
  {
    screen: 'roles', method: 'POST', path: '/api/roles',
    valid: async () => ({ path: '/api/roles', body: { name: `r-${uniq()}`, roleGroupIds: [(await newRoleGroup()).id] }, expect: 201 }),
    invalid: async () => ({ path: '/api/roles', body: { name: `r-${uniq()}` }, field: 'roleGroupIds' }),
  },
  {
    screen: 'roles', method: 'PATCH', path: '/api/roles/:id',
    valid: async () => ({ path: `/api/roles/${(await newRole()).id}`, body: { name: `renamed-${uniq()}` }, expect: 200 }),
    invalid: async () => ({ path: `/api/roles/${(await newRole()).id}`, body: { roleGroupIds: [] }, field: 'roleGroupIds' }),
  },
  {
    screen: 'roles', method: 'DELETE', path: '/api/roles/:id',
    valid: async () => ({ path: `/api/roles/${(await newRole()).id}`, expect: 204 }),
  },
  {
    screen: 'role-groups', method: 'GET', path: '/api/role-groups',
    valid: async () => ({ path: '/api/role-groups', expect: 200 }),
    invalid: async () => ({ path: '/api/role-groups?cursor=garbage!', field: 'cursor' }),
  },
  {
    screen: 'role-groups', method: 'GET', path: '/api/role-groups/:id',
    valid: async () => ({ path: '/api/role-groups/rg-readonly', expect: 200 }),
  },
  {
    screen: 'role-groups', method: 'POST', path: '/api/role-groups',
    valid: async () => ({ path: '/api/role-groups', body: { name: `g-${uniq()}`, levels: { 'role-groups': 'full' } }, expect: 201 }),
    invalid: async () => ({ path: '/api/role-groups', body: { name: `g-${uniq()}`, levels: { 'no-such-screen': 'full' } }, field: 'levels.no-such-screen' }),
  },
  {
    screen: 'role-groups', method: 'PATCH', path: '/api/role-groups/:id',
    valid: async () => ({ path: `/api/role-groups/${(await newRoleGroup()).id}`, body: { levels: { 'role-groups': 'read' } }, expect: 200 }),
    invalid: async () => ({ path: `/api/role-groups/${(await newRoleGroup()).id}`, body: { name: '   ' }, field: 'name' }),
  },
  {
    screen: 'role-groups', method: 'DELETE', path: '/api/role-groups/:id',
    valid: async () => ({ path: `/api/role-groups/${(await newRoleGroup()).id}`, expect: 204 }),
  },
  {
    screen: 'audit-log', method: 'GET', path: '/api/audit',
    valid: async () => ({ path: '/api/audit?limit=3&action=user.', expect: 200 }),
    invalid: async () => ({ path: '/api/audit?limit=abc', field: 'limit' }),
  },
];

before(async () => {
  t = await startTestApp();
  const a = await createLocalAdmin(t.database);
  admin = await signIn(t.baseUrl, a.username, a.password);
  for (const screen of new Set(cases.map((c) => c.screen))) {
    callers[screen] = {
      full: await user({ [screen]: 'full' }),
      read: await user({ [screen]: 'read' }),
      none: await user({ ...allFull(), [screen]: 'none' }),
    };
  }
});
after(() => t.close());

for (const c of cases) {
  const write = c.method !== 'GET';
  describe(`${c.method} ${c.path}`, () => {
    // Refused requests change nothing, so they share one target; the permitted one gets its own.
    let shared: ReturnType<Case['valid']> | undefined;
    const refusedRequest = () => (shared ??= c.valid());

    test('is allowed with Full Permission on its screen', async () => {
      const req = await c.valid();
      const res = await callers[c.screen].full.fetch(req.path, { method: c.method, body: req.body });
      assert.equal(res.status, req.expect, await res.text());
    });

    test(write ? 'is refused with Read Only on its screen' : 'is allowed with Read Only on its screen', async () => {
      const req = await refusedRequest();
      const res = await callers[c.screen].read.fetch(req.path, { method: c.method, body: req.body });
      if (write) {
        assert.equal(res.status, 403);
        const body = await res.json();
        assert.equal(body.error.code, 'forbidden');
      } else assert.equal(res.status, 200);
    });

    test('is refused with No Permission on its screen, even with Full Permission everywhere else', async () => {
      const req = await refusedRequest();
      const res = await callers[c.screen].none.fetch(req.path, { method: c.method, body: req.body });
      assert.equal(res.status, 403);
      const body = await res.json();
      assert.equal(body.error.code, 'forbidden');
      assert.ok(body.error.requestId);
    });

    test('answers 401 when signed out', async () => {
      const req = await refusedRequest();
      const res = await fetch(t.baseUrl + req.path, {
        method: c.method,
        headers: req.body !== undefined ? { 'content-type': 'application/json' } : {},
        body: req.body !== undefined ? JSON.stringify(req.body) : undefined,
      });
      assert.equal(res.status, 401);
      assert.equal((await res.json()).error.code, 'unauthorized');
    });

    if (write) {
      test('is refused without the CSRF header, and with a wrong one', async () => {
        const req = await refusedRequest();
        const missing = await callers[c.screen].full.fetch(req.path, { method: c.method, body: req.body, csrf: false });
        assert.equal(missing.status, 403);
        assert.match((await missing.json()).error.message, /CSRF/);
        const wrong = await callers[c.screen].full.fetch(req.path, { method: c.method, body: req.body, csrf: false, headers: { 'x-csrf-token': admin.csrfToken } });
        assert.equal(wrong.status, 403);
      });
    }

    if (c.invalid) {
      test(`answers 400 naming the bad field when the ${write ? 'body' : 'query'} is invalid`, async () => {
        const req = await c.invalid!();
        const res = await callers[c.screen].full.fetch(req.path, { method: c.method, body: req.body });
        assert.equal(res.status, 400);
        const body = await res.json();
        assert.equal(body.error.code, 'invalid');
        assert.ok(body.error.fields && req.field in body.error.fields, `expected field ${req.field} in ${JSON.stringify(body.error)}`);
        assert.ok(body.error.requestId);
      });
    }
  });
}

describe('routes for any signed-in user', () => {
  test('GET /api/me answers 401 when signed out and the caller, permissions and CSRF token when signed in', async () => {
    assert.equal((await fetch(`${t.baseUrl}/api/me`)).status, 401);
    const me = await callers.users.read.json('/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.permissions.users, 'read');
    assert.equal(me.body.permissions.roles, 'none');
    assert.equal(me.body.csrfToken, callers.users.read.csrfToken);
    assert.match(me.body.user.role.name, /^role /);
  });

  test('GET /api/me answers for a user with No Permission anywhere', async () => {
    const me = await callers['audit-log'].none.json('/api/me');
    assert.equal(me.status, 200);
    assert.equal(me.body.permissions['audit-log'], 'none');
  });

  test('GET /api/search returns users only to callers who may read the Users screen', async () => {
    const target = await newUser();
    const q = encodeURIComponent(target.userName);
    const allowed = await callers.users.read.json(`/api/search?q=${q}`);
    assert.equal(allowed.status, 200);
    assert.deepEqual(allowed.body.users.map((u: { id: string }) => u.id), [target.id]);
    const refused = await callers.users.none.json(`/api/search?q=${q}`);
    assert.equal(refused.status, 200);
    assert.deepEqual(refused.body.users, []);
    assert.equal((await fetch(`${t.baseUrl}/api/search?q=${q}`)).status, 401);
  });

  test('GET /api/search without q answers 400 naming q', async () => {
    const res = await callers.users.read.json('/api/search');
    assert.equal(res.status, 400);
    assert.ok('q' in res.body.error.fields);
  });

  test('a user with No Permission on Users cannot read a user by id either', async () => {
    const target = await newUser();
    assert.equal((await callers.users.none.fetch(`/api/users/${target.id}`)).status, 403);
    assert.equal((await callers.roles.full.fetch(`/api/users/${target.id}`)).status, 403);
  });

  test('a refused write changes nothing', async () => {
    const rg = await newRoleGroup({ accounts: 'read' });
    const res = await callers['role-groups'].read.fetch(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { accounts: 'full' } } });
    assert.equal(res.status, 403);
    const after = await admin.json(`/api/role-groups/${rg.id}`);
    assert.equal(after.body.levels.accounts, 'read');
  });

  test('an unknown id answers 404 JSON for a permitted caller', async () => {
    for (const p of ['/api/users/nope', '/api/roles/nope', '/api/role-groups/nope']) {
      const res = await admin.json(p);
      assert.equal(res.status, 404, p);
      assert.equal(res.body.error.code, 'not_found');
    }
  });
});

/** Sends a request line exactly as given (fetch would normalise the path), returns status and body. */
function rawRequest(requestTarget: string, headers: Record<string, string> = {}, method = 'GET', body = ''): Promise<{ status: number; body: string }> {
  const { port } = new URL(t.baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      const lines = [`${method} ${requestTarget} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      socket.write(lines.join('\r\n') + '\r\n\r\n' + body);
    });
    let out = '';
    socket.on('data', (d) => (out += d));
    socket.on('error', reject);
    socket.on('end', () => resolve({ status: Number(out.split(' ')[1]), body: out.slice(out.indexOf('\r\n\r\n') + 4) }));
  });
}

describe('request paths spelled differently still meet the route\'s access rule', () => {
  const spellings = (port: string) => [
    `http://127.0.0.1:${port}/api/users`,
    '/%61pi/users',
    '/%61%70%69/users?limit=1',
    '/api/%75sers',
  ];

  test('signed out, every spelling of /api/users answers 401 or 404, never the list', async () => {
    await newUser();
    for (const target of spellings(new URL(t.baseUrl).port)) {
      const res = await rawRequest(target);
      assert.ok(res.status === 401 || res.status === 404, `${target} answered ${res.status}: ${res.body.slice(0, 120)}`);
      assert.doesNotMatch(res.body, /"items"/, target);
    }
  });

  test('with No Permission on Users, every spelling of /api/users answers 403 or 404', async () => {
    for (const target of spellings(new URL(t.baseUrl).port)) {
      const res = await rawRequest(target, { cookie: callers.users.none.cookie });
      assert.ok(res.status === 403 || res.status === 404, `${target} answered ${res.status}`);
    }
  });

  test('a write through an encoded path still needs the CSRF token and Full Permission', async () => {
    const target = await newUser();
    const body = JSON.stringify({ displayName: 'bypassed' });
    const res = await rawRequest(`/%61pi/users/${target.id}`, { cookie: callers.users.read.cookie, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }, 'PATCH', body);
    assert.ok(res.status === 403 || res.status === 404, `answered ${res.status}`);
    const after = await admin.json(`/api/users/${target.id}`);
    assert.notEqual(after.body.displayName, 'bypassed');
  });
});
