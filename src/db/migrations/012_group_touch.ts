// Concurrent membership PATCHes of one group queue on the group row: each ends by bumping the group's
// version, and holds that row lock until it commits. With the UPDATE and the COMMIT as two round
// trips, the lock was also held while the process got round to sending the COMMIT, and under 16
// PATCHes of one group at once PostgreSQL spent most of its time with the lock held by a transaction
// "idle in transaction" (pg_stat_activity sampled every 5 ms: 3,506 samples idle in transaction
// against 8,873 waiting for the lock). Sending the version bump and the COMMIT as one message needs
// the bump to fail when the group is gone (deleted meanwhile): a plain UPDATE would find no row, and
// the COMMIT after it would keep the memberships just added to a group that no longer exists. This
// function bumps the version or raises no_data_found (P0002). SQLite runs one writer at a time and
// never takes this path.
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
