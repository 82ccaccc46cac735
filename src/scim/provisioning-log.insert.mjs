// @ts-check
// What the provisioning log's two writers share, the request thread's (provisioning-log.service.ts)
// and SQLite's writer thread (provisioning-log.worker.mjs): the columns a row is stored in, in order,
// the text of a multi-row INSERT and that of a chunk of a prune. JavaScript for the thread (see the worker); it imports nothing.

export const LOG_COLUMNS = /** @type {const} */ (['at', 'client', 'method', 'path', 'status', 'duration_ms', 'summary', 'resource_type', 'resource_id', 'user_name', 'error', 'request_body', 'response_body']);

/** Rows per INSERT statement: one statement per row costs about as much as storing the row. */
export const INSERT_CHUNK = 64;

/**
 * An INSERT of `rows` rows of LOG_COLUMNS, with `?` placeholders (SQLite) or `$1, $2, …` (PostgreSQL).
 * @param {number} rows
 * @param {'sqlite' | 'postgres'} dialect
 * @returns {string}
 */
export function insertLogSql(rows, dialect) {
  let n = 0;
  const tuple = () => `(${LOG_COLUMNS.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
  return `insert into provisioning_log (${LOG_COLUMNS.join(', ')}) values ${Array.from({ length: rows }, tuple).join(', ')}`;
}

/**
 * A DELETE of at most a given number of rows logged before a given time, the oldest first (through the
 * index on `at`): a chunk of a prune. Its parameters are the time and the number of rows.
 * @param {'sqlite' | 'postgres'} dialect
 * @returns {string}
 */
export function pruneLogSql(dialect) {
  const [before, rows] = dialect === 'postgres' ? ['$1', '$2'] : ['?', '?'];
  return `delete from provisioning_log where id in (select id from provisioning_log where at < ${before} order by at limit ${rows})`;
}
