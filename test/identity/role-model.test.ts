// Roles and role groups over HTTP: core ones immutable, deletes refused while in use, the SCIM
// Default flag, most-permissive merge, changes enforced on the next request, and provisioned
// users whose IdP-owned fields are read-only.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SCREEN_KEYS } from '../../src/identity/catalogue.ts';
import { createLocalAdmin, createUserWithLevels, newLocalUser, newRole, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Client;
const uniq = () => randomBytes(4).toString('hex');

async function roleGroup(levels: Record<string, string>, name = `rg-${uniq()}`) {
  const r = await admin.json('/api/role-groups', { method: 'POST', body: { name, levels } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; name: string; levels: Record<string, string> };
}
const role = (roleGroupIds: string[], name?: string) => newRole(admin, roleGroupIds, name);
const localUser = (roleId: string) => newLocalUser(admin, roleId);
async function provisionedUser() {
  const now = new Date().toISOString();
  const id = `idp-${uniq()}`;
  const userName = `${id}@acme.example`;
  await t.database.db.insertInto('users').values({
    id, user_name: userName, user_name_norm: userName, display_name: 'Ada From IdP', given_name: 'Ada', family_name: 'Lovelace',
    email: userName, email_norm: userName, external_id: `ext-${id}`, role_id: null, status: 'active', source: 'idp',
    time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: JSON.stringify({ userName }), version: 1, created_at: now, updated_at: now,
  }).execute();
  return { id, userName };
}
const scimDefaults = async () => (await admin.json('/api/role-groups?limit=200')).body.items.filter((i: { isScimDefault: boolean }) => i.isScimDefault);

before(async () => {
  t = await startTestApp();
  const a = await createLocalAdmin(t.database);
  admin = await signIn(t.baseUrl, a.username, a.password);
});
after(() => t.close());

test('the core role groups are listed as core, Admin full everywhere and ReadOnly read everywhere', async () => {
  const list = await admin.json('/api/role-groups');
  const core = list.body.items.filter((i: { isCore: boolean }) => i.isCore).map((i: { name: string }) => i.name).sort();
  assert.deepEqual(core, ['Admin', 'ReadOnly']);
  const adm = await admin.json('/api/role-groups/rg-admin');
  const ro = await admin.json('/api/role-groups/rg-readonly');
  for (const key of SCREEN_KEYS) {
    assert.equal(adm.body.levels[key], 'full', key);
    assert.equal(ro.body.levels[key], 'read', key);
  }
  assert.deepEqual(adm.body.references.map((r: { name: string }) => r.name), ['Admin']);
});

test('core role groups cannot be renamed, re-levelled or deleted', async () => {
  for (const id of ['rg-admin', 'rg-readonly']) {
    for (const body of [{ name: 'Renamed' }, { levels: { users: 'none' } }]) {
      const r = await admin.json(`/api/role-groups/${id}`, { method: 'PATCH', body });
      assert.equal(r.status, 409, `${id} ${JSON.stringify(body)}`);
      assert.equal(r.body.error.code, 'conflict');
    }
    assert.equal((await admin.json(`/api/role-groups/${id}`, { method: 'DELETE' })).status, 409);
  }
  const ro = await admin.json('/api/role-groups/rg-readonly');
  assert.equal(ro.body.name, 'ReadOnly');
  assert.equal(ro.body.levels.users, 'read');
});

test('core roles cannot be renamed, given other role groups or deleted', async () => {
  const rg = await roleGroup({ accounts: 'read' });
  for (const id of ['role-admin', 'role-read-only-core']) {
    assert.equal((await admin.json(`/api/roles/${id}`, { method: 'PATCH', body: { name: 'Renamed' } })).status, 409);
    assert.equal((await admin.json(`/api/roles/${id}`, { method: 'PATCH', body: { roleGroupIds: [rg.id] } })).status, 409);
    assert.equal((await admin.json(`/api/roles/${id}`, { method: 'DELETE' })).status, 409);
  }
  const roles = await admin.json('/api/roles?q=core');
  assert.deepEqual(roles.body.items.map((r: { name: string; isCore: boolean; roleGroups: { id: string }[] }) => [r.name, r.isCore, r.roleGroups.map((g) => g.id)]), [['Read Only Core', true, ['rg-readonly']]]);
});

test('a role group is not deleted while a role references it, and is once the role lets go', async () => {
  const rg = await roleGroup({ accounts: 'read' });
  const keep = await roleGroup({ products: 'read' });
  const r = await role([rg.id, keep.id]);
  const refused = await admin.json(`/api/role-groups/${rg.id}`, { method: 'DELETE' });
  assert.equal(refused.status, 409);
  assert.match(refused.body.error.message, new RegExp(r.name));
  const detail = await admin.json(`/api/role-groups/${rg.id}`);
  assert.deepEqual(detail.body.references, [{ id: r.id, name: r.name }]);
  assert.equal(detail.body.roleCount, 1);
  assert.equal((await admin.json(`/api/roles/${r.id}`, { method: 'PATCH', body: { roleGroupIds: [keep.id] } })).status, 200);
  assert.equal((await admin.json(`/api/role-groups/${rg.id}`, { method: 'DELETE' })).status, 204);
  assert.equal((await admin.json(`/api/role-groups/${rg.id}`)).status, 404);
});

test('a role is not deleted while assigned to a user, and is once nobody has it', async () => {
  const rg = await roleGroup({ accounts: 'read' });
  const r = await role([rg.id]);
  const u = await localUser(r.id);
  assert.equal((await admin.json(`/api/roles/${r.id}`)).body.userCount, 1);
  const refused = await admin.json(`/api/roles/${r.id}`, { method: 'DELETE' });
  assert.equal(refused.status, 409);
  assert.match(refused.body.error.message, /assigned to 1 user/);
  assert.equal((await admin.json(`/api/users/${u.id}`, { method: 'PATCH', body: { roleId: 'role-read-only-core' } })).status, 200);
  assert.equal((await admin.json(`/api/roles/${r.id}`, { method: 'DELETE' })).status, 204);
  assert.equal((await admin.json(`/api/roles/${r.id}`)).status, 404);
  // The role group it held survives the role.
  assert.equal((await admin.json(`/api/role-groups/${rg.id}`)).status, 200);
});

test('exactly one role group carries the SCIM Default flag, ReadOnly out of the box, and marking another moves it', async () => {
  assert.deepEqual((await scimDefaults()).map((i: { id: string }) => i.id), ['rg-readonly']);
  const rg = await roleGroup({ accounts: 'read' });
  const moved = await admin.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { isScimDefault: true } });
  assert.equal(moved.status, 200);
  assert.equal(moved.body.isScimDefault, true);
  assert.deepEqual((await scimDefaults()).map((i: { id: string }) => i.id), [rg.id]);
  // The SCIM Default role group cannot be deleted, and the flag cannot simply be switched off.
  assert.equal((await admin.json(`/api/role-groups/${rg.id}`, { method: 'DELETE' })).status, 409);
  const off = await admin.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { isScimDefault: false } });
  assert.equal(off.status, 400);
  assert.ok('isScimDefault' in off.body.error.fields);
  // A core role group may take the flag back (the flag is not part of its immutable levels).
  assert.equal((await admin.json('/api/role-groups/rg-readonly', { method: 'PATCH', body: { isScimDefault: true } })).status, 200);
  assert.deepEqual((await scimDefaults()).map((i: { id: string }) => i.id), ['rg-readonly']);
  const audit = await admin.json('/api/audit?action=role_group.scim_default');
  assert.equal(audit.body.items.length, 2);
});

