// SQLite: the provisioning log moves out of the database's file into its own, attached as `plog`
// (src/db/database.ts, attachProvisioningLog, which creates the table there). Its rows are copied
// and the database's copy dropped. A crash between the two files' commits leaves rows in both; the
// copy is then run again and skips the ids already there. The space the log held in the database's
// file is reused by later writes (VACUUM gives it back to the file system). PostgreSQL: nothing to do,
// each table is stored apart there already.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

const COLUMNS = 'id, at, client, method, path, status, duration_ms, summary, resource_type, resource_id, user_name, error, request_body, response_body';

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) return;
  const { rows } = await sql<{ n: number }>`select count(*) as n from main.sqlite_schema where type = 'table' and name = 'provisioning_log'`.execute(db);
  if (!rows[0]?.n) return;
  await sql.raw(`insert or ignore into plog.provisioning_log (${COLUMNS}) select ${COLUMNS} from main.provisioning_log order by id`).execute(db);
  await sql`drop table main.provisioning_log`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('migration 015 cannot be reverted');
}
