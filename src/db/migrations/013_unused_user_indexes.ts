// Two indexes on `users` that no query reads, each written on every create (and on every rename):
// - users_created_id (created_at, id): SCIM lists only users the IdP provisioned, in (created, id)
//   order, and users_source_created_id (source, created_at, id) answers those pages, their skips and a
//   meta.created filter; Setup › Users orders by user_name_norm.
// - users_display_name (display_name): a displayName filter compares lower(display_name)
//   (users_display_name_lower), and since this migration sortBy=displayName orders by that expression
//   too, so that mixed-case names sort as they compare (displayName is not caseExact, RFC 7643 §4.1.1).
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists users_created_id`.execute(db);
  await sql`drop index if exists users_display_name`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('users_created_id').on('users').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('users_display_name').on('users').column('display_name').execute();
}
