// PostgreSQL checked both foreign keys of every membership row with a trigger call of its own: for
// +100 members, 200 calls, each taking a share lock on the referenced row, 1.4–2.1 ms of a 3–4 ms
// insert (EXPLAIN ANALYZE; with 16 PATCHes of one group at once, 16 transactions share-locking the
// same group row 100 times each). The one statement that adds members (addKnownMembers in
// src/identity/pushed-groups.service.ts) now does the same work once per statement: it share-locks
// the users it adds while it reads them, and a group deleted meanwhile is caught by the version
// update every membership change ends with, which waits for the delete and then finds no row. The
// cascades the foreign keys gave (a deleted user or group takes its memberships with it) are
// triggers. SQLite checks foreign keys inside the process, in microseconds: unchanged there.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`alter table pushed_group_members drop constraint pushed_group_members_group_id_fkey, drop constraint pushed_group_members_user_id_fkey`.execute(db);
  // The cascades: a deleted user, or group, takes its memberships with it.
  for (const [parent, column, name] of [['users', 'user_id', 'user'], ['pushed_groups', 'group_id', 'group']] as const) {
    await sql.raw(`
      create function pushed_group_members_of_${name}_deleted() returns trigger language plpgsql as $$
      begin
        delete from pushed_group_members where ${column} = old.id;
        return null;
      end $$`).execute(db);
    await sql.raw(`create trigger pushed_group_members_of_${name} after delete on ${parent} for each row execute function pushed_group_members_of_${name}_deleted()`).execute(db);
  }
  // Rows the foreign keys would have refused cannot exist yet; a check for the record.
  const orphans = await sql<{ n: string }>`select count(*) as n from pushed_group_members m
    where not exists (select 1 from users u where u.id = m.user_id) or not exists (select 1 from pushed_groups g where g.id = m.group_id)`.execute(db);
  if (Number(orphans.rows[0].n) !== 0) throw new Error('migration 011: memberships without their user or group');
}

export async function down(): Promise<void> {
  throw new Error('migration 011 cannot be reverted');
}