test('a provisioned user in no pushed group gets the SCIM Default role group, and follows it when it moves', async () => {
  const p = await provisionedUser();
  const before = await admin.json(`/api/users/${p.id}`);
  assert.equal(before.status, 200);
  for (const g of before.body.effectivePermissions) {
    assert.equal(g.level, 'read', g.screen);
    assert.deepEqual(g.grantedBy, [{ id: 'rg-readonly', name: 'ReadOnly' }]);
  }
  const rg = await roleGroup({ invoices: 'full' });
  await admin.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { isScimDefault: true } });
  try {
    const after = await admin.json(`/api/users/${p.id}`);
    const levels = Object.fromEntries(after.body.effectivePermissions.map((g: { screen: string; level: string }) => [g.screen, g.level]));
    assert.equal(levels.invoices, 'full');
    assert.equal(levels.users, 'none');
    const people = await admin.json(`/api/role-groups/${rg.id}`);
    assert.ok(people.body.people.some((x: { id: string }) => x.id === p.id), 'the role group lists the provisioned user among the people it reaches');
  } finally {
    await admin.json('/api/role-groups/rg-readonly', { method: 'PATCH', body: { isScimDefault: true } });
  }
});

test('a role with two role groups grants the most permissive level per screen and says which role group grants it', async () => {
  const a = await roleGroup({ accounts: 'read', users: 'full' }, `Alpha ${uniq()}`);
  const b = await roleGroup({ accounts: 'full', users: 'read', products: 'read' }, `Beta ${uniq()}`);
  const r = await role([a.id, b.id]);
  const u = await localUser(r.id);
  const c = await signIn(t.baseUrl, u.userName, u.password);
  const me = await c.json('/api/me');
  assert.equal(me.body.permissions.accounts, 'full');
  assert.equal(me.body.permissions.users, 'full');
  assert.equal(me.body.permissions.products, 'read');
  assert.equal(me.body.permissions.invoices, 'none');
  // Enforced, not only reported: Full on Users from Alpha although Beta says Read Only.
  const created = await c.json('/api/users', { method: 'POST', body: { userName: `by-merge-${uniq()}`, roleId: r.id } });
  assert.equal(created.status, 201);
  assert.equal((await c.fetch('/api/roles')).status, 403);
  const detail = await admin.json(`/api/users/${u.id}`);
  const why = Object.fromEntries(detail.body.effectivePermissions.map((g: { screen: string; grantedBy: { name: string }[] }) => [g.screen, g.grantedBy.map((x) => x.name)]));
  assert.deepEqual(why.accounts, [b.name]);
  assert.deepEqual(why.users, [a.name]);
  assert.deepEqual(why.products, [b.name]);
  assert.deepEqual(why.invoices, []);
  const labels = detail.body.effectivePermissions.find((g: { screen: string }) => g.screen === 'role-groups');
  assert.equal(labels.label, 'Role Groups');
  assert.equal(labels.menu, 'Setup');
});

