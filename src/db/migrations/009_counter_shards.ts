// The provisioned-user count lives in counter rows that triggers bump on every create and delete
// (002, re-keyed in 006). With 16 rows, keyed by the id's last hex character, concurrent creates on
// PostgreSQL often bump the same row, and the second waits for the first to commit. Keyed by the
// last two characters there are 256 rows. Measured over HTTP with 16 clients and 2 server processes,
// sampling pg_stat_activity during 8,000 creates: 1.06 → 0.02 backends waiting on a row lock on
// average. The create rate barely moved (3 alternating runs of 6,000: 356–402 → 413–429/s; the full
// benchmark 509 → 496/s, within its noise): the Node process, not the lock, limits it. totalResults
// is their sum, as before.
//
// The same keys on SQLite (one writer at a time, so no waiting there to remove) keep both databases
// alike. A key only has to be the same when a user is created and when it is deleted; the sum is
// exact whatever the key.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

const key = (row: 'new' | 'old') => `'idp_users:' || substr(${row}.id, length(${row}.id) - 1, 2)`;

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql.raw(`
      create or replace function scim_count_idp_users() returns trigger language plpgsql as $$
      begin
        if tg_op in ('INSERT', 'UPDATE') and new.source = 'idp' and (tg_op = 'INSERT' or old.source is distinct from 'idp') then
          insert into scim_counters (key, n) values (${key('new')}, 1) on conflict (key) do update set n = scim_counters.n + 1;
        end if;
        if tg_op in ('DELETE', 'UPDATE') and old.source = 'idp' and (tg_op = 'DELETE' or new.source is distinct from 'idp') then
          update scim_counters set n = n - 1 where key = ${key('old')};
        end if;
        return null;
      end $$`).execute(db);
    // No create or delete may run between the recount and the commit under the old keys.
    await sql`lock table users in share row exclusive mode`.execute(db);
  } else {
    await sql`drop trigger scim_count_idp_users_ins`.execute(db);
    await sql`drop trigger scim_count_idp_users_del`.execute(db);
    await sql`drop trigger scim_count_idp_users_upd`.execute(db);
    await sql.raw(`create trigger scim_count_idp_users_ins after insert on users when new.source = 'idp' begin
      insert into scim_counters (key, n) values (${key('new')}, 1) on conflict (key) do update set n = n + 1;
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_del after delete on users when old.source = 'idp' begin
      update scim_counters set n = n - 1 where key = ${key('old')};
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_upd after update of source on users when old.source is not new.source begin
      insert into scim_counters (key, n) values (${key('new')}, 0) on conflict (key) do nothing;
      update scim_counters set n = n + 1 where key = ${key('new')} and new.source = 'idp';
      update scim_counters set n = n - 1 where key = ${key('old')} and old.source = 'idp';
    end`).execute(db);
  }
  await sql`delete from scim_counters where key like 'idp_users:%'`.execute(db);
  await sql`insert into scim_counters (key, n)
    select 'idp_users:' || substr(id, length(id) - 1, 2), count(*) from users where source = 'idp' group by substr(id, length(id) - 1, 2)`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migration 009 cannot be reverted');
}
