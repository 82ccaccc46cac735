// Migration 007 gives every group membership a sequence id (members are read, and new ones land, in
// the order they were added) and makes (user_id, group_id) the unique key. Memberships made before it
// are all kept, in the order they were listed in before (by user id); afterwards duplicates are
// still refused and deleting a user or a group still removes their memberships.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { migrate } from '../../src/db/database.ts';
import { addKnownMembers } from '../../src/identity/pushed-groups.service.ts';
import { atMigration } from '../helpers/migrations.ts';

test('memberships made before migration 007 are kept in order; after it new members come last, duplicates are refused and deletes cascade', async () => {
  await atMigration('006_uuidv7_counters', async (database) => {
    const { db } = database;
    const now = new Date().toISOString();
    const user = (id: string) => ({
      id, user_name: `${id}@acme.example`, user_name_norm: `${id}@acme.example`, display_name: null, given_name: null, family_name: null, email: null, email_norm: null,
      external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: now, updated_at: now,
    });
    const group = (id: string, name: string) => ({ id, display_name: name, display_name_norm: name.toLowerCase(), external_id: null, scim_attributes: '{}', version: 1, created_at: now, updated_at: now });
    const users = Array.from({ length: 30 }, () => randomUUID());
    const [g1, g2] = [randomUUID(), randomUUID()];
    await db.insertInto('users').values(users.map(user)).execute();
    await db.insertInto('pushed_groups').values([group(g1, 'Finance'), group(g2, 'Sales')]).execute();
    await db.insertInto('pushed_group_members').values(users.slice(0, 20).map((user_id) => ({ group_id: g1, user_id }))).execute();
    await db.insertInto('pushed_group_members').values(users.slice(10, 25).map((user_id) => ({ group_id: g2, user_id }))).execute();

    await migrate(database);
    const membersOf = async (gid: string) => (await db.selectFrom('pushed_group_members').select('user_id').where('group_id', '=', gid).orderBy('id').execute()).map((r) => r.user_id);
    assert.deepEqual(await membersOf(g1), users.slice(0, 20).sort());
    assert.deepEqual(await membersOf(g2), users.slice(10, 25).sort());

    // New members come after the existing ones, in the order given; a member added again is not doubled.
    const newcomers = [users[27], users[25], users[26]];
    assert.deepEqual(await addKnownMembers(db, g1, [...newcomers, users[3], randomUUID()]), { known: 4, added: 3 });
    assert.deepEqual(await membersOf(g1), [...users.slice(0, 20).sort(), ...newcomers]);
    await assert.rejects(db.insertInto('pushed_group_members').values({ group_id: g1, user_id: users[3] }).execute(), /unique|duplicate/i);

    // Cascades still hold.
    await db.deleteFrom('users').where('id', '=', users[12]).execute();
    assert.ok(!(await membersOf(g1)).includes(users[12]));
    assert.ok(!(await membersOf(g2)).includes(users[12]));
    await db.deleteFrom('pushed_groups').where('id', '=', g2).execute();
    assert.deepEqual(await membersOf(g2), []);
    assert.equal((await membersOf(g1)).length, 22);
  });
});
