// What pushed groups do to people: a SCIM role and SCIM role group per group (levels copied from the
// SCIM Default role group at creation), effective permissions = most-permissive union of the
// person's pushed groups, SCIM Default when in none; and membership changes that cost only the
// members changed, with nothing lost under 16-way contention.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { CompiledQuery, sql } from 'kysely';
import { isPostgres } from '../../src/db/dialect.ts';
import { effectivePermissionsOf } from '../../src/identity/permissions.repo.ts';
import { provisioningLogDbOf } from '../../src/db/database.ts';
import { flushProvisioningLog } from '../../src/scim/provisioning-log.service.ts';
import { PATCH_OP, oktaUser, startScim, versionOf, type ScimHarness } from './scim-client.ts';

let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(() => h.t.close());

const perms = async (id: string) => (await effectivePermissionsOf(h.t.database.db, id))!.permissions;
const newUser = async (name: string) => {
  const r = await h.scim('POST', '/Users', oktaUser(name));
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id as string;
};
const newGroup = async (displayName: string, members: string[] = []) => {
  const r = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName, members: members.map((value) => ({ value })) });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  return r.body.id as string;
};
const patch = (gid: string, Operations: unknown[]) => h.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations });

test('a pushed group gets a SCIM role group whose levels are copied from the current SCIM Default', async () => {
  // Make a custom role group the SCIM Default: read on Home and Accounts only.
  const custom = await h.admin.json('/api/role-groups', { method: 'POST', body: { name: 'Starter', levels: { home: 'read', accounts: 'read' } } });
  assert.equal(custom.status, 201, JSON.stringify(custom.body));
  const mk = await h.admin.json(`/api/role-groups/${custom.body.id}`, { method: 'PATCH', body: { isScimDefault: true } });
  assert.equal(mk.status, 200, JSON.stringify(mk.body));
  const gid = await newGroup('Starters');
  const rg = await h.t.database.db.selectFrom('role_groups').selectAll().where('pushed_group_id', '=', gid).executeTakeFirstOrThrow();
  const levels = await h.t.database.db.selectFrom('role_group_levels').select(['screen', 'level']).where('role_group_id', '=', rg.id).execute();
  const map = Object.fromEntries(levels.map((l) => [l.screen, l.level]));
  assert.equal(map.home, 'read');
  assert.equal(map.accounts, 'read');
  assert.equal(map.invoices ?? 'none', 'none');
  // Back to the core ReadOnly default for the other tests.
  const back = await h.admin.json('/api/role-groups/rg-readonly', { method: 'PATCH', body: { isScimDefault: true } });
  assert.equal(back.status, 200, JSON.stringify(back.body));
});

test('a pushed group whose name clashes with an existing role group gets a distinct SCIM role group name', async () => {
  const rg = await h.admin.json('/api/role-groups', { method: 'POST', body: { name: 'Auditors', levels: { home: 'read' } } });
  assert.equal(rg.status, 201);
  const gid = await newGroup('Auditors');
  const scimRg = await h.t.database.db.selectFrom('role_groups').select('name').where('pushed_group_id', '=', gid).executeTakeFirstOrThrow();
  assert.equal(scimRg.name, 'Auditors (SCIM)');
});

test('group membership sets effective permissions; leaving the last group returns the person to SCIM Default', async () => {
  const u = await newUser('perm.person@acme.com');
  assert.equal((await perms(u)).invoices, 'read');
  const billing = await newGroup('Billing Team');
  const ops = await newGroup('Ops Team');
  const rgBilling = await h.t.database.db.selectFrom('role_groups').select('id').where('pushed_group_id', '=', billing).executeTakeFirstOrThrow();
  const rgOps = await h.t.database.db.selectFrom('role_groups').select('id').where('pushed_group_id', '=', ops).executeTakeFirstOrThrow();
  // The admin edits the SCIM role groups' permissions in the UI.
  const e1 = await h.admin.json(`/api/role-groups/${rgBilling.id}`, { method: 'PATCH', body: { levels: { invoices: 'full', payments: 'none' } } });
  assert.equal(e1.status, 200, JSON.stringify(e1.body));
  const e2 = await h.admin.json(`/api/role-groups/${rgOps.id}`, { method: 'PATCH', body: { levels: { invoices: 'none', payments: 'full' } } });
  assert.equal(e2.status, 200, JSON.stringify(e2.body));

  assert.equal((await patch(billing, [{ op: 'add', path: 'members', value: [{ value: u }] }])).status, 204);
  let p = await perms(u);
  assert.equal(p.invoices, 'full');
  assert.equal(p.payments, 'none');

  assert.equal((await patch(ops, [{ op: 'add', path: 'members', value: [{ value: u }] }])).status, 204);
  p = await perms(u);
  assert.equal(p.invoices, 'full', 'most permissive wins');
  assert.equal(p.payments, 'full');

  assert.equal((await patch(billing, [{ op: 'remove', path: `members[value eq "${u}"]` }])).status, 204);
  p = await perms(u);
  assert.equal(p.invoices, 'none');
  assert.equal(p.payments, 'full');

  assert.equal((await patch(ops, [{ op: 'Remove', path: 'members', value: [{ value: u }] }])).status, 204);
  p = await perms(u);
  assert.equal(p.invoices, 'read', 'back to SCIM Default (ReadOnly)');
  assert.equal(p.payments, 'read');

  // Deleting a group recomputes its members at once (the role group is gone).
  await patch(billing, [{ op: 'add', path: 'members', value: [{ value: u }] }]);
  assert.equal((await perms(u)).invoices, 'full');
  assert.equal((await h.scim('DELETE', `/Groups/${billing}`)).status, 204);
  assert.equal((await perms(u)).invoices, 'read');
});

