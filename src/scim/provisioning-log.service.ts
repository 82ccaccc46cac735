// The provisioning log: one row per SCIM request, what an admin reads when the IdP shows an error.
// Rows are queued and written in batches (one transaction per ~200 ms) so logging a lookup does not
// cost a durable commit per request; a crash can lose the last batch of log rows, never provisioning
// data. The list API flushes this process's queue first, so a single node reads its own writes.
// Retention: rows older than config.provisioningLogDays are pruned every few minutes, by index.
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { ProvisioningLogTable } from '../db/schema.scim.ts';
import { ilike, likeEscape } from '../db/dialect.ts';
import { precompiled } from './scim.precompiled.ts';
import { clampLimit, decodeCursor, encodeCursor } from '../platform/paging.ts';

export type LogRow = Omit<ProvisioningLogTable, 'id'>;

/** Bodies are stored masked and cut to this many characters. */
export const BODY_LIMIT = 8192;

export function boundedBody(text: string | null | undefined): string | null {
  if (text === null || text === undefined || text === '') return null;
  return text.length > BODY_LIMIT ? `${text.slice(0, BODY_LIMIT)}… [${text.length - BODY_LIMIT} more characters not kept]` : text;
}

const LOG_COLUMNS = ['at', 'client', 'method', 'path', 'status', 'duration_ms', 'summary', 'resource_type', 'resource_id', 'user_name', 'error', 'request_body', 'response_body'] as const;
// One prepared single-row insert, run once per row inside the batch's transaction.
const insertRow = precompiled((db, arg) =>
  db.insertInto('provisioning_log').values(Object.fromEntries(LOG_COLUMNS.map((c, i) => [c, arg(i)])) as unknown as LogRow),
);

const FLUSH_MS = 200;
const MAX_QUEUE = 500;
const PRUNE_EVERY_MS = 5 * 60_000;

class LogWriter {
  private queue: LogRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private lastPrune = 0;
  constructor(private readonly db: Kysely<DB>, private readonly retentionDays: () => number) {}

  add(row: LogRow): void {
    this.queue.push(row);
    if (this.queue.length >= MAX_QUEUE) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.flushing) await this.flushing;
    if (!this.queue.length) return;
    const rows = this.queue;
    this.queue = [];
    this.flushing = (async () => {
      try {
        await this.db.transaction().execute(async (trx) => {
          for (const r of rows) await insertRow(trx, ...LOG_COLUMNS.map((c) => r[c]));
        });
        if (Date.now() - this.lastPrune > PRUNE_EVERY_MS) {
          this.lastPrune = Date.now();
          const cutoff = new Date(Date.now() - this.retentionDays() * 86_400_000).toISOString();
          await this.db.deleteFrom('provisioning_log').where('at', '<', cutoff).execute();
        }
      } catch (err) {
        // The log must never break provisioning; report and drop the batch.
        process.emitWarning(`provisioning log: could not write ${rows.length} row(s): ${(err as Error).message}`);
      }
    })();
    try {
      await this.flushing;
    } finally {
      this.flushing = null;
    }
  }
}

const writers = new WeakMap<object, LogWriter>();

export function logWriter(db: Kysely<DB>, retentionDays: () => number): LogWriter {
  let w = writers.get(db);
  if (!w) {
    w = new LogWriter(db, retentionDays);
    writers.set(db, w);
  }
  return w;
}

export async function flushProvisioningLog(db: Kysely<DB>): Promise<void> {
  await writers.get(db)?.flush();
}

/** Deletes rows older than `days`; returns how many. */
export async function pruneProvisioningLog(db: Kysely<DB>, days: number): Promise<number> {
  const cutoff = new Date(Date.now() - days * 86_400_000).toISOString();
  const res = await db.deleteFrom('provisioning_log').where('at', '<', cutoff).executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
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

export async function listProvisioningLog(db: Kysely<DB>, query: LogQuery): Promise<{ items: LogItem[]; nextCursor: string | null }> {
  await flushProvisioningLog(db);
  const limit = clampLimit(query.limit);
  let q = db.selectFrom('provisioning_log').selectAll();
  const after = decodeCursor(query.cursor);
  if (after) q = q.where('id', '<', Number(after[0]));
  const status = (query.status ?? '').trim().toLowerCase();
  if (status === 'success' || status === 'ok') q = q.where('status', '<', 400);
  else if (status === 'failure' || status === 'error' || status === 'failed') q = q.where('status', '>=', 400);
  else if (/^\d{3}$/.test(status)) q = q.where('status', '=', Number(status));
  else if (/^\dxx$/.test(status)) q = q.where('status', '>=', Number(status[0]) * 100).where('status', '<', Number(status[0]) * 100 + 100);
  if (query.resource) q = q.where(ilike(db, 'resource_type', likeEscape(query.resource)));
  if (query.q && query.q.trim()) {
    const pattern = `%${likeEscape(query.q.trim())}%`;
    q = q.where((eb) => eb.or([ilike(db, 'summary', pattern), ilike(db, 'user_name', pattern), ilike(db, 'path', pattern), ilike(db, 'client', pattern), ilike(db, 'resource_id', pattern)]));
  }
  const rows = await q.orderBy('id', 'desc').limit(limit + 1).execute();
  const items = rows.slice(0, limit).map((r) => ({
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
  }));
  return { items, nextCursor: rows.length > limit ? encodeCursor([items[items.length - 1].id]) : null };
}
