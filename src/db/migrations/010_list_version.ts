// Deep startIndex pages of /Users skip every user before them (PostgreSQL: 24 ms at startIndex
// 100,001; SQLite: 70 ms at 999,901), and an IdP import walks the whole list page by page, so a walk
// costs O(users²). A server that remembers where a page ended can start the next one from that
// user's (created, id) key instead, but only while no user was added to or removed from the list in
// between. The counter rows learn to tell: each shard also counts every change it sees (`version`,
// bumped by the same triggers that keep `n`), so the sum of the versions, read in the same statement
// as a page, names the exact set of listed users that page was read from (src/scim/list-positions.ts).
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

const KEY_NEW = `'idp_users:' || substr(new.id, length(new.id) - 1, 2)`;
const KEY_OLD = `'idp_users:' || substr(old.id, length(old.id) - 1, 2)`;

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await sql`alter table scim_counters add column version bigint not null default 0`.execute(db);
    await sql.raw(`
      create or replace function scim_count_idp_users() returns trigger language plpgsql as $$
      begin
        if tg_op in ('INSERT', 'UPDATE') and new.source = 'idp' and (tg_op = 'INSERT' or old.source is distinct from 'idp') then
          insert into scim_counters (key, n, version) values (${KEY_NEW}, 1, 1)
            on conflict (key) do update set n = scim_counters.n + 1, version = scim_counters.version + 1;
        end if;
        if tg_op in ('DELETE', 'UPDATE') and old.source = 'idp' and (tg_op = 'DELETE' or new.source is distinct from 'idp') then
          update scim_counters set n = n - 1, version = version + 1 where key = ${KEY_OLD};
        end if;
        return null;
      end $$`).execute(db);
  } else {
    await sql`alter table scim_counters add column version integer not null default 0`.execute(db);
    await sql`drop trigger scim_count_idp_users_ins`.execute(db);
    await sql`drop trigger scim_count_idp_users_del`.execute(db);
    await sql`drop trigger scim_count_idp_users_upd`.execute(db);
    await sql.raw(`create trigger scim_count_idp_users_ins after insert on users when new.source = 'idp' begin
      insert into scim_counters (key, n, version) values (${KEY_NEW}, 1, 1) on conflict (key) do update set n = n + 1, version = version + 1;
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_del after delete on users when old.source = 'idp' begin
      update scim_counters set n = n - 1, version = version + 1 where key = ${KEY_OLD};
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_upd after update of source on users when old.source is not new.source begin
      insert into scim_counters (key, n, version) values (${KEY_NEW}, 0, 0) on conflict (key) do nothing;
      update scim_counters set n = n + 1, version = version + 1 where key = ${KEY_NEW} and new.source = 'idp';
      update scim_counters set n = n - 1, version = version + 1 where key = ${KEY_OLD} and old.source = 'idp';
    end`).execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('migration 010 cannot be reverted');
}