test('a change to a role group\'s levels applies to an already signed-in user on their next request', async () => {
  const u = await createUserWithLevels(admin, { users: 'read' });
  const c = await signIn(t.baseUrl, u.username, u.password);
  assert.equal((await c.fetch('/api/users')).status, 200);
  assert.equal((await c.fetch('/api/roles')).status, 403);
  const patched = await admin.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { users: 'none', roles: 'full' } } });
  assert.equal(patched.status, 200);
  assert.equal(patched.body.levels.users, 'none');
  assert.equal((await c.fetch('/api/users')).status, 403);
  assert.equal((await c.fetch('/api/roles')).status, 200);
  const me = await c.json('/api/me');
  assert.equal(me.body.permissions.users, 'none');
  assert.equal(me.body.permissions.roles, 'full');
  const audit = await admin.json(`/api/audit?action=role_group.update&targetId=${u.roleGroupId}`);
  assert.match(audit.body.items[0].summary, /Users: No Permission/);
  assert.match(audit.body.items[0].summary, /Roles: Full Permission/);
});

test('changing a role\'s role groups or a user\'s role also applies on the next request', async () => {
  const u = await createUserWithLevels(admin, { users: 'read' });
  const c = await signIn(t.baseUrl, u.username, u.password);
  const audit = await roleGroup({ 'audit-log': 'read' });
  assert.equal((await c.fetch('/api/audit')).status, 403);
  assert.equal((await admin.json(`/api/roles/${u.roleId}`, { method: 'PATCH', body: { roleGroupIds: [audit.id] } })).status, 200);
  assert.equal((await c.fetch('/api/audit')).status, 200);
  assert.equal((await c.fetch('/api/users')).status, 403);
  assert.equal((await admin.json(`/api/users/${u.userId}`, { method: 'PATCH', body: { roleId: 'role-admin' } })).status, 200);
  assert.equal((await c.fetch('/api/users')).status, 200);
});