test('16 concurrent PATCHes adding members to one group lose none, each commits its own version, and no session is left inside a transaction', async () => {
  const gid = await newGroup('Contended');
  const before = await h.scim('GET', `/Groups/${gid}`);
  const users = await Promise.all(Array.from({ length: 32 }, (_, i) => newUser(`contended.${i}@acme.com`)));
  const results = await Promise.all(
    Array.from({ length: 16 }, (_, i) =>
      patch(gid, [
        { op: 'replace', value: { id: gid, displayName: 'Contended' } },
        { op: 'add', path: 'members', value: [{ value: users[2 * i] }, { value: users[2 * i + 1] }] },
      ]),
    ),
  );
  assert.deepEqual(results.map((r) => r.status), Array(16).fill(204));
  const g = await h.scim('GET', `/Groups/${gid}`);
  assert.equal(g.body.members.length, 32);
  assert.deepEqual(g.body.members.map((m: any) => m.value).sort(), [...users].sort());
  // On PostgreSQL each of these PATCHes is one statement that bumps the version last (migration 012).
  const versions = results.map((r) => versionOf(r.headers.get('etag')));
  assert.equal(new Set(versions).size, 16, `every PATCH answers with a version of its own: ${versions}`);
  assert.equal(versionOf(g.body.meta.version), versionOf(before.body.meta.version) + 16);
  assert.equal(Math.max(...versions), versionOf(g.body.meta.version));
  if (isPostgres(h.t.database.db)) {
    // A session left inside a transaction stays there; the provisioning log's writer (a transaction
    // every 200 ms) and a token's last-used stamp are inside one for a moment. So: none in one of 10
    // looks 50 ms apart (a leaked session fails all 10).
    const inTransaction = async () =>
      (await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity where datname = current_database() and state like 'idle in transaction%'`.execute(h.t.database.db)).rows[0].n;
    const seen: number[] = [];
    for (let i = 0; i < 10 && (seen.length === 0 || seen[seen.length - 1] > 0); i++) {
      if (i) await new Promise((r) => setTimeout(r, 50));
      seen.push(await inTransaction());
    }
    assert.equal(seen[seen.length - 1], 0, `a pooled session was left inside a transaction (sessions seen: ${seen})`);
  }
});

test('a rename and an externalId change racing membership PATCHes of the same group are all kept, and every change moves the version', async () => {
  const gid = await newGroup('Racing');
  const before = await h.scim('GET', `/Groups/${gid}`);
  const users = await Promise.all(Array.from({ length: 12 }, (_, i) => newUser(`racing.${i}@acme.com`)));
  const memberPatches = users.map((u) => patch(gid, [{ op: 'add', path: 'members', value: [{ value: u }] }]));
  const rename = patch(gid, [{ op: 'replace', path: 'displayName', value: 'Racing Renamed' }]);
  const external = patch(gid, [{ op: 'replace', path: 'externalId', value: 'okta-00g-racing' }]);
  const results = await Promise.all([...memberPatches, rename, external]);
  assert.deepEqual(results.map((r) => r.status), Array(14).fill(204));
  const g = await h.scim('GET', `/Groups/${gid}`);
  assert.equal(g.body.displayName, 'Racing Renamed');
  assert.equal(g.body.externalId, 'okta-00g-racing');
  assert.deepEqual(g.body.members.map((m: any) => m.value).sort(), [...users].sort());
  assert.equal(versionOf(g.body.meta.version), versionOf(before.body.meta.version) + 14);
});

test('a group lists its members in the order they were added; adding a member again keeps their place', async () => {
  const [a, b, c, d] = await Promise.all(['d', 'c', 'b', 'a'].map((n) => newUser(`order.${n}@acme.com`)));
  const gid = await newGroup('Ordered', [c, a]);
  assert.equal((await patch(gid, [{ op: 'add', path: 'members', value: [{ value: d }, { value: a }, { value: b }] }])).status, 204);
  const g = await h.scim('GET', `/Groups/${gid}`);
  assert.deepEqual(g.body.members.map((m: any) => m.value), [c, a, d, b]);
  // A PUT with the full list applies only the difference: kept members keep their place.
  assert.equal((await h.scim('PUT', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Ordered', members: [b, c, d].map((value) => ({ value })) })).status, 200);
  const after = await h.scim('GET', `/Groups/${gid}`);
  assert.deepEqual(after.body.members.map((m: any) => m.value), [c, d, b]);
});

test('two simultaneous POSTs of one userName give exactly one 201', async () => {
  const [a, b] = await Promise.all([h.scim('POST', '/Users', oktaUser('race@acme.com')), h.scim('POST', '/Users', oktaUser('RACE@acme.com'))]);
  assert.deepEqual([a.status, b.status].sort(), [201, 409]);
  const loser = a.status === 409 ? a : b;
  assert.equal(loser.body.scimType, 'uniqueness');
  const n = await h.t.database.db.selectFrom('users').select('id').where('user_name_norm', '=', 'race@acme.com').execute();
  assert.equal(n.length, 1);
  // The refused create left nothing of its own behind: one user's e-mail row, one audit entry.
  const emails = await h.t.database.db.selectFrom('scim_user_emails').select('user_id').where('value_norm', '=', 'race@acme.com').execute();
  assert.deepEqual(emails.map((e) => e.user_id), [n[0].id]);
  const audit = await h.t.database.db.selectFrom('audit_log').select('target_id').where('action', '=', 'user.create').where('target_name', 'in', ['race@acme.com', 'RACE@acme.com']).execute();
  assert.deepEqual(audit.map((a) => a.target_id), [n[0].id]);
});

test("Okta's group PUT with the full member list: members kept in order, newcomers last, unknown and repeated ids counted once, the log in words", async () => {
  const [u1, u2, u3] = await Promise.all(['put.1@acme.com', 'put.2@acme.com', 'put.3@acme.com'].map(newUser));
  const gid = await newGroup('Put Members', [u1, u2]);
  const ghost = '0190d3c4-0000-7000-8000-00000000dead';
  const r = await h.scim('PUT', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Put Members', members: [u3, ghost, u2, u3].map((value) => ({ value })) });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(r.body.members.map((m: any) => m.value), [u2, u3]);
  assert.deepEqual(r.body.members.map((m: any) => m.display), ['Test User', 'Test User']);
  await flushProvisioningLog(h.t.database.db);
  const log = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select('summary').where('resource_id', '=', gid).where('method', '=', 'PUT').execute();
  assert.deepEqual(log.map((l) => l.summary), ['added 1 member to Put Members; removed 1 member from Put Members; ignored 1 unknown member']);
  // The same list again changes nothing.
  const again = await h.scim('PUT', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Put Members', members: [u2, u3].map((value) => ({ value })) });
  assert.deepEqual(again.body.members.map((m: any) => m.value), [u2, u3]);
});

test('a local user (the first admin) cannot be made a member of a pushed group: SCIM does not show them, so their id is an unknown member whichever way it comes', async () => {
  const local = await h.t.database.db.selectFrom('users').select('id').where('source', '=', 'local').executeTakeFirstOrThrow();
  assert.equal((await h.scim('GET', `/Users/${local.id}`)).status, 404);
  const u = await newUser('local.peer@acme.com');
  const created = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'No Locals', members: [{ value: local.id }, { value: u }] });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const gid = created.body.id as string;
  assert.equal((await patch(gid, [{ op: 'add', path: 'members', value: [{ value: local.id }] }])).status, 204);
  const put = await h.scim('PUT', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'No Locals', members: [{ value: u }, { value: local.id }] });
  assert.equal(put.status, 200, JSON.stringify(put.body));
  assert.deepEqual(put.body.members.map((m: any) => m.value), [u]);
  const rows = await h.t.database.db.selectFrom('pushed_group_members').select('user_id').where('group_id', '=', gid).execute();
  assert.deepEqual(rows.map((r) => r.user_id), [u]);
  await flushProvisioningLog(h.t.database.db);
  const log = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select('summary').where('resource_id', '=', gid).orderBy('id').execute();
  assert.deepEqual(log.map((l) => l.summary), [
    'created group No Locals with 1 member (ignored 1 unknown member)',
    'ignored 1 unknown member',
    'ignored 1 unknown member',
  ]);
});

test("Entra's membership PATCHes: each says in words what it changed, in the provisioning log and the audit log, and moves the version by one", async () => {
  const [u1, u2, u3] = await Promise.all(['words.1@acme.com', 'words.2@acme.com', 'words.3@acme.com'].map(newUser));
  const gid = await newGroup("Words 'n Co", [u1]);
  const ghost = '0190d3c4-0000-7000-8000-00000000beef';
  const steps: [unknown[], string][] = [
    [[{ op: 'Add', path: 'members', value: [{ value: u2 }, { value: u3 }, { value: ghost }] }], "added 2 members to Words 'n Co; ignored 1 unknown member"],
    [[{ op: 'Remove', path: 'members', value: [{ value: u1 }] }, { op: 'Add', path: 'members', value: [{ value: u1 }] }], "membership of Words 'n Co unchanged"],
    [[{ op: 'Remove', path: `members[value eq "${u2}"]` }, { op: 'Add', path: 'members', value: [{ value: ghost }, { value: u2 }] }], 'ignored 1 unknown member'],
    [[{ op: 'Remove', path: 'members', value: [{ value: u1 }, { value: u2 }] }, { op: 'Add', path: 'members', value: [{ value: u2 }] }], "removed 1 member from Words 'n Co"],
    [[{ op: 'Add', path: 'members', value: [{ value: u1 }] }, { op: 'Remove', path: 'members', value: [{ value: u3 }] }], "added 1 member to Words 'n Co; removed 1 member from Words 'n Co"],
  ];
  let version = versionOf((await h.scim('GET', `/Groups/${gid}`)).body.meta.version);
  for (const [ops, words] of steps) {
    const r = await patch(gid, ops);
    assert.equal(r.status, 204, JSON.stringify(r.body));
    assert.equal(r.headers.get('etag'), `W/"${++version}"`, words);
  }
  const g = await h.scim('GET', `/Groups/${gid}`);
  assert.deepEqual(g.body.members.map((m: any) => m.value), [u2, u1]);
  assert.equal(g.body.meta.version, `W/"${version}"`);
  await flushProvisioningLog(h.t.database.db);
  const log = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select('summary').where('resource_id', '=', gid).where('method', '=', 'PATCH').orderBy('id').execute();
  assert.deepEqual(log.map((l) => l.summary), steps.map(([, words]) => words));
  const audit = await h.t.database.db.selectFrom('audit_log').select(['summary', 'target_name', 'source']).where('target_id', '=', gid).where('action', '=', 'group.update').orderBy('id').execute();
  assert.deepEqual(audit.map((a) => a.summary), steps.map(([, words]) => words));
  assert.ok(audit.every((a) => a.target_name === "Words 'n Co" && a.source === 'scim'), JSON.stringify(audit));
});

test('two simultaneous PUTs renaming two people to one userName give one 200 and one 409, and the refused one changes nothing', async () => {
  const [p, q] = await Promise.all([h.scim('POST', '/Users', oktaUser('rename.p@acme.com')), h.scim('POST', '/Users', oktaUser('rename.q@acme.com'))]);
  const [a, b] = await Promise.all([
    h.scim('PUT', `/Users/${p.body.id}`, { ...p.body, userName: 'rename.same@acme.com' }),
    h.scim('PUT', `/Users/${q.body.id}`, { ...q.body, userName: 'Rename.Same@acme.com' }),
  ]);
  assert.deepEqual([a.status, b.status].sort(), [200, 409]);
  const loser = a.status === 409 ? p : q;
  assert.equal((a.status === 409 ? a : b).body.scimType, 'uniqueness');
  const after = await h.scim('GET', `/Users/${loser.body.id}`);
  assert.equal(after.body.userName, loser.body.userName);
  assert.equal(after.body.meta.version, loser.body.meta.version);
  const audit = await h.t.database.db.selectFrom('audit_log').select('action').where('target_id', '=', loser.body.id).execute();
  assert.deepEqual(audit.map((r) => r.action), ['user.create']);
});

test('adding members to a large group keeps every existing member and the log says what changed (cost: see bench:scim)', async () => {
  const gid = await newGroup('Big');
  // 3,000 members inserted directly (fast set-up), then PATCH +10 through the protocol.
  const now = new Date().toISOString();
  const ids = Array.from({ length: 3000 }, (_, i) => `bulk-${i}`);
  for (let i = 0; i < ids.length; i += 500) {
    await h.t.database.db
      .insertInto('users')
      .values(ids.slice(i, i + 500).map((id) => ({ id, user_name: `${id}@x`, user_name_norm: `${id}@x`, display_name: null, given_name: null, family_name: null, email: null, email_norm: null, external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: now, updated_at: now })))
      .execute();
    await h.t.database.db.insertInto('pushed_group_members').values(ids.slice(i, i + 500).map((user_id) => ({ group_id: gid, user_id }))).execute();
  }
  const extra = await Promise.all(Array.from({ length: 10 }, (_, i) => newUser(`extra.${i}@acme.com`)));
  const r = await patch(gid, [{ op: 'add', path: 'members', value: extra.map((value) => ({ value })) }]);
  assert.equal(r.status, 204);
  const n = await h.t.database.db.selectFrom('pushed_group_members').select((eb) => eb.fn.countAll<number>().as('n')).where('group_id', '=', gid).executeTakeFirstOrThrow();
  assert.equal(Number(n.n), 3010);
  const log = await h.admin.json('/api/provisioning-log?resource=Group&q=Big');
  assert.ok(log.body.items.some((i: any) => i.summary === 'added 10 members to Big'), JSON.stringify(log.body.items.map((i: any) => i.summary)));
});

test("a membership change looks its new members up by id, not by reading every provisioned user (the plan of the look-up)", async () => {
  const { KNOWN_USERS_SQLITE, ADD_KNOWN_MEMBERS_PG } = await import('../../src/identity/pushed-groups.service.ts');
  const db = h.t.database.db;
  const ids = ['no-such-user-1', 'no-such-user-2'];
  let plan: string;
  if (isPostgres(db)) {
    // PostgreSQL would rightly scan a few rows; forbid that to see which index the statement uses.
    plan = await db.transaction().execute(async (trx) => {
      await sql`set local enable_seqscan = off`.execute(trx);
      const gid = (await trx.selectFrom('pushed_groups').select('id').executeTakeFirstOrThrow()).id;
      return JSON.stringify((await trx.executeQuery(CompiledQuery.raw(`explain ${ADD_KNOWN_MEMBERS_PG}`, [gid, ids]))).rows);
    });
    assert.match(plan, /users_pkey/, plan);
  } else {
    plan = JSON.stringify((await db.executeQuery(CompiledQuery.raw(`explain query plan ${KNOWN_USERS_SQLITE}`, [JSON.stringify(ids)]))).rows);
    assert.match(plan, /SEARCH users USING (COVERING )?INDEX sqlite_autoindex_users_1 \(id=\?\)/, plan);
  }
  assert.doesNotMatch(plan, /users_source_created_id/, plan);
});

test("an admin's edit of a SCIM role group's permissions racing Okta's renames of the group keeps the group's name (the edit of the levels alone writes no name)", async () => {
  const gid = await newGroup('Race Finance');
  const rg = await h.t.database.db.selectFrom('role_groups').select('id').where('pushed_group_id', '=', gid).executeTakeFirstOrThrow();
  for (let i = 0; i < 20; i++) {
    const [edit, rename] = await Promise.all([
      h.admin.json(`/api/role-groups/${rg.id}`, { method: 'PATCH', body: { levels: { accounts: i % 2 ? 'read' : 'full' } } }),
      h.scim('PUT', `/Groups/${gid}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: gid, displayName: `Race Finance ${i}`, members: [] }),
    ]);
    assert.equal(edit.status, 200, JSON.stringify(edit.body));
    assert.equal(rename.status, 200, JSON.stringify(rename.body));
    const now = await h.t.database.db.selectFrom('role_groups').select(['name']).where('id', '=', rg.id).executeTakeFirstOrThrow();
    assert.equal(now.name, `Race Finance ${i}`, `round ${i}: the role group is named as the group is`);
  }
  const levels = await h.admin.json(`/api/role-groups/${rg.id}`);
  assert.equal(levels.body.levels.accounts, 'read', 'the last edit of the levels is kept');
});
