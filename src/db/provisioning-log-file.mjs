// @ts-check
// SQLite: the provisioning log's own file (migration 015), opened alike by the database's handle
// (src/db/database.ts, which reads it for the admin's screen) and by the log's writer thread
// (src/scim/provisioning-log.worker.mjs). JavaScript, checked by the compiler from its JSDoc types,
// because the thread runs without tsx (see the worker); it imports better-sqlite3 alone.
import SQLite from 'better-sqlite3';

/**
 * SQLITE_SYNCHRONOUS, for every SQLite file the process opens (a worker thread sees the same environment).
 * @returns {string}
 */
export const sqliteSynchronous = () => process.env.SQLITE_SYNCHRONOUS || 'FULL';

/**
 * SQLite's "busy" result codes (SQLITE_BUSY and its extended codes): another connection holds the lock.
 * @param {unknown} err
 * @returns {boolean}
 */
export function isSqliteBusy(err) {
  const code = /** @type {{ code?: unknown }} */ (err)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/** The provisioning log's columns on SQLite, as migration 002 created them in the database's own file. */
const COLUMNS =
  '"id" integer primary key autoincrement, "at" text not null, "client" text, "method" text not null, "path" text not null, ' +
  '"status" integer not null, "duration_ms" real not null, "summary" text not null, "resource_type" text, "resource_id" text, ' +
  '"user_name" text, "error" text, "request_body" text, "response_body" text';

/**
 * The log's file, its table and indexes created where missing: a database file restored without its
 * log file starts an empty log, and a writer thread whose file was lost since the server started
 * stores its rows in a new one.
 * @param {string} logFile
 * @param {number} busyTimeoutMs
 * @returns {SQLite.Database}
 */
export function openProvisioningLogFile(logFile, busyTimeoutMs) {
  const conn = new SQLite(logFile);
  conn.pragma('journal_mode = WAL');
  conn.pragma(`synchronous = ${sqliteSynchronous()}`);
  conn.pragma(`busy_timeout = ${busyTimeoutMs}`);
  conn.exec(`create table if not exists provisioning_log (${COLUMNS});
    create index if not exists provisioning_log_at on provisioning_log (at);
    create index if not exists provisioning_log_failures on provisioning_log (id) where status >= 400;`);
  return conn;
}