test('a partial levels update changes only the screens it names; none removes a screen', async () => {
  const rg = await roleGroup({ accounts: 'read', products: 'full' });
  const r = await admin.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { accounts: 'full', products: 'none' } } });
  assert.equal(r.body.levels.accounts, 'full');
  assert.equal(r.body.levels.products, 'none');
  const r2 = await admin.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { usage: 'read' } } });
  assert.equal(r2.body.levels.accounts, 'full');
  assert.equal(r2.body.levels.usage, 'read');
});

test('names of roles and role groups are unique regardless of case', async () => {
  const rg = await roleGroup({}, `Unique ${uniq()}`);
  const dup = await admin.json('/api/role-groups', { method: 'POST', body: { name: rg.name.toUpperCase() } });
  assert.equal(dup.status, 409);
  assert.ok('name' in dup.body.error.fields);
  const r = await role([rg.id]);
  const dupRole = await admin.json('/api/roles', { method: 'POST', body: { name: r.name.toUpperCase(), roleGroupIds: [rg.id] } });
  assert.equal(dupRole.status, 409);
  assert.ok('name' in dupRole.body.error.fields);
});

test('bad role and role group input names the field', async () => {
  const badLevel = await admin.json('/api/role-groups', { method: 'POST', body: { name: `x-${uniq()}`, levels: { users: 'admin' } } });
  assert.equal(badLevel.status, 400);
  assert.ok(Object.keys(badLevel.body.error.fields).some((k) => k.startsWith('levels')), JSON.stringify(badLevel.body.error.fields));
  const unknownGroup = await admin.json('/api/roles', { method: 'POST', body: { name: `x-${uniq()}`, roleGroupIds: ['nope'] } });
  assert.equal(unknownGroup.status, 400);
  assert.ok('roleGroupIds' in unknownGroup.body.error.fields);
  const extra = await admin.json('/api/roles', { method: 'POST', body: { name: `x-${uniq()}`, roleGroupIds: ['rg-admin'], colour: 'red' } });
  assert.equal(extra.status, 400);
  assert.ok('colour' in extra.body.error.fields);
});

test('IdP-owned fields of a provisioned user are refused with 400 naming the field; local preferences can change', async () => {
  const p = await provisionedUser();
  const detail = await admin.json(`/api/users/${p.id}`);
  assert.deepEqual(detail.body.managedFields.sort(), ['displayName', 'email', 'familyName', 'givenName', 'status', 'userName']);
  const attempts: [string, unknown][] = [
    ['userName', 'someone-else'],
    ['displayName', 'Changed'],
    ['givenName', 'Changed'],
    ['familyName', 'Changed'],
    ['email', 'changed@example.com'],
    ['status', 'suspended'],
    ['roleId', 'role-admin'],
  ];
  for (const [field, value] of attempts) {
    const r = await admin.json(`/api/users/${p.id}`, { method: 'PATCH', body: { [field]: value } });
    assert.equal(r.status, 400, field);
    assert.deepEqual(Object.keys(r.body.error.fields), [field]);
    assert.match(r.body.error.fields[field], /identity provider/);
  }
  const pw = await admin.json(`/api/users/${p.id}/password`, { method: 'POST', body: {} });
  assert.equal(pw.status, 400);
  assert.ok('password' in pw.body.error.fields);
  // Sending the current value unchanged is not a change, and local preferences belong to Ledgerline.
  const ok = await admin.json(`/api/users/${p.id}`, { method: 'PATCH', body: { displayName: 'Ada From IdP', timeZone: 'Europe/Paris', locale: 'fr-FR' } });
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.timeZone, 'Europe/Paris');
  assert.equal(ok.body.displayName, 'Ada From IdP');
  const row = await t.database.db.selectFrom('users').select(['display_name', 'email', 'status']).where('id', '=', p.id).executeTakeFirstOrThrow();
  assert.deepEqual(row, { display_name: 'Ada From IdP', email: p.userName, status: 'active' });
});

