// SQLite: the provisioning log moves out of the database's file into its own (src/db/database.ts,
// openProvisioningLog, which creates the table there), which migrate() attaches as `plog` while the
// migrations run. A commit that writes both files is atomic in each file but not across them, and
// SQLite commits the database's file first: a crash between the two could record this migration and
// drop the old table while the copied rows never reached the log's file. So migrate() first copies the
// rows in a transaction that writes the log's file alone (copyLogIntoItsFile, below), and this
// migration drops the old table after copying whatever came in since (another process still logging
// there). Ids are kept, and a copy run twice skips the ids already there. The space the log held in the
// database's file is reused by later writes (VACUUM gives it back to the file system). PostgreSQL:
// nothing to do, each table is stored apart there already.
import { sql, type Kysely } from 'kysely';
import type SQLite from 'better-sqlite3';
import { isPostgres } from '../dialect.ts';

const COLUMNS = 'id, at, client, method, path, status, duration_ms, summary, resource_type, resource_id, user_name, error, request_body, response_body';
const OLD_TABLE = `select count(*) as n from main.sqlite_schema where type = 'table' and name = 'provisioning_log'`;
const COPY = `insert or ignore into plog.provisioning_log (${COLUMNS}) select ${COLUMNS} from main.provisioning_log order by id`;

/** Copies the old table's rows into the log's file, committed on their own; nothing once it is gone. */
export function copyLogIntoItsFile(conn: SQLite.Database): void {
  if (!(conn.prepare(OLD_TABLE).get() as { n: number }).n) return;
  conn.transaction(() => conn.prepare(COPY).run())();
}

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  const { rows } = await sql<{ n: number }>`${sql.raw(OLD_TABLE)}`.execute(db);
  if (!rows[0]?.n) return;
  await sql.raw(COPY).execute(db);
  await sql`drop table main.provisioning_log`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migration 015 cannot be reverted');
}
