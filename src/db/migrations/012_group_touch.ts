// A group's version bump that fails when the group is gone. The PATCH that only adds or removes
// members runs as one statement outside any transaction (PATCH_MEMBERS_PG in src/scim/scim.groups.ts)
// and bumps the version last, so that concurrent PATCHes of one group hold its row lock only until
// that statement commits; under 16 PATCHes of one group at once, pg_stat_activity sampled every 5 ms
// had shown 8,873 samples waiting for that lock and 3,506 of lock holders idle in transaction while
// this process got round to sending their COMMIT. A plain UPDATE that finds no row (the group was
// deleted since the PATCH read it) would let the statement commit memberships of a group that no
// longer exists; this function raises no_data_found (P0002) instead, which fails the whole statement.
// SQLite runs one writer at a time and does not use it.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  await sql`
    create function pushed_group_touched(group_id text, at text) returns integer language plpgsql as $$
    declare
      bumped integer;
    begin
      update pushed_groups set version = version + 1, updated_at = at where id = group_id returning version into bumped;
      if not found then
        raise exception 'group % not found', group_id using errcode = 'no_data_found';
      end if;
      return bumped;
    end $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await sql`drop function pushed_group_touched(text, text)`.execute(db);
}
