// What the provisioning log's two writers share, the request thread's (provisioning-log.service.ts)
// and SQLite's writer thread (provisioning-log.worker.ts): the columns a row is stored in, in order,
// and the text of a multi-row INSERT. It imports nothing, so the writer thread loads nothing more.

export const LOG_COLUMNS = ['at', 'client', 'method', 'path', 'status', 'duration_ms', 'summary', 'resource_type', 'resource_id', 'user_name', 'error', 'request_body', 'response_body'] as const;

/** Rows per INSERT statement: one statement per row costs about as much as storing the row. */
export const INSERT_CHUNK = 64;

/** An INSERT of `rows` rows of LOG_COLUMNS, with `?` placeholders (SQLite) or `$1, $2, …` (PostgreSQL). */
export function insertLogSql(rows: number, dialect: 'sqlite' | 'postgres'): string {
  let n = 0;
  const tuple = () => `(${LOG_COLUMNS.map(() => (dialect === 'postgres' ? `$${++n}` : '?')).join(', ')})`;
  return `insert into provisioning_log (${LOG_COLUMNS.join(', ')}) values ${Array.from({ length: rows }, tuple).join(', ')}`;
}
