// Every SCIM request writes a provisioning-log row. The log's (resource_type, resource_id) index was
// never read (the screen filters the resource type with a case-insensitive match and searches ids
// with a substring match, which no B-tree serves), and each row landed at a random place in it: with
// a million rows in the log, a flush of 640 rows cost 61 ms with the index and 9.5 ms without (SQLite,
// measured), about 80 µs more server time per SCIM request, growing with the log. Dropped.
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists provisioning_log_resource`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migration 008 cannot be reverted');
}
