// A membership change racing with the deletion of a user or of the group itself, by another
// connection (another server process, the CLI): no membership is ever left pointing at a user or group
// that is gone, and the request says what happened.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { provisioningLogDbOf } from '../../src/db/database.ts';
import { flushProvisioningLog } from '../../src/scim/provisioning-log.service.ts';
import { PATCH_OP, startScim, type ScimHarness } from './scim-client.ts';
import { otherConnectionInTransaction, type OtherConnection } from '../helpers/other-connection.ts';
import { usePostgres } from '../helpers/app.ts';

let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(() => h.t.close());

/** Another connection that runs `statement` in a transaction it commits only when told. */
async function uncommitted(statement: string, param: string): Promise<OtherConnection> {
  const other = await otherConnectionInTransaction(h.t.databaseUrl);
  await other.run(statement, param);
  return other;
}

async function seed(n: number): Promise<{ group: string; users: string[] }> {
  const now = new Date().toISOString();
  const users = Array.from({ length: n }, () => randomUUID());
  // In parts: one statement may carry 32,766 values on SQLite and 65,535 on PostgreSQL.
  for (let i = 0; i < n; i += 1000) await h.t.database.db
    .insertInto('users')
    .values(users.slice(i, i + 1000).map((id) => ({ id, user_name: `${id}@race.example`, user_name_norm: `${id}@race.example`, display_name: null, given_name: null, family_name: null, email: null, email_norm: null, external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: now, updated_at: now })))
    .execute();
  const g = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Race ${randomUUID().slice(0, 8)}` });
  assert.equal(g.status, 201);
  return { group: g.body.id, users };
}

const addMembers = (group: string, users: string[]) =>
  h.scim('PATCH', `/Groups/${group}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: users.map((value) => ({ value })) }] });

const membershipsOf = async (column: 'group_id' | 'user_id', id: string) =>
  (await h.t.database.db.selectFrom('pushed_group_members').select('user_id').where(column, '=', id).execute()).map((r) => r.user_id);

test('a user deleted by another connection while a PATCH adds them is not added (the others are), and nothing points at them', async () => {
  const { group, users } = await seed(5);
  const other = await uncommitted('delete from users where id = $1', users[2]);
  const patch = addMembers(group, users);
  await new Promise((r) => setTimeout(r, 300));
  await other.commit();
  const res = await patch;
  assert.equal(res.status, 204, JSON.stringify(res.body));
  assert.deepEqual((await membershipsOf('group_id', group)).sort(), [users[0], users[1], users[3], users[4]].sort());
  assert.deepEqual(await membershipsOf('user_id', users[2]), []);
  await flushProvisioningLog(h.t.database.db);
  const log = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select('summary').where('resource_id', '=', group).where('method', '=', 'PATCH').execute();
  assert.ok(log.some((l) => /added 4 members.*ignored 1 unknown member/.test(l.summary ?? '')), JSON.stringify(log));
});

test('a group deleted by another connection while a PATCH adds members to it: the PATCH is a 404 and leaves no memberships behind', async () => {
  const { group, users } = await seed(3);
  const other = await uncommitted('delete from pushed_groups where id = $1', group);
  const patch = addMembers(group, users);
  await new Promise((r) => setTimeout(r, 300));
  await other.commit();
  const res = await patch;
  assert.equal(res.status, 404, JSON.stringify(res.body));
  assert.equal(res.body.schemas[0], 'urn:ietf:params:scim:api:messages:2.0:Error');
  assert.deepEqual(await membershipsOf('group_id', group), []);
  for (const u of users) assert.deepEqual(await membershipsOf('user_id', u), []);
});

/**
 * PostgreSQL: how many deadlocks it has counted in this database. A backend reports its counts within
 * a second or so of going idle, so this waits for them first. SQLite: 0 (one writer at a time).
 */
async function deadlocks(): Promise<number> {
  if (!usePostgres()) return 0;
  await new Promise((r) => setTimeout(r, 2000));
  const r = await sql<{ n: string }>`select deadlocks as n from pg_stat_database where datname = current_database()`.execute(h.t.database.db);
  return Number(r.rows[0].n);
}

test("a user deleted through SCIM while another connection writes one of their groups (the group's row, then its memberships, as a group's PUT, PATCH or DELETE does) waits for it: no deadlock", async () => {
  const { group, users } = await seed(2);
  assert.equal((await addMembers(group, users)).status, 204);
  const version = async () => Number((await h.t.database.db.selectFrom('pushed_groups').select('version').where('id', '=', group).executeTakeFirstOrThrow()).version);
  const before = await version();
  const deadlocksBefore = await deadlocks();
  const other = await uncommitted('update pushed_groups set version = version + 1 where id = $1', group);
  const del = h.scim('DELETE', `/Users/${users[0]}`);
  await new Promise((r) => setTimeout(r, 300));
  // Until session 34 the DELETE locked the user's memberships and then waited for the group's row,
  // which this holds: asking for the membership now closed the circle, and PostgreSQL aborted the
  // DELETE after a second (it was run again, so the client saw only the wait).
  await other.run('delete from pushed_group_members where user_id = $1', users[0]);
  await other.commit();
  const res = await del;
  assert.equal(res.status, 204, JSON.stringify(res.body));
  assert.deepEqual(await membershipsOf('group_id', group), [users[1]]);
  // The other connection moved the version for the membership it removed; the DELETE found none left.
  assert.equal(await version(), before + 1);
  assert.equal(await deadlocks(), deadlocksBefore, 'PostgreSQL counted no deadlock');
});

