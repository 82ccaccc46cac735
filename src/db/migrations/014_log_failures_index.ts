// The provisioning log's failures, newest first, without reading the successes. An admin opens the
// log when the IdP shows an error and filters on failures; most requests succeed, so without an index
// that filter read the whole log to find a few failed rows (1,000,000 rows: 147-173 ms on SQLite,
// 510 ms on PostgreSQL, on a slow day). A partial index holds only rows with status >= 400: a
// successful request, nearly every row, writes nothing to it. The log's query states
// `status >= 400` for every failure filter (a code such as 409, a class such as 4xx): SQLite, at a
// million rows, walked the whole log for `status = 409` without it. (The log's test checks that the
// filters read this index; on its few thousand rows SQLite picks it even without the literal.)
import { sql, type Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`create index provisioning_log_failures on provisioning_log (id) where status >= 400`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`drop index if exists provisioning_log_failures`.execute(db);
}
