// New SCIM users and groups get time-ordered ids (UUID version 7, src/platform/ids.ts), whose first
// characters are the same for months. The provisioned-user counter rows were sharded by the id's
// first character (002_scim), so every new user would now bump one row: on PostgreSQL, concurrent
// creates would queue on that row's lock. Shard by the last character instead (random in every UUID
// version) and recount. A create now bumps its counter with one upsert instead of insert-then-update.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

const KEY_NEW = `'idp_users:' || substr(new.id, length(new.id), 1)`;
const KEY_OLD = `'idp_users:' || substr(old.id, length(old.id), 1)`;

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql.raw(`
      create or replace function scim_count_idp_users() returns trigger language plpgsql as $$
      begin
        if tg_op in ('INSERT', 'UPDATE') and new.source = 'idp' and (tg_op = 'INSERT' or old.source is distinct from 'idp') then
          insert into scim_counters (key, n) values (${KEY_NEW}, 1) on conflict (key) do update set n = scim_counters.n + 1;
        end if;
        if tg_op in ('DELETE', 'UPDATE') and old.source = 'idp' and (tg_op = 'DELETE' or new.source is distinct from 'idp') then
          update scim_counters set n = n - 1 where key = ${KEY_OLD};
        end if;
        return null;
      end $$`).execute(db);
    // The new function is in place; take the table lock so no insert runs between the recount and
    // the commit with the old keys.
    await sql`lock table users in share row exclusive mode`.execute(db);
  } else {
    await sql`drop trigger scim_count_idp_users_ins`.execute(db);
    await sql`drop trigger scim_count_idp_users_del`.execute(db);
    await sql`drop trigger scim_count_idp_users_upd`.execute(db);
    await sql.raw(`create trigger scim_count_idp_users_ins after insert on users when new.source = 'idp' begin
      insert into scim_counters (key, n) values (${KEY_NEW}, 1) on conflict (key) do update set n = n + 1;
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_del after delete on users when old.source = 'idp' begin
      update scim_counters set n = n - 1 where key = ${KEY_OLD};
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_upd after update of source on users when old.source is not new.source begin
      insert into scim_counters (key, n) values (${KEY_NEW}, 0) on conflict (key) do nothing;
      update scim_counters set n = n + 1 where key = ${KEY_NEW} and new.source = 'idp';
      update scim_counters set n = n - 1 where key = ${KEY_OLD} and old.source = 'idp';
    end`).execute(db);
  }
  await sql`delete from scim_counters where key like 'idp_users:%'`.execute(db);
  await sql`insert into scim_counters (key, n) select 'idp_users:' || substr(id, length(id), 1), count(*) from users where source = 'idp' group by substr(id, length(id), 1)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migration 006 cannot be reverted');
}
