// Nobody gives, through Users, Roles or Role Groups, more than they hold, nor manages a user who holds
// more than they do: each way up is a 403 naming the screens, and changes nothing. The Admin does all
// of it; a lower user does what stays within their own levels, and lowers anything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SCREEN_KEYS, type Level, type ScreenKey } from '../../src/identity/catalogue.ts';
import { createPushedGroupRoles } from '../../src/identity/pushed-groups.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { createLocalAdmin, createUserWithLevels, newLocalUser, newRole, signIn, startWithAdmin, type Client, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Client;
let adminId: string;
const uniq = () => randomBytes(4).toString('hex');
const all = (level: Level) => Object.fromEntries(SCREEN_KEYS.map((k) => [k, level])) as Record<ScreenKey, Level>;

/** A signed-in user whose role holds one role group with `levels`, and that role group and role. */
async function actor(levels: Record<string, Level>) {
  const u = await createUserWithLevels(admin, levels);
  return { ...u, client: await signIn(t.baseUrl, u.username, u.password) };
}
async function roleGroup(levels: Record<string, Level>) {
  const r = await admin.json('/api/role-groups', { method: 'POST', body: { name: `rg-${uniq()}`, levels } });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body as { id: string; name: string };
}
const role = (roleGroupIds: string[], name?: string) => newRole(admin, roleGroupIds, name);
const localUser = (roleId: string) => newLocalUser(admin, roleId);
/** Asserts a 403 in the /api error shape whose message matches `message`. */
function refused(res: { status: number; body: any }, message: RegExp) {
  assert.equal(res.status, 403, JSON.stringify(res.body));
  assert.equal(res.body.error.code, 'forbidden');
  assert.match(res.body.error.message, message);
  assert.ok(res.body.error.requestId);
}
const permissionsOf = async (c: Client) => (await c.json('/api/me')).body.permissions as Record<ScreenKey, Level>;
const levelsOfGroup = async (id: string) => (await admin.json(`/api/role-groups/${id}`)).body.levels as Record<ScreenKey, Level>;

before(async () => {
  ({ t, admin, adminId } = await startWithAdmin());
});
after(() => t.close());

// Users

test('a user with Full Permission on Users cannot give themselves the Admin role', async () => {
  const u = await actor({ users: 'full' });
  const res = await u.client.json(`/api/users/${u.userId}`, { method: 'PATCH', body: { roleId: 'role-admin' } });
  refused(res, /^You cannot give a role with permissions you do not have yourself: .*Audit Log \(Full Permission\)/);
  assert.equal((await permissionsOf(u.client))['audit-log'], 'none');
  assert.equal((await admin.json(`/api/users/${u.userId}`)).body.role.id, u.roleId);
});

test('a user with Full Permission on Users cannot create a user with a role above their own', async () => {
  const u = await actor({ users: 'full' });
  const userName = `n-${uniq()}`;
  refused(await u.client.json('/api/users', { method: 'POST', body: { userName, roleId: 'role-admin' } }), /Admin|Full Permission/);
  refused(await u.client.json('/api/users', { method: 'POST', body: { userName, roleId: 'role-read-only-core' } }), /Accounts \(Read Only\)/);
  assert.deepEqual((await admin.json(`/api/users?q=${userName}`)).body.items, []);
});

