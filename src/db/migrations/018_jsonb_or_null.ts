// `ll_jsonb_or_null(text)`: the text as jsonb, or null when it is not JSON. A SCIM filter on a stored
// attribute (`title eq "CFO"`, an enterprise attribute, `phoneNumbers[type eq "work"]`) reads
// `scim_attributes::jsonb`, and one row whose text was edited into something that is not JSON made
// that cast, and so the whole search, fail for every client (a 500). The filter runs again with this
// function in place of the cast when that happens (compileUserFilter's guardJson): its exception
// block costs a subtransaction a row (1M users: 1.96 s a scan against 0.75 s for the cast), so it is
// not the first choice. SQLite needs nothing: its json_valid() guards the same reads.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  if (!isPostgres(db)) return;
  // Not parallel safe: a subtransaction cannot start in a parallel worker.
  await sql`create or replace function ll_jsonb_or_null(t text) returns jsonb language plpgsql immutable strict parallel unsafe as $$
    begin
      return t::jsonb;
    exception when invalid_text_representation then
      return null;
    end
  $$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) await sql`drop function if exists ll_jsonb_or_null(text)`.execute(db);
}