test('DELETEs of groups and of their members, PUTs and member PATCHes of those groups, all at once: every answer is a 2xx or a 404, never a 500, and nothing is left pointing at what was deleted', async () => {
  const deadlocksBefore = await deadlocks();
  const statuses: number[] = [];
  for (let round = 0; round < 6; round++) {
    const { group, users } = await seed(4);
    assert.equal((await addMembers(group, users)).status, 204);
    const second = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Race ${randomUUID().slice(0, 8)}`, members: users.map((value) => ({ value })) });
    assert.equal(second.status, 201);
    const groups = [group, second.body.id as string];
    const answers = await Promise.all([
      ...groups.map((g) => h.scim('DELETE', `/Groups/${g}`)),
      ...users.map((u) => h.scim('DELETE', `/Users/${u}`)),
      ...groups.map((g) => h.scim('PUT', `/Groups/${g}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Race ${randomUUID().slice(0, 8)}`, members: users.slice(0, 2).map((value) => ({ value })) })),
      ...groups.map((g) => h.scim('PATCH', `/Groups/${g}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members', value: [{ value: users[3] }] }] })),
    ]);
    for (const a of answers) assert.ok([200, 204, 404].includes(a.status), `round ${round}: ${a.status} ${JSON.stringify(a.body)}`);
    statuses.push(...answers.map((a) => a.status));
    for (const g of groups) assert.deepEqual(await membershipsOf('group_id', g), []);
    for (const u of users) assert.deepEqual(await membershipsOf('user_id', u), []);
  }
  assert.ok(statuses.filter((s) => s === 204).length >= 6 * 6, 'the DELETEs of the groups and users succeeded');
  assert.equal(await deadlocks(), deadlocksBefore, 'PostgreSQL counted no deadlock');
});

// PostgreSQL only: SQLite has one writer at a time, so two of its transactions never wait for each other.
if (usePostgres()) {
  test('a group PUT that PostgreSQL aborts in a deadlock with another connection is run again: the client gets its 200 and the member, not a 500', async () => {
    const { group, users } = await seed(2);
    assert.equal((await addMembers(group, [users[0]])).status, 204);
    // The other connection holds the user the PUT adds; the PUT locks the group, then waits for that
    // user; the other then asks for the group. PostgreSQL aborts the PUT's transaction (it waited
    // first, so it looks for the deadlock first, after deadlock_timeout).
    const other = await otherConnectionInTransaction(h.t.databaseUrl);
    await other.run('select id from users where id = $1 for update', users[1]);
    const put = h.scim('PUT', `/Groups/${group}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Deadlocked', members: users.map((value) => ({ value })) });
    await new Promise((r) => setTimeout(r, 300));
    await other.run('update pushed_groups set version = version where id = $1', group);
    await other.commit();
    const res = await put;
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.members.map((m: { value: string }) => m.value), users);
    assert.deepEqual((await membershipsOf('group_id', group)).sort(), [...users].sort());
  });
}

test("Okta's PUT of a large group's whole member list, with member PATCHes arriving while it runs: the group ends as the last of them to commit left it", async () => {
  // 25,000 users: the PUT's difference is worked out over several turns of the event loop on SQLite
  // (src/identity/pushed-groups.service.ts, planReplacement), and PATCHes commit in between.
  const { group, users } = await seed(25_000);
  const listed = users.slice(0, 20_000);
  const listedSet = new Set(listed);
  const put = (extra: string) => h.scim('PUT', `/Groups/${group}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Race Everyone', members: [...listed, extra].map((value) => ({ value })) });
  assert.equal((await put(users[20_000])).status, 200);
  const auditOf = async () =>
    (await h.t.database.db.selectFrom('audit_log').select(['id', 'request_id']).where('target_id', '=', group).where('action', '=', 'group.update').execute());
  for (let round = 0; round < 5; round++) {
    const extra = users[20_001 + round];
    const patched = users.slice(21_000 + round * 10, 21_000 + round * 10 + 6);
    const seen = new Set((await auditOf()).map((a) => a.id));
    const putDone = put(extra);
    // Six PATCHes, one member each, sent while the PUT is under way.
    const patches: ReturnType<typeof addMembers>[] = [];
    for (const [i, user] of patched.entries()) {
      await new Promise((r) => setTimeout(r, i * 3));
      patches.push(addMembers(group, [user]));
    }
    const [putAnswer, ...patchAnswers] = await Promise.all([putDone, ...patches]);
    assert.deepEqual([putAnswer, ...patchAnswers].map((a) => a.status), [200, 204, 204, 204, 204, 204, 204], `round ${round}`);
    const members = new Set(await membershipsOf('group_id', group));
    for (const id of [...listed, extra]) assert.ok(members.has(id), `round ${round}: every member the PUT listed`);
    const others = [...members].filter((id) => id !== extra && !listedSet.has(id));
    assert.ok(others.every((id) => patched.includes(id)), `round ${round}: nobody else (${others.length})`);
    if (!usePostgres()) {
      // SQLite writes one transaction at a time, so the audit entries' order is the order of commits:
      // exactly the PATCHes that committed after the PUT have their member in the group.
      const order = (await auditOf()).filter((a) => !seen.has(a.id)).sort((a, b) => a.id - b.id).map((a) => a.request_id);
      assert.equal(order.length, 7, `round ${round}: one audit entry each`);
      const putAt = order.indexOf(putAnswer.headers.get('x-request-id'));
      assert.ok(putAt >= 0, `round ${round}: the PUT's audit entry`);
      const after = patched.filter((_, i) => order.indexOf(patchAnswers[i].headers.get('x-request-id')) > putAt);
      assert.deepEqual(others.sort(), after.sort(), `round ${round}: the PATCHes after the PUT (at ${putAt} of 7)`);
    }
  }
});