test("two admins editing one role at once keep both edits: a rename racing a change of its role groups is not undone by it", async () => {
  const a = await roleGroup({ accounts: 'read' });
  const b = await roleGroup({ invoices: 'read' });
  const r = await role([a.id]);
  for (let i = 0; i < 20; i++) {
    const [rename, regroup] = await Promise.all([
      admin.json(`/api/roles/${r.id}`, { method: 'PATCH', body: { name: `${r.name} ${i}` } }),
      admin.json(`/api/roles/${r.id}`, { method: 'PATCH', body: { roleGroupIds: [i % 2 ? a.id : b.id] } }),
    ]);
    assert.equal(rename.status, 200, JSON.stringify(rename.body));
    assert.equal(regroup.status, 200, JSON.stringify(regroup.body));
    const now = await admin.json(`/api/roles/${r.id}`);
    assert.equal(now.body.name, `${r.name} ${i}`, `round ${i}: the rename is kept`);
    assert.deepEqual(now.body.roleGroups.map((g: { id: string }) => g.id), [i % 2 ? a.id : b.id], `round ${i}: the role groups are kept`);
  }
});

test('a role group deleted at the moment it is given to a role is either deleted (and the role refused) or kept (and the delete refused), never both', async () => {
  const keep = await roleGroup({ accounts: 'read' });
  const r = await role([keep.id]);
  for (let i = 0; i < 20; i++) {
    const x = await roleGroup({ invoices: 'read' });
    const [given, deleted] = await Promise.all([
      admin.json(`/api/roles/${r.id}`, { method: 'PATCH', body: { roleGroupIds: [x.id] } }),
      admin.json(`/api/role-groups/${x.id}`, { method: 'DELETE' }),
    ]);
    const now = await admin.json(`/api/roles/${r.id}`);
    const groups = now.body.roleGroups.map((g: { id: string }) => g.id);
    if (given.status === 200) {
      assert.equal(deleted.status, 409, `round ${i}: the role has it, so the delete is refused: ${JSON.stringify(deleted.body)}`);
      assert.deepEqual(groups, [x.id], `round ${i}`);
    } else {
      assert.equal(given.status, 400, `round ${i}: ${JSON.stringify(given.body)}`);
      assert.match(given.body.error.fields.roleGroupIds, /does not exist/);
      assert.equal(deleted.status, 204, `round ${i}`);
      assert.deepEqual(groups, [keep.id], `round ${i}: the role keeps the role group it had`);
    }
    // Back to the role group that stays, for the next round.
    assert.equal((await admin.json(`/api/roles/${r.id}`, { method: 'PATCH', body: { roleGroupIds: [keep.id] } })).status, 200);
  }
});