test('a user with Full Permission on Users cannot reset, disable, sign out or edit an admin', async () => {
  // Another admin than the one making fixtures: on a server without the rule, this test takes it over.
  const victim = await createLocalAdmin(t.database);
  const session = await signIn(t.baseUrl, victim.username, victim.password);
  const victimId = (await session.json('/api/me')).body.user.id as string;
  const u = await actor({ users: 'full' });
  const over = /has permissions you do not have yourself, so you cannot manage this user: .*SAML Settings \(Full Permission\)/;
  refused(await u.client.json(`/api/users/${victimId}/password`, { method: 'POST', body: {} }), over);
  refused(await u.client.json(`/api/users/${victimId}/password`, { method: 'POST', body: { password: `Pw-${uniq()}-${uniq()}` } }), over);
  refused(await u.client.json(`/api/users/${victimId}`, { method: 'PATCH', body: { status: 'disabled' } }), over);
  refused(await u.client.json(`/api/users/${victimId}`, { method: 'PATCH', body: { status: 'suspended' } }), over);
  refused(await u.client.json(`/api/users/${victimId}`, { method: 'PATCH', body: { email: 'attacker@example.com' } }), over);
  refused(await u.client.json(`/api/users/${victimId}/sign-out-everywhere`, { method: 'POST' }), over);
  // The admin's password, status and session are as they were.
  assert.equal((await session.json('/api/me')).status, 200);
  const detail = await admin.json(`/api/users/${victimId}`);
  assert.equal(detail.status, 200);
  assert.equal(detail.body.status, 'active');
  assert.notEqual(detail.body.email, 'attacker@example.com');
  await signIn(t.baseUrl, victim.username, victim.password);
});

test('a user with Full Permission on Users cannot manage a user who holds a screen they do not', async () => {
  const u = await actor({ users: 'full' });
  const target = await localUser((await role([(await roleGroup({ users: 'full', invoices: 'read' })).id])).id);
  refused(await u.client.json(`/api/users/${target.id}/password`, { method: 'POST', body: {} }), /Invoices \(Read Only\)/);
  refused(await u.client.json(`/api/users/${target.id}`, { method: 'PATCH', body: { displayName: 'Changed' } }), /Invoices \(Read Only\)/);
});

test('a user with Full Permission on Users and Read Only elsewhere assigns a Read Only role to a Read Only user, resets and suspends them', async () => {
  const u = await actor({ ...all('read'), users: 'full' });
  const readRole = await role([(await roleGroup({ accounts: 'read', invoices: 'read' })).id]);
  const target = await localUser(readRole.id);
  const changed = await u.client.json(`/api/users/${target.id}`, { method: 'PATCH', body: { roleId: 'role-read-only-core', displayName: 'Reader' } });
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal(changed.body.role.id, 'role-read-only-core');
  const reset = await u.client.json(`/api/users/${target.id}/password`, { method: 'POST', body: {} });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.ok(reset.body.password);
  assert.equal((await u.client.json(`/api/users/${target.id}/sign-out-everywhere`, { method: 'POST' })).status, 200);
  assert.equal((await u.client.json(`/api/users/${target.id}`, { method: 'PATCH', body: { status: 'suspended' } })).status, 200);
  const created = await u.client.json('/api/users', { method: 'POST', body: { userName: `n-${uniq()}`, roleId: readRole.id } });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  // A user at the actor's own level may be managed too; the Admin role still may not be given.
  const peer = await localUser(u.roleId);
  assert.equal((await u.client.json(`/api/users/${peer.id}/password`, { method: 'POST', body: {} })).status, 200);
  refused(await u.client.json(`/api/users/${target.id}`, { method: 'PATCH', body: { roleId: 'role-admin' } }), /Users \(Full Permission\)|Accounts \(Full Permission\)/);
});

test('a user may edit themselves and keep their role; nobody suspends or disables themselves', async () => {
  const u = await actor({ users: 'full' });
  const self = await u.client.json(`/api/users/${u.userId}`, { method: 'PATCH', body: { displayName: 'Me', roleId: u.roleId } });
  assert.equal(self.status, 200, JSON.stringify(self.body));
  const res = await admin.json(`/api/users/${adminId}`, { method: 'PATCH', body: { status: 'disabled' } });
  assert.equal(res.status, 400);
  assert.ok('status' in res.body.error.fields);
});

// Roles

