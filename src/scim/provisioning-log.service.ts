// The provisioning log: one row per SCIM request, what an admin reads when the IdP shows an error.
// Rows are queued and written in batches (one transaction per ~200 ms) so logging a lookup does not
// cost a durable commit per request; a crash can lose the last batch of log rows, never provisioning
// data. On SQLite a writer thread inserts the batches into the log's own file (provisioning-log.worker.mjs),
// off the thread that answers requests; on PostgreSQL (and an in-memory SQLite database) they are
// inserted from here. The list API flushes this process's queue first, so a single node reads its own
// writes; while another process holds the log it waits at most listLimits.flushWaitMs for that, and
// the page says that its newest rows are still being stored. Retention: rows older than
// config.provisioningLogDays are pruned every few minutes, by index.
import { Worker } from 'node:worker_threads';
import { CompiledQuery, sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { ProvisioningLogTable } from '../db/schema.scim.ts';
import { ilike, isPostgres, likeEscape } from '../db/dialect.ts';
import { tryWriteTransaction, type Attempt } from '../db/write-lock.ts';
import { preparedPgStatement, provisioningLogDbOf, provisioningLogFileOf } from '../db/database.ts';
import type { LogBatch, LogBatchResult, LogStop, LogWriterConfig } from './provisioning-log.worker.mjs';
import { INSERT_CHUNK, insertLogSql, LOG_COLUMNS, pruneLogSql } from './provisioning-log.insert.mjs';
import { clampLimit, decodeCursor, encodeCursor } from '../platform/paging.ts';
import { Invalid } from '../platform/errors.ts';
import { systemActor } from '../platform/actor.ts';
import { recordAudit } from '../identity/audit.service.ts';
import { isWellFormed, toWellFormed } from '../platform/nul-guard.ts';

export type LogRow = Omit<ProvisioningLogTable, 'id'>;

/** Bodies are stored masked and cut to this many characters. */
export const BODY_LIMIT = 8192;

/** `text` cut to BODY_LIMIT, saying how much was not kept of the `length` it had (its own, unless it was cut already). */
export function boundedBody(text: string | null | undefined, length = text?.length ?? 0): string | null {
  if (text === null || text === undefined || text === '') return null;
  return length > BODY_LIMIT ? `${text.slice(0, BODY_LIMIT)}… [${length - BODY_LIMIT} more characters not kept]` : text;
}

const insertSql = new Map<string, string>();

/** One multi-row INSERT, its text built once per row count and dialect (not by the query builder, which costs more per row than the insert). */
async function insertRows(trx: Transaction<DB>, rows: LogRow[]): Promise<void> {
  const pg = isPostgres(trx);
  const key = `${pg ? 'pg' : 'sqlite'}:${rows.length}`;
  let text = insertSql.get(key);
  if (!text) {
    text = insertLogSql(rows.length, pg ? 'postgres' : 'sqlite');
    insertSql.set(key, text);
    if (pg) preparedPgStatement(text);
  }
  const params: unknown[] = [];
  for (const r of rows) for (const c of LOG_COLUMNS) params.push(r[c]);
  await trx.executeQuery(CompiledQuery.raw(text, params));
}

/**
 * A prune deletes at most `chunkRows` rows a commit, the oldest first, and waits `pauseMs` before the
 * next chunk while more are past retention. In one statement, the first prune after the retention was
 * shortened (PROVISIONING_LOG_DAYS) on a large log was one transaction over every expired row: it held
 * the log's lock (SQLite: the file's, for every process) and kept the rows logged meanwhile from
 * being stored, and a page of the log from being read with them, until it ended. Settable for tests.
 */
export const pruneLimits = { chunkRows: 5_000, pauseMs: 20 };

const FLUSH_MS = 200;
const MAX_QUEUE = 500;
const PRUNE_EVERY_MS = 5 * 60_000;
/** While another connection holds the log, rows stay queued and are tried again this often. */
const BUSY_RETRY_MS = 50;

/**
 * While another connection holds the log (LOCK TABLE or VACUUM FULL in a PostgreSQL session; the
 * `sqlite3` shell, the CLI or another node in a transaction on SQLite's log file), a batch waits at most
 * `lockWaitMs` for the lock (PostgreSQL: lock_timeout; SQLite: the writer thread's busy_timeout), lets
 * go and is tried again BUSY_RETRY_MS later, for as long as the hold lasts. The rows waiting to be
 * stored may hold at most `maxQueuedChars` characters of text (bodies, path and words); requests past
 * that are not logged, and are counted and reported (how many, the first's and the last's time) once
 * the log takes rows again. At shutdown the writer tries for `shutdownWaitMs` more and says how many
 * rows it could not store. Before (session 32), a PostgreSQL batch waited for the lock as long as the
 * hold lasted with every request's row queued behind it: under 16 clients reading, the server's memory
 * grew by 3.4-4.6 MB a second (docs/scim.md), without a bound short of V8's heap limit, and a shutdown
 * did not end until the hold did; SQLite's writer thread waited 30 s, then dropped every row it had.
 * Settable for tests.
 */
export const waitLimits = { lockWaitMs: 1_000, maxQueuedChars: 64 * 1024 * 1024, shutdownWaitMs: 5_000 };

/** The characters a log row holds in its text, and a little for the row itself. */
function charsOf(row: LogRow): number {
  let n = 64;
  for (const c of LOG_COLUMNS) {
    const v = row[c];
    if (typeof v === 'string') n += v.length;
  }
  return n;
}

/** PostgreSQL's lock_not_available: the wait for a lock outlasted lock_timeout. */
const isLockTimeout = (err: unknown) => (err as { code?: unknown })?.code === '55P03';

/** Whether `p` settles within `ms` (it goes on either way). */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Requests whose rows the log did not store: how many, the first's and the last's time, and why. */
interface Loss {
  requests: number;
  from: string;
  to: string;
  reason: string;
}

/** The loss of `rows` (logged in this order), for `reason`. */
const lossOf = (rows: readonly { at: string }[], reason: string): Loss => ({ requests: rows.length, from: rows[0]?.at ?? '', to: rows.at(-1)?.at ?? '', reason });

/**
 * Where a writer says that requests were not logged: the server's output, and the audit log
 * (`provisioning_log.not_logged`, from the system), where an admin who finds a gap in the log can read
 * why. The audit entry is written on the product's database, not the log's (its own file on SQLite;
 * on PostgreSQL another table), so a hold of the log does not keep it back; it must never break the
 * writer, and close() waits for it.
 */
class Losses {
  private readonly writing = new Set<Promise<void>>();
  constructor(private readonly db: Kysely<DB>) {}

  say(loss: Loss): void {
    if (!loss.requests) return;
    const { requests, from, to, reason } = loss;
    process.emitWarning(`provisioning log: ${requests} request(s) from ${from} to ${to} were not logged: ${reason}`);
    const written: Promise<void> = recordAudit(this.db, systemActor('provisioning log'), {
      action: 'provisioning_log.not_logged',
      targetType: 'provisioning_log',
      summary: `${requests === 1 ? '1 SCIM request' : `${requests} SCIM requests`} from ${from} to ${to} ${requests === 1 ? 'is' : 'are'} missing from the provisioning log: ${reason}`,
      details: { requests, from, to, reason },
    })
      .catch((err: Error) => process.emitWarning(`provisioning log: could not record in the audit log that ${requests} request(s) were not logged: ${err.message}`))
      .finally(() => this.writing.delete(written));
    this.writing.add(written);
  }

  /** Waits for the audit entries under way. */
  async settled(): Promise<void> {
    while (this.writing.size) await Promise.all(this.writing);
  }
}

/** Requests not logged because the rows waiting for a held log had reached waitLimits.maxQueuedChars. */
class NotKept {
  private rows = 0;
  private from = '';
  private to = '';

  count(row: LogRow): void {
    if (!this.rows++) this.from = row.at;
    this.to = row.at;
  }

  /** The requests counted since the last time, for the reason they were not kept; the count starts again. */
  take(): Loss {
    const limit = waitLimits.maxQueuedChars;
    const chars = limit >= 1 << 20 ? `${Math.round(limit / (1 << 20))} M` : limit.toLocaleString('en-US');
    const loss = { requests: this.rows, from: this.from, to: this.to, reason: `another connection held the log, and the rows waiting for it had reached ${chars} characters` };
    this.rows = 0;
    return loss;
  }
}

/** Rows taken from the queue to be stored together, and their characters (charsOf). */
type Batch = { rows: LogRow[]; chars: number };

/**
 * The rows waiting to be stored: those queued, and those taken for a batch not yet stored (in flight,
 * or sent to the writer thread). Together they may hold waitLimits.maxQueuedChars characters (charsOf);
 * a row past that is not queued but counted, and reported once the log takes rows again.
 */
class WaitingRows {
  private queue: LogRow[] = [];
  private queuedChars = 0;
  /** The characters of the rows queued and of those taken and not yet settled. */
  private waitingChars = 0;
  private readonly notKept = new NotKept();
  constructor(private readonly losses: Losses) {}

  get length(): number {
    return this.queue.length;
  }

  /** Queues the row, or counts it as not logged if the rows waiting are at the limit; whether it was queued. */
  admit(row: LogRow): boolean {
    const chars = charsOf(row);
    if (this.waitingChars + chars > waitLimits.maxQueuedChars) {
      this.notKept.count(row);
      return false;
    }
    this.queuedChars += chars;
    this.waitingChars += chars;
    this.queue.push(storable(row));
    return true;
  }

  /** The queued rows, for a batch: they go on counting until settled (or put back). */
  take(): Batch {
    const batch = { rows: this.queue, chars: this.queuedChars };
    this.queue = [];
    this.queuedChars = 0;
    return batch;
  }

  /** A batch not stored because the log is held: back at the front of the queue, oldest first. */
  putBack(batch: Batch): void {
    this.queue = batch.rows.concat(this.queue);
    this.queuedChars += batch.chars;
  }

  /** A batch is no longer waiting: `stored`, it also reports the requests not logged before it. */
  settle(chars: number, stored: boolean): void {
    this.waitingChars -= chars;
    if (stored) this.report();
  }

  /** Drops what is queued (a close during a hold), and says so with `reason`. */
  discard(reason: string): void {
    const { rows, chars } = this.take();
    this.settle(chars, false);
    this.losses.say(lossOf(rows, reason));
  }

  /** Says how many requests were not logged since the last report, if any. */
  report(): void {
    this.losses.say(this.notKept.take());
  }
}

/** What a writer says about the rows it still had when it stopped during a hold. */
const STILL_HELD = 'the log was still held by another connection at shutdown';
/**
 * SQLite: rows go to the writer thread this soon after they are logged, which commits them every
 * 200 ms. Held here for the 200 ms instead, a busy server's rows (with up to 8 KB of bodies each) outlived
 * several of V8's young-generation collections and were moved to the old generation, whose collections
 * then paused every request for 8-14 ms every 4-5 s (docs/performance.md, session 18).
 */
const SEND_MS = 20;

/** What a request's log row goes through (the SCIM plugin's `add`), and when it is stored. */
export interface ProvisioningLogWriter {
  add(row: LogRow): void;
  /** Stores every row added so far. */
  flush(): Promise<void>;
  /** Stores every row added so far, trying for up to `ms` while another connection holds the log. */
  drain(ms?: number): Promise<void>;
  /** Stores every row added so far and lets go of the writer thread (started again if more comes). */
  close(): Promise<void>;
}

/**
 * A U+0000 in any text (a rejected request can carry one into the summary) would fail the whole batch
 * on PostgreSQL; it is shown as ␀ instead. A lone UTF-16 surrogate (a JSON body can carry one escaped)
 * becomes U+FFFD, as PostgreSQL's driver makes it, rather than the three bytes of invalid UTF-8 SQLite
 * would store (read back as three U+FFFD).
 */
function storable(row: LogRow): LogRow {
  for (const c of LOG_COLUMNS) {
    const v = row[c];
    if (typeof v !== 'string') continue;
    let text = isWellFormed(v) ? v : toWellFormed(v);
    if (text.includes('\u0000')) text = text.replaceAll('\u0000', '\u2400');
    if (text !== v) (row[c] as string) = text;
  }
  return row;
}

/** The time before which rows are past retention, when a prune is due (every few minutes); else null. */
class PruneClock {
  private last = 0;
  constructor(private readonly retentionDays: () => number) {}

  due(): string | null {
    if (Date.now() - this.last <= PRUNE_EVERY_MS) return null;
    this.last = Date.now();
    return new Date(this.last - this.retentionDays() * 86_400_000).toISOString();
  }

  /** The prune did not happen: due again at the next batch. */
  missed(): void {
    this.last = 0;
  }
}

/**
 * PostgreSQL, and an in-memory SQLite database: batches of rows, one transaction each from this
 * thread, every 200 ms or 500 rows. While another connection holds the log (PostgreSQL: a batch waited
 * waitLimits.lockWaitMs for its lock) the rows stay queued and are tried again on a timer; the rows
 * queued and in flight are held to waitLimits.maxQueuedChars (WaitingRows).
 */
class TransactionWriter implements ProvisioningLogWriter {
  private readonly waiting: WaitingRows;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  /** The log is held by another connection: the last batch could not be stored and waits for a retry. */
  private held = false;
  private readonly prune: PruneClock;
  /** A prune not finished: rows logged before this time are left. */
  private pruning: string | null = null;
  constructor(private readonly db: Kysely<DB>, retentionDays: () => number, private readonly losses: Losses) {
    this.prune = new PruneClock(retentionDays);
    this.waiting = new WaitingRows(losses);
  }

  add(row: LogRow): void {
    if (!this.waiting.admit(row)) return;
    if (this.waiting.length >= MAX_QUEUE && !this.held) void this.flush();
    else this.schedule(FLUSH_MS);
  }

  private schedule(ms: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref();
  }

  async drain(ms = 5_000): Promise<void> {
    const until = Date.now() + ms;
    await this.flush();
    // A retry on the timer may have the rows in flight: they are not stored until it ends.
    while ((this.waiting.length || this.flushing) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, BUSY_RETRY_MS));
      await this.flush();
    }
  }

  async close(): Promise<void> {
    await this.drain(waitLimits.shutdownWaitMs);
    while (this.flushing) await this.flushing;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    // Still held after the drain's wait: what is queued goes with the process, and is said so.
    if (this.waiting.length) {
      this.held = false;
      this.waiting.discard(STILL_HELD);
    }
    this.waiting.report();
    await this.losses.settled();
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (!this.waiting.length && !this.pruning) return;
    const batch = this.waiting.take();
    const { rows } = batch;
    this.flushing = (async () => {
      const pruneBefore = this.prune.due() ?? this.pruning;
      const chunk = pruneLimits.chunkRows;
      const pg = isPostgres(this.db);
      try {
        let attempt: Attempt<number>;
        try {
          attempt = await tryWriteTransaction(this.db, async (trx) => {
            if (pg) await sql.raw(`set local lock_timeout = ${Math.max(1, Math.round(waitLimits.lockWaitMs))}`).execute(trx);
            for (let i = 0; i < rows.length; i += INSERT_CHUNK) await insertRows(trx, rows.slice(i, i + INSERT_CHUNK));
            if (!pruneBefore) return 0;
            const { numAffectedRows } = await trx.executeQuery(CompiledQuery.raw(pruneLogSql(pg ? 'postgres' : 'sqlite'), [pruneBefore, chunk]));
            return Number(numAffectedRows);
          });
        } catch (err) {
          if (!isLockTimeout(err)) throw err;
          attempt = { ran: false };
        }
        if (attempt.ran) {
          this.held = false;
          this.waiting.settle(batch.chars, true);
          // More past retention: the next chunk after a pause, in which other sessions can write.
          this.pruning = attempt.value < chunk ? null : pruneBefore;
          if (this.pruning) this.schedule(pruneLimits.pauseMs);
          return;
        }
        if (pruneBefore) this.prune.missed();
        // Another connection holds the log: keep the rows (oldest first) and try again shortly.
        this.held = true;
        this.waiting.putBack(batch);
        this.schedule(BUSY_RETRY_MS);
      } catch (err) {
        // The log must never break provisioning; report and drop the batch. A prune is tried again later.
        this.held = false;
        this.waiting.settle(batch.chars, false);
        this.pruning = null;
        if (pruneBefore) this.prune.missed();
        if (rows.length) this.losses.say(lossOf(rows, (err as Error).message));
        else process.emitWarning(`provisioning log: could not prune past retention: ${(err as Error).message}`);
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }
}

/**
 * SQLite: rows are sent within SEND_MS to the writer thread (provisioning-log.worker.mjs), which
 * commits them every 200 ms, or at once when a flush asks. The thread is started on the first rows and
 * again after it stopped; while another connection holds the log's file it keeps the batches and tries
 * again (waitLimits); the rows queued and those sent and not yet committed are held to
 * waitLimits.maxQueuedChars (WaitingRows). While rows it has not committed are on their way, it keeps
 * the process alive, so the last rows of a shutdown are stored.
 */
class ThreadWriter implements ProvisioningLogWriter {
  private readonly waiting: WaitingRows;
  private timer: NodeJS.Timeout | null = null;
  private worker: Worker | null = null;
  /** Messages sent and not yet committed (or refused): to which thread, their rows (as a Loss, should they be) and characters, and who waits. */
  private readonly pending = new Map<number, { worker: Worker; rows: Loss; chars: number; done: () => void }>();
  private nextId = 1;
  private readonly prune: PruneClock;
  constructor(private readonly file: string, retentionDays: () => number, private readonly losses: Losses) {
    this.prune = new PruneClock(retentionDays);
    this.waiting = new WaitingRows(losses);
  }

  add(row: LogRow): void {
    if (!this.waiting.admit(row) || this.timer) return;
    this.timer = setTimeout(() => void this.send(false), SEND_MS);
    this.timer.unref();
  }

  flush(): Promise<void> {
    return this.send(true);
  }

  async drain(ms = waitLimits.shutdownWaitMs): Promise<void> {
    await settledWithin(this.send(true), ms);
  }

  async close(): Promise<void> {
    const stored = await settledWithin(this.send(true), waitLimits.shutdownWaitMs);
    const worker = this.worker;
    this.worker = null;
    if (worker) {
      // The thread is asked to stop, not terminated (see LogStop); still held, it reports what it holds
      // as not stored. It answers within a lock wait; if it does not, it is terminated after all.
      const exited = new Promise((r) => worker.once('exit', r));
      worker.postMessage({ stop: true, reason: stored ? 'the writer was closed' : STILL_HELD } satisfies LogStop);
      if (!(await settledWithin(exited, waitLimits.lockWaitMs + 5_000))) await worker.terminate();
    }
    this.waiting.report();
    await this.losses.settled();
  }

  /** Sends the queued rows; with `commit`, resolves once they and every row sent before are committed (or reported). */
  private send(commit: boolean): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (!this.waiting.length && !(commit && this.pending.size)) return Promise.resolve();
    const taken = this.waiting.take();
    const values: unknown[] = [];
    for (const r of taken.rows) for (const c of LOG_COLUMNS) values.push(r[c]);
    const batch: LogBatch = { id: this.nextId++, values, pruneBefore: this.prune.due(), commit };
    const rows = lossOf(taken.rows, '');
    const { chars } = taken;
    const worker = (this.worker ??= this.start());
    return new Promise<void>((done) => {
      this.pending.set(batch.id, { worker, rows, chars, done });
      worker.ref();
      worker.postMessage(batch);
    });
  }

  private start(): Worker {
    const config: LogWriterConfig = { file: this.file, busyTimeoutMs: waitLimits.lockWaitMs, busyRetryMs: BUSY_RETRY_MS, pruneChunk: pruneLimits.chunkRows, prunePauseMs: pruneLimits.pauseMs };
    // Without the process's `--import tsx` and other flags: the thread's code is JavaScript (see the worker).
    const worker = new Worker(new URL('./provisioning-log.worker.mjs', import.meta.url), { workerData: config, execArgv: [] });
    const mine = () => [...this.pending].filter(([, p]) => p.worker === worker);
    // The messages `ids` are settled: stored, or not (then their rows are said lost, for `reason`).
    const settle = (ids: number[], stored: boolean, reason = '') => {
      const lost: Loss = { requests: 0, from: '', to: '', reason };
      for (const id of ids) {
        const p = this.pending.get(id);
        if (!p) continue;
        this.waiting.settle(p.chars, stored);
        this.pending.delete(id);
        p.done();
        if (stored || !p.rows.requests) continue;
        if (!lost.requests) lost.from = p.rows.from;
        lost.requests += p.rows.requests;
        lost.to = p.rows.to;
      }
      this.losses.say(lost);
      if (!mine().length) worker.unref();
    };
    worker.on('message', (result: LogBatchResult) => {
      // The log must never break provisioning; a refused commit is reported and its rows dropped.
      if (result.ok) return settle(result.ids, true);
      if (!result.rows) process.emitWarning(`provisioning log: could not prune past retention: ${result.error}`);
      this.prune.missed();
      settle(result.ids, false, result.error);
    });
    // Stopped (an error, or close()): what it had not committed is lost; a thread started since keeps its own.
    const stopped = (err: unknown) => {
      if (this.worker === worker) this.worker = null;
      const lost = mine();
      if (lost.some(([, p]) => p.rows.requests)) this.prune.missed();
      settle(lost.map(([id]) => id), false, err instanceof Error ? err.message : String(err));
    };
    worker.on('error', stopped);
    worker.on('exit', (code) => stopped(new Error(`the log's writer thread stopped (exit code ${code})`)));
    return worker;
  }
}

const writers = new WeakMap<object, ProvisioningLogWriter>();

export function logWriter(db: Kysely<DB>, retentionDays: () => number): ProvisioningLogWriter {
  let w = writers.get(db);
  if (!w) {
    const file = provisioningLogFileOf(db);
    const losses = new Losses(db);
    w = file ? new ThreadWriter(file, retentionDays, losses) : new TransactionWriter(provisioningLogDbOf(db), retentionDays, losses);
    writers.set(db, w);
  }
  return w;
}

export async function flushProvisioningLog(db: Kysely<DB>): Promise<void> {
  await writers.get(db)?.flush();
}

/**
 * How long a list waits for the rows this process has queued to be stored before it answers without
 * them. Another process can hold the log for longer than a commit: on SQLite any process with the
 * log's file locked (the `sqlite3` shell in a transaction, say), on PostgreSQL a session holding a lock
 * on the table. The writer waits for it (SQLite's for up to 30 s), and the page would wait as long.
 * Settable for tests.
 */
export const listLimits = { flushWaitMs: 2_000 };

/** Flushes this process's queued rows; false when they were not all stored within `ms` (they still will be). */
async function flushedWithin(db: Kysely<DB>, ms: number): Promise<boolean> {
  const writer = writers.get(db);
  return writer ? settledWithin(writer.flush(), ms) : true;
}

export interface LogQuery {
  q?: string;
  /** 'success' (< 400), 'failure' (>= 400), or an HTTP status such as '409' */
  status?: string;
  /** 'User' | 'Group' | … */
  resource?: string;
  limit?: number | string;
  cursor?: string;
}

export interface LogItem {
  id: number;
  at: string;
  client: string | null;
  method: string;
  path: string;
  status: number;
  durationMs: number;
  summary: string;
  resourceType: string | null;
  resourceId: string | null;
  userName: string | null;
  error: string | null;
  requestBody: string | null;
  responseBody: string | null;
}

/** The id a cursor continues below (decodeCursor: a 400 naming cursor unless it is one safe integer). */
function cursorId(query: LogQuery): number | null {
  return decodeCursor(query.cursor, ['integer'])?.[0] ?? null;
}

/** The status filter, or a 400 naming what it accepts. */
function statusRange(query: LogQuery): { from: number; below: number } {
  const status = (query.status ?? '').trim().toLowerCase();
  let from = 0;
  let below = 1000;
  if (status === 'success' || status === 'ok') below = 400;
  else if (status === 'failure' || status === 'error' || status === 'failed') from = 400;
  else if (/^\d{3}$/.test(status)) [from, below] = [Number(status), Number(status) + 1];
  else if (/^\dxx$/.test(status)) [from, below] = [Number(status[0]) * 100, Number(status[0]) * 100 + 100];
  else if (status) throw Invalid(`Unknown status filter "${status.slice(0, 40)}"`, { status: 'success, failure, an HTTP status such as 409, or a class such as 4xx' });
  return { from, below };
}

/**
 * The rows a log query asks for, newest first, one more than `limit` (it tells whether a next page
 * exists); with `window`, only rows whose id is at least `floor` and below `below` (not the cursor's).
 */
export function provisioningLogQuery(db: Kysely<DB>, query: LogQuery, limit: number, window?: { below: number; floor: number }) {
  let q = db.selectFrom('provisioning_log').selectAll();
  const before = window ? window.below : cursorId(query);
  if (before !== null) q = q.where('id', '<', before);
  if (window) q = q.where('id', '>=', window.floor);
  const { from, below } = statusRange(query);
  // Failures are read through their partial index (migration 014). The index's condition is written
  // out as a literal: with only `status = ?` (a code such as 409), SQLite, at a million rows, walked
  // the whole log instead (175-741 ms against 0.5 ms).
  if (from >= 400) q = q.where(sql<boolean>`status >= 400`);
  if (from > 0 && from !== 400) q = q.where('status', '>=', from);
  if (below < 1000) q = q.where('status', '<', below);
  if (query.resource) q = q.where(ilike(db, 'resource_type', likeEscape(query.resource)));
  if (query.q && query.q.trim()) {
    const pattern = `%${likeEscape(query.q.trim())}%`;
    q = q.where((eb) => eb.or([ilike(db, 'summary', pattern), ilike(db, 'user_name', pattern), ilike(db, 'path', pattern), ilike(db, 'client', pattern), ilike(db, 'resource_id', pattern)]));
  }
  return q.orderBy('id', 'desc').limit(limit + 1);
}

/**
 * A text search has no index (see docs/scim.md): when it matches little, it would read the whole log
 * in one request. It reads the log instead in windows of `windowRows` ids, newest first, until a page
 * is full, the log ends, or `budgetMs` have passed, and then answers with what it found, how far back
 * it searched (`searchedTo`) and a cursor to search on from there. Failure filters read their index
 * and need no windows. Settable for tests.
 */
export const searchLimits = { windowRows: 50_000, budgetMs: 500 };

export interface LogPage {
  items: LogItem[];
  nextCursor: string | null;
  /** Set when the search stopped before the end of the log: the time of the oldest request it read. */
  searchedTo?: string;
  /**
   * Set when requests this server logged were not yet stored when the page was read (the log was held
   * by another process for longer than listLimits.flushWaitMs): they are not lost, and show once stored.
   */
  stillWriting?: true;
}

/** What GET /api/provisioning-log answers: a page and how long requests are kept (PROVISIONING_LOG_DAYS). */
export interface LogAnswer extends LogPage {
  retentionDays: number;
}

export async function listProvisioningLog(database: Kysely<DB>, query: LogQuery): Promise<LogPage> {
  const stored = await flushedWithin(database, listLimits.flushWaitMs);
  const page = await readProvisioningLog(database, query);
  return stored ? page : { ...page, stillWriting: true };
}

async function readProvisioningLog(database: Kysely<DB>, query: LogQuery): Promise<LogPage> {
  const db = provisioningLogDbOf(database);
  const limit = clampLimit(query.limit);
  if (!query.q?.trim() || statusRange(query).from >= 400) {
    const rows = await provisioningLogQuery(db, query, limit).execute();
    const items = rows.slice(0, limit).map(toItem);
    return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
  }
  const before = cursorId(query);
  const [ends] = await db
    .selectNoFrom((eb) => [eb.selectFrom('provisioning_log').select((e) => e.fn.min('id').as('id')).as('first'), eb.selectFrom('provisioning_log').select((e) => e.fn.max('id').as('id')).as('last')])
    .execute();
  const first = Number(ends.first ?? 0);
  let upper = Math.min(before ?? Infinity, Number(ends.last ?? 0) + 1);
  const started = Date.now();
  const rows: Selectable<ProvisioningLogTable>[] = [];
  while (rows.length <= limit && upper > first) {
    const floor = Math.max(first, upper - searchLimits.windowRows);
    rows.push(...(await provisioningLogQuery(db, query, limit - rows.length, { below: upper, floor }).execute()));
    upper = floor;
    if (Date.now() - started >= searchLimits.budgetMs) break;
  }
  const items = rows.slice(0, limit).map(toItem);
  if (rows.length > limit) return { items, nextCursor: encodeCursor([items[items.length - 1].id]) };
  if (upper <= first) return { items, nextCursor: null };
  const oldest = await db.selectFrom('provisioning_log').select('at').where('id', '>=', upper).orderBy('id').limit(1).executeTakeFirst();
  return { items, nextCursor: encodeCursor([upper]), searchedTo: oldest?.at };
}

function toItem(r: Selectable<ProvisioningLogTable>): LogItem {
  return {
    id: Number(r.id),
    at: r.at,
    client: r.client,
    method: r.method,
    path: r.path,
    status: r.status,
    durationMs: Number(r.duration_ms),
    summary: r.summary,
    resourceType: r.resource_type,
    resourceId: r.resource_id,
    userName: r.user_name,
    error: r.error,
    requestBody: r.request_body,
    responseBody: r.response_body,
  };
}
