// Group memberships stored in the order they were added, so adding members to a large group costs
// the same as adding them to an empty one. Before this migration rows were keyed (group_id, user_id):
// 100 new members of a 100,000-member group landed on ~100 different pages of that key, and every one
// of those pages was written to the WAL at commit (measured: 302-308 pages per +100 members at 100k
// against 193 at 0). Now each row has a sequence id; the group's index is (group_id, id), where new
// members land together at the end of the group's range, and (user_id, group_id), which
// the "groups of this user" look-ups already used, becomes the unique key that refuses duplicates.
// Existing memberships are numbered in (group, user id) order.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`drop index pushed_group_members_user`.execute(db);
    await sql`alter table pushed_group_members drop constraint pushed_group_members_pk`.execute(db);
    await sql`alter table pushed_group_members add column id bigint`.execute(db);
    await sql`update pushed_group_members m set id = o.n
      from (select group_id, user_id, row_number() over (order by group_id, user_id) as n from pushed_group_members) o
      where o.group_id = m.group_id and o.user_id = m.user_id`.execute(db);
    await sql`create sequence pushed_group_members_id_seq owned by pushed_group_members.id`.execute(db);
    await sql`select setval('pushed_group_members_id_seq', coalesce((select max(id) from pushed_group_members), 0) + 1, false)`.execute(db);
    await sql`alter table pushed_group_members alter column id set default nextval('pushed_group_members_id_seq'), alter column id set not null, add primary key (id)`.execute(db);
  } else {
    // SQLite cannot add a primary key to a table: rebuild it. `id integer primary key` is the rowid,
    // so rows are stored in the order they were added.
    await sql`create table pushed_group_members_v7 (
      id integer primary key,
      group_id text not null references pushed_groups (id) on delete cascade,
      user_id text not null references users (id) on delete cascade
    )`.execute(db);
    await sql`insert into pushed_group_members_v7 (group_id, user_id) select group_id, user_id from pushed_group_members order by group_id, user_id`.execute(db);
    await sql`drop table pushed_group_members`.execute(db);
    await sql`alter table pushed_group_members_v7 rename to pushed_group_members`.execute(db);
  }
  await sql`create unique index pushed_group_members_user on pushed_group_members (user_id, group_id)`.execute(db);
  await sql`create index pushed_group_members_group on pushed_group_members (group_id, id)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migration 007 cannot be reverted');
}
