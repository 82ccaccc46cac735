// @ts-check
// The SQLite provisioning log's writer, on a thread of its own: it stores the rows the request thread
// sends it (src/scim/provisioning-log.service.ts, ThreadWriter) in the log's file through a connection
// of its own, one transaction every 200 ms (or at once when the request thread flushes), and prunes
// what is past retention in the same transactions, a chunk each (pruneLimits in the service). On the
// request thread, inserting a batch (a few hundred rows with up to 8 KB of bodies each every 200 ms)
// paused every request in flight: a walk of 10,000 cursor pages at a million users had 21-26 pages
// over 10 ms, 5-7 with this thread (docs/performance.md, session 18). Waiting for a lock held by
// another process (busy_timeout) only sleeps this thread. The log is written apart from the changes it
// describes, as before.
//
// JavaScript (checked by the compiler from its JSDoc types), and so are the two modules it imports:
// the thread is started without tsx (execArgv: [], not the process's `--import tsx`), so starting it
// is starting an isolate and better-sqlite3, not tsx's loader thread and esbuild. With tsx it took
// 390-435 ms and 540-640 ms of CPU on a slow day of this VM, during the first SCIM requests after a
// start; without, 84-99 ms and 95-114 ms (docs/performance.md, session 20).
import { isMainThread, parentPort, workerData } from 'node:worker_threads';
import { isSqliteBusy, openProvisioningLogFile } from '../db/provisioning-log-file.mjs';
import { INSERT_CHUNK, insertLogSql, LOG_COLUMNS, pruneLogSql } from './provisioning-log.insert.mjs';

/**
 * What the request thread sends: rows as one flat array of values, LOG_COLUMNS of each row in turn.
 * `pruneBefore`: rows logged before this time are deleted in the next commit; null: no pruning this
 * time. `commit`: commit now, with everything received before.
 * @typedef {{ id: number; values: unknown[]; pruneBefore: string | null; commit: boolean }} LogBatch
 */

/**
 * What the request thread sends to stop this thread (ThreadWriter.close): it commits nothing more, reports
 * the batches it still holds as not stored with `reason`, closes its connection and ends. Stopped from
 * outside (Worker.terminate) while SQLite waits for a lock instead, better-sqlite3 could not raise the
 * busy error in the ending thread and aborted the whole process.
 * @typedef {{ stop: true; reason: string }} LogStop
 */

/**
 * A commit, or its failure (its rows are dropped): the batches it held (none for a chunk of a prune).
 * @typedef {{ ids: number[]; ok: true } | { ids: number[]; ok: false; rows: number; error: string }} LogBatchResult
 */

/**
 * `busyTimeoutMs`: how long a commit waits for another connection's lock on the log's file before its
 * batches are kept and tried again `busyRetryMs` later (waitLimits in the service); `pruneChunk`: rows
 * one commit deletes at most when pruning; `prunePauseMs`: the wait before the next chunk when more are
 * past retention (see ThreadWriter).
 * @typedef {{ file: string; busyTimeoutMs: number; busyRetryMs: number; pruneChunk: number; prunePauseMs: number }} LogWriterConfig
 */

/** Batches received are committed this long after the first of them… */
const COMMIT_MS = 200;
/** …or once this many rows are waiting. */
const COMMIT_ROWS = 2_000;

/**
 * @param {LogWriterConfig} config
 * @param {import('node:worker_threads').MessagePort} port
 */
function start(config, port) {
  const conn = openProvisioningLogFile(config.file, config.busyTimeoutMs);
  const width = LOG_COLUMNS.length;
  /** @type {Map<number, import('better-sqlite3').Statement>} */
  const inserts = new Map();
  /** @param {number} rows */
  const insert = (rows) => {
    let stmt = inserts.get(rows);
    if (!stmt) {
      stmt = conn.prepare(insertLogSql(rows, 'sqlite'));
      inserts.set(rows, stmt);
    }
    return stmt;
  };
  const prune = conn.prepare(pruneLogSql('sqlite'));
  const write = conn.transaction(
    /** @param {LogBatch[]} batches @param {string | null} pruneBefore @returns {number} the rows pruned */
    (batches, pruneBefore) => {
      for (const { values } of batches) {
        const rows = values.length / width;
        for (let r = 0; r < rows; r += INSERT_CHUNK) {
          const n = Math.min(INSERT_CHUNK, rows - r);
          insert(n).run(values.slice(r * width, (r + n) * width));
        }
      }
      return pruneBefore ? prune.run(pruneBefore, config.pruneChunk).changes : 0;
    },
  );

  /** @type {LogBatch[]} */
  let waiting = [];
  let waitingRows = 0;
  /** @type {NodeJS.Timeout | null} */
  let timer = null;
  /** A prune not finished: rows logged before this time are left. */
  /** @type {string | null} */
  let pruning = null;
  const commit = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batches = waiting;
    const rows = waitingRows;
    waiting = [];
    waitingRows = 0;
    const ids = batches.map((b) => b.id);
    pruning = batches.reduce((/** @type {string | null} */ at, b) => b.pruneBefore ?? at, pruning);
    /** @type {LogBatchResult} */
    let result;
    try {
      // BEGIN IMMEDIATE: the write lock is taken (or waited for) before anything is read.
      if (write.immediate(batches, pruning) < config.pruneChunk) pruning = null;
      result = { ids, ok: true };
    } catch (err) {
      if (isSqliteBusy(err)) {
        // Another connection holds the log's file: keep the batches, oldest first, and try again
        // shortly. The request thread bounds what waits, and stops this thread at shutdown.
        waiting = batches.concat(waiting);
        waitingRows += rows;
        timer ??= setTimeout(commit, config.busyRetryMs);
        return;
      }
      // The request thread sends the prune again with its next batch.
      pruning = null;
      result = { ids, ok: false, rows, error: err instanceof Error ? err.message : String(err) };
    }
    // A chunk of a prune that went through holds no rows to report: the request thread is not woken for it.
    if (ids.length || !result.ok) port.postMessage(result);
    // More past retention: the next chunk after a pause, in which other processes can have the lock.
    if (pruning) timer ??= setTimeout(commit, config.prunePauseMs);
  };
  port.on('message', (/** @type {LogBatch | LogStop} */ batch) => {
    if ('stop' in batch) {
      if (timer) clearTimeout(timer);
      timer = null;
      if (waiting.length) port.postMessage(/** @type {LogBatchResult} */ ({ ids: waiting.map((b) => b.id), ok: false, rows: waitingRows, error: batch.reason }));
      waiting = [];
      conn.close();
      // Nothing keeps the thread now: it ends once the message above is on its way.
      port.removeAllListeners('message');
      port.unref();
      return;
    }
    waiting.push(batch);
    waitingRows += batch.values.length / width;
    if (batch.commit || waitingRows >= COMMIT_ROWS) commit();
    else timer ??= setTimeout(commit, COMMIT_MS);
  });
}

// Only when run as the writer thread: the request thread imports this module's types alone. An error
// that stops the thread reaches the request thread as a copy, which keeps the message of a plain Error
// only (better-sqlite3's arrive as their code alone).
if (!isMainThread && parentPort) {
  try {
    start(workerData, parentPort);
  } catch (err) {
    throw new Error(err instanceof Error ? err.message : String(err));
  }
}