test('a role deleted at the moment it is given to a user is either deleted (and the user refused) or kept (and the delete refused), never both', async () => {
  const keep = await roleGroup({ accounts: 'read' });
  const stays = await role([keep.id]);
  const u = await localUser(stays.id);
  for (let i = 0; i < 20; i++) {
    const x = await role([keep.id]);
    const [given, deleted] = await Promise.all([
      admin.json(`/api/users/${u.id}`, { method: 'PATCH', body: { roleId: x.id } }),
      admin.json(`/api/roles/${x.id}`, { method: 'DELETE' }),
    ]);
    const now = await admin.json(`/api/users/${u.id}`);
    if (given.status === 200) {
      assert.equal(deleted.status, 409, `round ${i}: the user has it, so the delete is refused: ${JSON.stringify(deleted.body)}`);
      assert.equal(now.body.role.id, x.id, `round ${i}`);
      assert.equal((await admin.json(`/api/users/${u.id}`, { method: 'PATCH', body: { roleId: stays.id } })).status, 200);
    } else {
      assert.equal(given.status, 400, `round ${i}: ${JSON.stringify(given.body)}`);
      assert.equal(given.body.error.fields.roleId, 'No such role');
      assert.equal(deleted.status, 204, `round ${i}`);
      assert.equal(now.body.role.id, stays.id, `round ${i}: the user keeps their role`);
    }
  }
});

test('two admins marking different role groups SCIM Default at once both succeed, and one role group carries the flag', async () => {
  for (let i = 0; i < 10; i++) {
    const [a, b] = [await roleGroup({ accounts: 'read' }), await roleGroup({ invoices: 'read' })];
    const answers = await Promise.all([a, b].map((rg) => admin.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { isScimDefault: true } })));
    assert.deepEqual(answers.map((r) => r.status), [200, 200], `round ${i}: ${JSON.stringify(answers.map((r) => r.body))}`);
    const flagged = (await scimDefaults()).map((x: { id: string }) => x.id);
    assert.equal(flagged.length, 1, `round ${i}: ${flagged.join(', ')}`);
    assert.ok([a.id, b.id].includes(flagged[0]), `round ${i}`);
  }
  assert.equal((await admin.json('/api/role-groups/rg-readonly', { method: 'PATCH', body: { isScimDefault: true } })).status, 200);
});

test('a role group marked SCIM Default at the moment it is deleted is either flagged (and the delete refused) or deleted (and the flag stays where it was)', async () => {
  for (let i = 0; i < 10; i++) {
    const x = await roleGroup({ accounts: 'read' });
    const [flagged, deleted] = await Promise.all([
      admin.json(`/api/role-groups/${x.id}`, { method: 'PATCH', body: { isScimDefault: true } }),
      admin.json(`/api/role-groups/${x.id}`, { method: 'DELETE' }),
    ]);
    const defaults = (await scimDefaults()).map((d: { id: string }) => d.id);
    if (flagged.status === 200) {
      assert.equal(deleted.status, 409, `round ${i}: the SCIM Default role group is not deleted: ${JSON.stringify(deleted.body)}`);
      assert.deepEqual(defaults, [x.id], `round ${i}`);
      assert.equal((await admin.json('/api/role-groups/rg-readonly', { method: 'PATCH', body: { isScimDefault: true } })).status, 200);
    } else {
      assert.equal(flagged.status, 404, `round ${i}: ${JSON.stringify(flagged.body)}`);
      assert.equal(deleted.status, 204, `round ${i}`);
      assert.deepEqual(defaults, ['rg-readonly'], `round ${i}: the flag stays where it was`);
    }
  }
});

test('two deletes of one role at once: one deletes it, the other answers 404, and the audit log says so once', async () => {
  const keep = await roleGroup({ accounts: 'read' });
  for (let i = 0; i < 10; i++) {
    const x = await role([keep.id]);
    const answers = await Promise.all([0, 1].map(() => admin.json(`/api/roles/${x.id}`, { method: 'DELETE' })));
    assert.deepEqual(answers.map((r) => r.status).sort(), [204, 404], `round ${i}: ${JSON.stringify(answers.map((r) => r.body))}`);
    const lines = await t.database.db.selectFrom('audit_log').select('id').where('action', '=', 'role.delete').where('target_id', '=', x.id).execute();
    assert.equal(lines.length, 1, `round ${i}`);
  }
});
