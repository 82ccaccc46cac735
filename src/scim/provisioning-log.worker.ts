// The SQLite provisioning log's writer, on a thread of its own: it inserts the batches of log rows the
// request thread sends it (src/scim/provisioning-log.service.ts) into the log's file through a
// connection of its own, and prunes what is past retention in the same transaction. On the request
// thread, inserting a batch (a few hundred rows of up to 8 KB of bodies every 200 ms) and the WAL
// checkpoints that follow stalled every request in flight for 5-30 ms; here they take the other core
// (docs/performance.md, session 18). Waiting for a lock held by another process (busy_timeout) only
// sleeps this thread. The log is written apart from the changes it describes, as before.
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';

/** What the request thread sends: rows as one flat array of `columns.length` values each. */
export interface LogBatch {
  id: number;
  values: unknown[];
  /** Rows logged before this time are deleted in the same transaction; null: no pruning this time. */
  pruneBefore: string | null;
}

export type LogBatchResult = { id: number; ok: true; pruned: number } | { id: number; ok: false; error: string };

export interface LogWriterConfig {
  file: string;
  columns: readonly string[];
  synchronous: string;
  busyTimeoutMs: number;
}

/** Rows per INSERT statement: one statement per row costs about as much as storing the row. */
const INSERT_CHUNK = 64;

function start(config: LogWriterConfig): void {
  const conn = new SQLite(config.file);
  conn.pragma('journal_mode = WAL');
  conn.pragma(`synchronous = ${config.synchronous}`);
  conn.pragma(`busy_timeout = ${config.busyTimeoutMs}`);
  const width = config.columns.length;
  const inserts = new Map<number, SQLite.Statement>();
  const insert = (rows: number) => {
    let stmt = inserts.get(rows);
    if (!stmt) {
      const tuple = `(${config.columns.map(() => '?').join(', ')})`;
      stmt = conn.prepare(`insert into provisioning_log (${config.columns.join(', ')}) values ${Array(rows).fill(tuple).join(', ')}`);
      inserts.set(rows, stmt);
    }
    return stmt;
  };
  const prune = conn.prepare('delete from provisioning_log where at < ?');
  const write = conn.transaction((batch: LogBatch): number => {
    const rows = batch.values.length / width;
    for (let r = 0; r < rows; r += INSERT_CHUNK) {
      const n = Math.min(INSERT_CHUNK, rows - r);
      insert(n).run(batch.values.slice(r * width, (r + n) * width));
    }
    return batch.pruneBefore ? prune.run(batch.pruneBefore).changes : 0;
  });
  parentPort!.on('message', (batch: LogBatch) => {
    let result: LogBatchResult;
    try {
      // BEGIN IMMEDIATE: the write lock is taken (or waited for) before anything is read.
      result = { id: batch.id, ok: true, pruned: write.immediate(batch) };
    } catch (err) {
      result = { id: batch.id, ok: false, error: (err as Error).message };
    }
    parentPort!.postMessage(result);
  });
}

// Only when run as the writer thread: the request thread imports this module's types alone.
if (!isMainThread && parentPort) start(workerData as LogWriterConfig);