test('a user with Full Permission on Roles cannot add the Admin role group to their own role, nor make a role with it', async () => {
  const u = await actor({ roles: 'full' });
  const res = await u.client.json(`/api/roles/${u.roleId}`, { method: 'PATCH', body: { roleGroupIds: [u.roleGroupId, 'rg-admin'] } });
  refused(res, /^You cannot give permissions you do not have yourself: .*Audit Log \(Full Permission\)/);
  assert.deepEqual((await admin.json(`/api/roles/${u.roleId}`)).body.roleGroups.map((g: { id: string }) => g.id), [u.roleGroupId]);
  assert.equal((await permissionsOf(u.client)).users, 'none');
  refused(await u.client.json('/api/roles', { method: 'POST', body: { name: `r-${uniq()}`, roleGroupIds: ['rg-admin'] } }), /Users \(Full Permission\)/);
  const other = await roleGroup({ payments: 'read' });
  refused(await u.client.json(`/api/roles/${u.roleId}`, { method: 'PATCH', body: { roleGroupIds: [u.roleGroupId, other.id] } }), /: Payments \(Read Only\)$/);
});

test('a user with Full Permission on Roles removes role groups, and adds ones within their own levels to any role', async () => {
  const u = await actor({ roles: 'full', accounts: 'read' });
  const high = await roleGroup({ 'audit-log': 'full' });
  const low = await roleGroup({ accounts: 'read' });
  const r = await role([high.id, low.id]);
  // Removing lowers: allowed even though the role keeps a screen above the actor's level.
  const removed = await u.client.json(`/api/roles/${r.id}`, { method: 'PATCH', body: { roleGroupIds: [high.id] } });
  assert.equal(removed.status, 200, JSON.stringify(removed.body));
  // Adding what the actor holds raises nothing above them; Audit Log stays where the Admin put it.
  const added = await u.client.json(`/api/roles/${r.id}`, { method: 'PATCH', body: { roleGroupIds: [high.id, low.id] } });
  assert.equal(added.status, 200, JSON.stringify(added.body));
  const made = await u.client.json('/api/roles', { method: 'POST', body: { name: `r-${uniq()}`, roleGroupIds: [low.id] } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
});

// Role groups

test('a user with Full Permission on Role Groups cannot raise their own role group above their own levels', async () => {
  const u = await actor({ 'role-groups': 'full' });
  refused(await u.client.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { 'audit-log': 'full' } } }), /^You cannot give permissions you do not have yourself: Audit Log \(Full Permission\)$/);
  refused(await u.client.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { 'saml-settings': 'full', users: 'read', home: 'none' } } }), /: Users \(Read Only\), SAML Settings \(Full Permission\)$/);
  const levels = await levelsOfGroup(u.roleGroupId);
  assert.equal(levels['audit-log'], 'none');
  assert.equal(levels['saml-settings'], 'none');
  assert.equal(levels.users, 'none');
  refused(await u.client.json('/api/role-groups', { method: 'POST', body: { name: `g-${uniq()}`, levels: { users: 'full' } } }), /Users \(Full Permission\)/);
  assert.equal((await permissionsOf(u.client))['audit-log'], 'none');
});

test('a user with Full Permission on Role Groups edits a role group above them on their own screens only, and lowers anything', async () => {
  const u = await actor({ 'role-groups': 'full', accounts: 'read' });
  const rg = await roleGroup({ 'audit-log': 'full', accounts: 'read' });
  // The UI sends every screen: Audit Log unchanged at Full is kept.
  const same = await u.client.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { ...(await levelsOfGroup(rg.id)), 'role-groups': 'read' } } });
  assert.equal(same.status, 200, JSON.stringify(same.body));
  refused(await u.client.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { accounts: 'full' } } }), /: Accounts \(Full Permission\)$/);
  const lowered = await u.client.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { 'audit-log': 'read' } } });
  assert.equal(lowered.status, 200, JSON.stringify(lowered.body));
  refused(await u.client.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { 'audit-log': 'full' } } }), /Audit Log \(Full Permission\)/);
  const made = await u.client.json('/api/role-groups', { method: 'POST', body: { name: `g-${uniq()}`, levels: { accounts: 'read', 'role-groups': 'full' } } });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  // Lowering their own role group is allowed too (and then holds).
  const own = await u.client.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { 'role-groups': 'read' } } });
  assert.equal(own.status, 200, JSON.stringify(own.body));
  assert.equal((await permissionsOf(u.client))['role-groups'], 'read');
});

