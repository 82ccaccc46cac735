// The Users screen's API: create, edit, list with search and paging, and the audit trail it leaves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createLocalAdmin, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { userSearch } from '../../src/identity/users.service.ts';

let t: TestApp;
let admin: Client;
const uniq = () => randomBytes(4).toString('hex');

before(async () => {
  t = await startTestApp();
  const a = await createLocalAdmin(t.database);
  admin = await signIn(t.baseUrl, a.username, a.password);
});
after(() => t.close());

test('creating a user without a password returns a generated one once, and it signs in', async () => {
  const userName = `Gen-${uniq()}`;
  const res = await admin.json('/api/users', {
    method: 'POST',
    body: { userName, displayName: 'Grace Hopper', givenName: 'Grace', familyName: 'Hopper', email: 'grace@example.com', roleId: 'role-read-only-core', timeZone: 'America/New_York', locale: 'en-GB' },
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.match(res.body.initialPassword, /^[A-Za-z0-9]{20}$/);
  assert.equal(res.body.userName, userName);
  assert.equal(res.body.source, 'local');
  assert.equal(res.body.status, 'active');
  assert.deepEqual(res.body.role, { id: 'role-read-only-core', name: 'Read Only Core' });
  assert.deepEqual(res.body.managedFields, []);
  assert.equal(res.body.timeZone, 'America/New_York');
  const c = await signIn(t.baseUrl, userName, res.body.initialPassword);
  assert.equal((await c.json('/api/me')).body.user.email, 'grace@example.com');
  const again = await admin.json(`/api/users/${res.body.id}`);
  assert.equal(again.body.initialPassword, undefined, 'the generated password is shown only once');
  const audit = JSON.stringify((await admin.json(`/api/audit?targetId=${res.body.id}`)).body);
  assert.ok(!audit.includes(res.body.initialPassword), 'the generated password is not audited');
});

test('a user given a password gets no initialPassword back', async () => {
  const res = await admin.json('/api/users', { method: 'POST', body: { userName: `p-${uniq()}`, password: `Pw-${uniq()}${uniq()}`, roleId: 'role-read-only-core' } });
  assert.equal(res.status, 201);
  assert.equal(res.body.initialPassword, undefined);
});

test('user names are unique regardless of case', async () => {
  const userName = `Dup-${uniq()}`;
  assert.equal((await admin.json('/api/users', { method: 'POST', body: { userName, roleId: 'role-read-only-core' } })).status, 201);
  const dup = await admin.json('/api/users', { method: 'POST', body: { userName: userName.toLowerCase(), roleId: 'role-read-only-core' } });
  assert.equal(dup.status, 409);
  assert.ok('userName' in dup.body.error.fields);
});

test('bad user input answers 400 with a message for each field', async () => {
  const res = await admin.json('/api/users', {
    method: 'POST',
    body: { userName: 'has space', email: 'not-an-email', timeZone: 'Mars/Olympus', password: 'short', roleId: 'no-such-role' },
  });
  assert.equal(res.status, 400);
  assert.deepEqual(Object.keys(res.body.error.fields).sort(), ['email', 'password', 'roleId', 'timeZone', 'userName']);
  const noRole = await admin.json('/api/users', { method: 'POST', body: { userName: `r-${uniq()}` } });
  assert.equal(noRole.status, 400);
  assert.ok('roleId' in noRole.body.error.fields);
  const wrongType = await admin.json('/api/users', { method: 'POST', body: { userName: { first: 'x' }, roleId: 'role-admin' } });
  assert.equal(wrongType.status, 400);
  assert.ok('userName' in wrongType.body.error.fields);
});

test('editing a local user changes the fields sent and audits what changed', async () => {
  const created = await admin.json('/api/users', { method: 'POST', body: { userName: `e-${uniq()}`, roleId: 'role-read-only-core' } });
  const id = created.body.id;
  const res = await admin.json(`/api/users/${id}`, { method: 'PATCH', body: { displayName: 'New Name', email: 'New@Example.com', roleId: 'role-admin' } });
  assert.equal(res.status, 200);
  assert.equal(res.body.displayName, 'New Name');
  assert.equal(res.body.email, 'New@Example.com');
  assert.equal(res.body.role.name, 'Admin');
  assert.equal(res.body.userName, created.body.userName);
  const audit = await admin.json(`/api/audit?targetId=${id}&action=user.update`);
  assert.equal(audit.body.items.length, 1);
  assert.match(audit.body.items[0].summary, /displayName, email, roleId/);
  assert.equal(audit.body.items[0].actorName, (await admin.json('/api/me')).body.user.userName);
  const cleared = await admin.json(`/api/users/${id}`, { method: 'PATCH', body: { displayName: null } });
  assert.equal(cleared.status, 200);
  assert.equal(cleared.body.displayName, null);
  const removeRole = await admin.json(`/api/users/${id}`, { method: 'PATCH', body: { roleId: null } });
  assert.equal(removeRole.status, 400);
  assert.ok('roleId' in removeRole.body.error.fields);
  const pw = await admin.json(`/api/users/${id}`, { method: 'PATCH', body: { password: 'Some-long-password-1' } });
  assert.equal(pw.status, 400);
  assert.ok('password' in pw.body.error.fields);
});

test('the user list searches by name and email, filters by status and source, and pages with a cursor', async () => {
  const tag = uniq();
  const names = Array.from({ length: 5 }, (_, i) => `list-${tag}-${i}`);
  for (const [i, userName] of names.entries()) {
    const r = await admin.json('/api/users', { method: 'POST', body: { userName, roleId: 'role-read-only-core', status: i === 0 ? 'suspended' : 'active', email: `${userName}@corp.example` } });
    assert.equal(r.status, 201);
  }
  const seen: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const res: { status: number; body: { items: { userName: string }[]; nextCursor: string | null } } = await admin.json(`/api/users?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200);
    assert.ok(res.body.items.length <= 2);
    seen.push(...res.body.items.map((u) => u.userName));
    cursor = res.body.nextCursor;
    pages++;
  } while (cursor);
  assert.deepEqual(seen, names, 'every user exactly once, in name order');
  assert.equal(pages, 3);
  const upper = await admin.json(`/api/users?q=${tag.toUpperCase()}`);
  assert.equal(upper.body.items.length, 5, 'search is case-insensitive');
  const byEmail = await admin.json(`/api/users?q=${encodeURIComponent(`${names[2]}@corp`)}`);
  assert.deepEqual(byEmail.body.items.map((u: { userName: string }) => u.userName), [names[2]]);
  const suspended = await admin.json(`/api/users?q=${tag}&status=suspended`);
  assert.deepEqual(suspended.body.items.map((u: { userName: string }) => u.userName), [names[0]]);
  const idp = await admin.json(`/api/users?q=${tag}&source=idp`);
  assert.deepEqual(idp.body.items, []);
  const badStatus = await admin.json('/api/users?status=sleeping');
  assert.equal(badStatus.status, 400);
  assert.ok('status' in badStatus.body.error.fields);
  // LIKE wildcards in the search are taken literally.
  assert.equal((await admin.json('/api/users?q=%25')).body.items.length, 0);
  assert.equal((await admin.json(`/api/users?q=list_${tag}`)).body.items.length, 0);
});

test('a search finds the same users in name order however it reads them: a window of the first users in name order, or all of them', async () => {
  const tag = uniq();
  // 14 users in one stretch of the name order; 7 of them match, by user name, display name or email,
  // in runs of one, two and three between users that do not.
  const matching = new Set([1, 3, 4, 7, 8, 9, 12]);
  const names = Array.from({ length: 14 }, (_, i) => `win-${tag}-${String(i).padStart(2, '0')}`);
  for (const [i, userName] of names.entries()) {
    const how = i % 3;
    const body = {
      userName: matching.has(i) && how === 0 ? `${userName}-needle${tag}` : userName,
      displayName: matching.has(i) && how === 1 ? `Needle${tag.toUpperCase()} ${i}` : `Person ${i}`,
      email: matching.has(i) && how === 2 ? `needle${tag}.${i}@corp.example` : `${userName}@corp.example`,
      roleId: 'role-read-only-core',
      status: i === 8 ? 'suspended' : 'active',
    };
    assert.equal((await admin.json('/api/users', { method: 'POST', body })).status, 201);
  }
  const expected = names.flatMap((n, i) => (matching.has(i) ? [i % 3 === 0 ? `${n}-needle${tag}` : n] : []));
  const walk = async (query: string, limit: number) => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { items: { userName: string }[]; nextCursor: string | null } } = await admin.json(`/api/users?q=${query}&limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      assert.ok(res.body.items.length <= limit);
      seen.push(...res.body.items.map((u) => u.userName));
      cursor = res.body.nextCursor;
    } while (cursor);
    return seen;
  };
  const saved = { ...userSearch };
  try {
    for (const windowRows of [1, 2, 3, 5, 10_000]) {
      userSearch.windowRows = windowRows;
      for (const limit of [1, 2, 3, 50]) {
        assert.deepEqual(await walk(`NEEDLE${tag}`, limit), expected, `window ${windowRows}, pages of ${limit}`);
      }
      const suspended = await admin.json(`/api/users?q=needle${tag}&status=suspended`);
      assert.deepEqual(suspended.body.items.map((u: { userName: string }) => u.userName), [names[8]], `window ${windowRows}: with a status`);
    }
  } finally {
    Object.assign(userSearch, saved);
  }
});

test('a search ignores the case of letters beyond ASCII in user names and e-mails', async () => {
  const tag = uniq();
  const userName = `élodie.ångström-${tag}`;
  assert.equal((await admin.json('/api/users', { method: 'POST', body: { userName, email: `Ådne-${tag}@corp.example`, roleId: 'role-read-only-core' } })).status, 201);
  for (const q of [`ÉLODIE.ÅNGSTRÖM-${tag}`, `ådne-${tag}`]) {
    const res = await admin.json(`/api/users?q=${encodeURIComponent(q)}`);
    assert.deepEqual(res.body.items.map((u: { userName: string }) => u.userName), [userName], q);
  }
});

test('a user summary has the documented shape', async () => {
  const list = await admin.json('/api/users?limit=1');
  const keys = Object.keys(list.body.items[0]);
  for (const k of ['id', 'userName', 'displayName', 'givenName', 'familyName', 'email', 'status', 'source', 'role', 'pushedGroups', 'createdAt', 'updatedAt']) assert.ok(keys.includes(k), k);
  assert.ok(!keys.some((k) => /password|hash/i.test(k)));
  assert.ok('nextCursor' in list.body);
});

test('a user edit with a list, a number or a boolean where text goes is a 400 naming the field, and changes nothing', async () => {
  const created = await admin.json('/api/users', { method: 'POST', body: { userName: `t-${uniq()}`, displayName: 'Ada Lovelace', roleId: 'role-read-only-core' } });
  const id = created.body.id;
  for (const [field, value] of [['displayName', ['x']], ['displayName', 0], ['givenName', ['x']], ['email', ['a@example.com']], ['timeZone', ['UTC']], ['userName', 12], ['roleId', ['role-admin']]] as const) {
    const res = await admin.json(`/api/users/${id}`, { method: 'PATCH', body: { [field]: value } });
    assert.equal(res.status, 400, `${field}: ${JSON.stringify(res.body)}`);
    assert.ok(res.body.error.fields?.[field], JSON.stringify(res.body));
  }
  const wrong = await admin.json('/api/users', { method: 'POST', body: { userName: `t-${uniq()}`, displayName: ['x'], roleId: 'role-read-only-core' } });
  assert.equal(wrong.status, 400);
  assert.equal(wrong.body.error.fields.displayName, 'Must be string or null');
  const now = await admin.json(`/api/users/${id}`);
  assert.deepEqual([now.body.displayName, now.body.role.id, now.body.version], [created.body.displayName, 'role-read-only-core', created.body.version]);
  assert.equal((await admin.json(`/api/audit?targetId=${id}&action=user.update`)).body.items.length, 0);
});

test('a role or role group edit with a value of the wrong JSON type is a 400, and "true" does not make a SCIM Default', async () => {
  const rg = await admin.json('/api/role-groups', { method: 'POST', body: { name: `RG ${uniq()}` } });
  assert.equal(rg.status, 201, JSON.stringify(rg.body));
  for (const body of [{ isScimDefault: 'true' }, { isScimDefault: 1 }, { name: ['x'] }]) {
    const res = await admin.json(`/api/role-groups/${rg.body.id}`, { method: 'PATCH', body });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.ok(res.body.error.fields?.[Object.keys(body)[0]], JSON.stringify(res.body));
  }
  const after = await admin.json(`/api/role-groups/${rg.body.id}`);
  assert.deepEqual([after.body.name, after.body.isScimDefault], [rg.body.name, false]);
  const role = await admin.json('/api/roles', { method: 'POST', body: { name: ['x'], roleGroupIds: [] } });
  assert.equal(role.status, 400);
  assert.ok(role.body.error.fields.name);
});

test('a forged paging cursor on the users, roles and role groups lists is a 400, not a 500', async () => {
  const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
  for (const list of ['/api/users', '/api/roles', '/api/role-groups']) {
    for (const key of [[{}], [true, false], [[]], [{ toString: 1 }, { valueOf: 2 }], [{ toString: 1 }], [7], ['\u0000'], ['a\ud800'], ['a', 'b'], []]) {
      const res = await admin.json(`${list}?cursor=${cursor(key)}`);
      assert.equal(res.status, 400, `${list} ${JSON.stringify(key)}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.error.fields?.cursor);
      assert.match(res.body.error.message, /cursor is not valid/);
    }
    const first = await admin.json(`${list}?limit=1`);
    assert.equal((await admin.json(`${list}?limit=1&cursor=${first.body.nextCursor}`)).status, 200, list);
  }
});