test('a user with Full Permission on Role Groups cannot make a role group above them the SCIM Default', async () => {
  const u = await actor({ 'role-groups': 'full' });
  refused(await u.client.json('/api/role-groups/rg-admin', { method: 'PATCH', body: { isScimDefault: true } }), /Audit Log \(Full Permission\)/);
  const rg = await roleGroup({ 'role-groups': 'read' });
  refused(await u.client.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { isScimDefault: true, levels: { invoices: 'full' } } }), /Invoices \(Full Permission\)/);
  const defaults = (await admin.json('/api/role-groups?limit=200')).body.items.filter((i: { isScimDefault: boolean }) => i.isScimDefault).map((i: { id: string }) => i.id);
  assert.deepEqual(defaults, ['rg-readonly']);
});

test('the levels of a SCIM role group are held to the same rule', async () => {
  const now = new Date().toISOString();
  const groupId = `g-${uniq()}`;
  await t.database.db.insertInto('pushed_groups').values({ id: groupId, display_name: `Finance ${groupId}`, display_name_norm: `finance ${groupId}`, external_id: null, scim_attributes: null, version: 1, created_at: now, updated_at: now }).execute();
  const { roleGroupId } = await createPushedGroupRoles(t.database.db, systemActor('test'), { id: groupId, displayName: `Finance ${groupId}` });
  const u = await actor({ 'role-groups': 'full', invoices: 'read' });
  refused(await u.client.json(`/api/role-groups/${roleGroupId}`, { method: 'PATCH', body: { levels: { invoices: 'full' } } }), /Invoices \(Full Permission\)/);
  // Copied from the SCIM Default (ReadOnly): Read Only everywhere, which the actor may lower.
  const lowered = await u.client.json(`/api/role-groups/${roleGroupId}`, { method: 'PATCH', body: { levels: { payments: 'none' } } });
  assert.equal(lowered.status, 200, JSON.stringify(lowered.body));
  assert.equal((await levelsOfGroup(roleGroupId)).invoices, 'read');
});

// The Admin

test('the Admin gives any role, role group and level, and manages another admin', async () => {
  const u = await actor({ users: 'read' });
  const raised = await admin.json(`/api/role-groups/${u.roleGroupId}`, { method: 'PATCH', body: { levels: { 'audit-log': 'full' } } });
  assert.equal(raised.status, 200, JSON.stringify(raised.body));
  const withAdmin = await admin.json(`/api/roles/${u.roleId}`, { method: 'PATCH', body: { roleGroupIds: [u.roleGroupId, 'rg-admin'] } });
  assert.equal(withAdmin.status, 200, JSON.stringify(withAdmin.body));
  const other = await localUser('role-read-only-core');
  const promoted = await admin.json(`/api/users/${other.id}`, { method: 'PATCH', body: { roleId: 'role-admin' } });
  assert.equal(promoted.status, 200, JSON.stringify(promoted.body));
  const reset = await admin.json(`/api/users/${other.id}/password`, { method: 'POST', body: {} });
  assert.equal(reset.status, 200, JSON.stringify(reset.body));
  assert.equal((await admin.json(`/api/users/${other.id}`, { method: 'PATCH', body: { status: 'suspended' } })).status, 200);
  assert.equal((await admin.json('/api/role-groups/rg-admin', { method: 'PATCH', body: { isScimDefault: true } })).status, 200);
  assert.equal((await admin.json('/api/role-groups/rg-readonly', { method: 'PATCH', body: { isScimDefault: true } })).status, 200);
});
