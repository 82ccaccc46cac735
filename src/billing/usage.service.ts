// Usage ingestion, by API (single or batch) and by CSV upload. Each record carries an idempotency key
// (unique in the table): a retried upload inserts nothing new and answers with the original records.
// A record is refused when its account or identifier is unknown, or when its time falls in a period
// already invoiced for that account (late usage would otherwise never be billed, silently).
// API batches are all-or-nothing on validation (400 with per-record field messages); CSV uploads keep
// good rows and report every bad row with its line number, nothing dropped silently.
import { hash, randomUUID } from 'node:crypto';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isPostgres } from '../db/dialect.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Invalid, NotFound } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { TIME_HINT, normaliseTime, nowIso } from '../platform/time.ts';
import { timeRangeParams } from '../platform/time-query.ts';
import { parseCsv } from './csv.ts';
import { after } from './keyset.ts';
import { USAGE_IDENTIFIER_RE, knownUsageIdentifiers } from './products.service.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface UsageInput {
  accountId?: string;
  accountNumber?: string;
  identifier: string;
  quantity: number;
  /** ISO 8601 timestamp with zone, or a date (midnight UTC) */
  occurredAt: string;
  idempotencyKey: string;
}

export interface UsageRecord {
  id: number;
  accountId: string;
  identifier: string;
  quantity: number;
  occurredAt: string;
  idempotencyKey: string;
  uploadId: string | null;
  createdAt: string;
}

export interface Row {
  account_id: string;
  identifier: string;
  quantity: number;
  occurred_at: string;
  idempotency_key: string;
  upload_id: string | null;
  created_at: string;
}

export interface RowError {
  index: number;
  field: string;
  message: string;
}

const toRecord = (r: Row & { id: number | string }): UsageRecord => ({
  id: Number(r.id),
  accountId: r.account_id,
  identifier: r.identifier,
  quantity: Number(r.quantity),
  occurredAt: r.occurred_at,
  idempotencyKey: r.idempotency_key,
  uploadId: r.upload_id,
  createdAt: r.created_at,
});

/** Validates records against the database; returns rows ready to insert (by input index) and errors. */
async function validate(db: Db, records: UsageInput[], uploadId: string | null): Promise<{ rows: Map<number, Row>; errors: RowError[] }> {
  const errors: RowError[] = [];
  const rows = new Map<number, Row>();
  const ids = new Set<string>();
  const numbers = new Set<string>();
  for (const r of records) {
    if (r.accountId) ids.add(r.accountId);
    else if (r.accountNumber) numbers.add(r.accountNumber);
  }
  const accounts = ids.size || numbers.size
    ? await db.selectFrom('accounts').select(['id', 'number', 'status'])
        .where((eb) => eb.or([...(ids.size ? [eb('id', 'in', [...ids])] : []), ...(numbers.size ? [eb('number', 'in', [...numbers])] : [])]))
        .execute()
    : [];
  if (accounts.length && isPostgres(db)) {
    // Share-lock the accounts until commit: a bill run (FOR UPDATE) either finishes first, and the
    // invoiced-period check below sees its invoice, or waits for this batch and bills it.
    await db.selectFrom('accounts').select('id').where('id', 'in', accounts.map((a) => a.id)).orderBy('id').forShare().execute();
  }
  const byId = new Map(accounts.map((a) => [a.id, a]));
  const byNumber = new Map(accounts.map((a) => [a.number, a]));
  const known = await knownUsageIdentifiers(db);
  const now = nowIso();
  let earliest = '9999';
  // Batches repeat timestamps (a meter flushes many records per second): parse each distinct one once.
  const times = new Map<string, ReturnType<typeof normaliseTime>>();
  const timeOf = (s: string) => {
    let v = times.get(s);
    if (v === undefined) times.set(s, (v = normaliseTime(s)));
    return v;
  };
  records.forEach((r, index) => {
    const fail = (field: string, message: string) => errors.push({ index, field, message });
    const acct = r.accountId ? byId.get(r.accountId) : r.accountNumber ? byNumber.get(r.accountNumber) : undefined;
    const before = errors.length;
    if (!r.accountId && !r.accountNumber) fail('accountNumber', 'Give the account number or id');
    else if (!acct) fail(r.accountId ? 'accountId' : 'accountNumber', `No account ${r.accountId ?? r.accountNumber}`);
    else if (acct.status === 'closed') fail(r.accountId ? 'accountId' : 'accountNumber', `Account ${acct.number} is closed`);
    if (!USAGE_IDENTIFIER_RE.test(r.identifier ?? '')) fail('identifier', 'Use lower-case letters, digits, _ . - (e.g. api_calls)');
    else if (!known.has(r.identifier)) fail('identifier', `No product prices usage "${r.identifier}"`);
    if (typeof r.quantity !== 'number' || !Number.isSafeInteger(r.quantity) || r.quantity < 0) fail('quantity', 'Enter a whole number, zero or more');
    const time = typeof r.occurredAt === 'string' ? timeOf(r.occurredAt) : { error: TIME_HINT };
    const at = 'at' in time ? time.at : null;
    if ('error' in time) fail('occurredAt', time.error);
    if (typeof r.idempotencyKey !== 'string' || !r.idempotencyKey.trim() || r.idempotencyKey.length > 200) fail('idempotencyKey', 'Give each record a unique key (1–200 characters)');
    if (errors.length === before) {
      rows.set(index, { account_id: acct!.id, identifier: r.identifier, quantity: r.quantity, occurred_at: at!, idempotency_key: r.idempotencyKey, upload_id: uploadId, created_at: now });
      if (at! < earliest) earliest = at!;
    }
  });
  if (rows.size) {
    // Usage inside an invoiced period would never be billed: refuse it rather than lose it.
    const accountIds = [...new Set([...rows.values()].map((r) => r.account_id))];
    const billed = await db.selectFrom('invoices').select(['account_id', 'period_start', 'period_end', 'number', 'status'])
      .where('account_id', 'in', accountIds).where('status', '<>', 'void').where('period_end', '>', earliest.slice(0, 10)).execute();
    if (billed.length) {
      const byAccount = new Map<string, typeof billed>();
      for (const b of billed) byAccount.set(b.account_id, [...(byAccount.get(b.account_id) ?? []), b]);
      for (const [index, row] of rows) {
        const hit = byAccount.get(row.account_id)?.find((b) => row.occurred_at >= b.period_start && row.occurred_at < b.period_end);
        if (hit) {
          rows.delete(index);
          errors.push({ index, field: 'occurredAt', message: `Period ${hit.period_start} to ${hit.period_end} is already invoiced (${hit.number ?? 'draft'})` });
        }
      }
    }
  }
  errors.sort((a, b) => a.index - b.index);
  return { rows, errors };
}

const INSERT_COLUMNS = ['account_id', 'identifier', 'quantity', 'occurred_at', 'idempotency_key', 'upload_id', 'created_at'] as const;
const sqlCache = new Map<string, string>();

/**
 * `insert … values (…),(…) on conflict (idempotency_key) do nothing [returning id, idempotency_key]`
 * for n rows (`upsert`: true with RETURNING, 'ignore' without, false a plain insert). Built as text once per (dialect, n): composing a 7,000-parameter insert through the
 * query builder's AST costs more than the database spends storing the rows (see docs/billing.md).
 */
export function batchInsertSql(pg: boolean, n: number, table = 'usage_records', upsert: boolean | 'ignore' = true): string {
  const key = `${pg}|${n}|${table}|${upsert}`;
  let text = sqlCache.get(key);
  if (!text) {
    const w = INSERT_COLUMNS.length;
    const groups: string[] = [];
    for (let i = 0; i < n; i++) {
      const ph: string[] = [];
      for (let j = 0; j < w; j++) ph.push(pg ? `$${i * w + j + 1}` : '?');
      groups.push(`(${ph.join(',')})`);
    }
    const tail = upsert === 'ignore' ? ' on conflict (idempotency_key) do nothing' : upsert ? ' on conflict (idempotency_key) do nothing returning id, idempotency_key' : '';
    text = `insert into ${table} (${INSERT_COLUMNS.join(', ')}) values ${groups.join(',')}${tail}`;
    if (sqlCache.size > 64) sqlCache.clear();
    sqlCache.set(key, text);
  }
  return text;
}

export function batchParams(rows: Row[]): unknown[] {
  const params: unknown[] = new Array(rows.length * INSERT_COLUMNS.length);
  let k = 0;
  for (const r of rows) {
    params[k++] = r.account_id;
    params[k++] = r.identifier;
    params[k++] = r.quantity;
    params[k++] = r.occurred_at;
    params[k++] = r.idempotency_key;
    params[k++] = r.upload_id;
    params[k++] = r.created_at;
  }
  return params;
}

/**
 * PostgreSQL: the whole batch as seven array parameters (`unnest`), instead of 7 parameters per row:
 * a 14,000-parameter statement costs more to send, parse and plan than to execute.
 */
const PG_UNNEST_INSERT = `insert into usage_records (${INSERT_COLUMNS.join(', ')}) select * from unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[]) on conflict (idempotency_key) do nothing returning id, idempotency_key`;

function columnArrays(rows: Row[]): unknown[][] {
  const cols: unknown[][] = INSERT_COLUMNS.map(() => new Array(rows.length));
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    cols[0][i] = r.account_id;
    cols[1][i] = r.identifier;
    cols[2][i] = r.quantity;
    cols[3][i] = r.occurred_at;
    cols[4][i] = r.idempotency_key;
    cols[5][i] = r.upload_id;
    cols[6][i] = r.created_at;
  }
  return cols;
}

/**
 * Inserts one chunk, skipping existing keys; returns the id of each row it created, by key.
 * SQLite: RETURNING makes the multi-row insert ~30% slower there (measured, docs/billing.md), so the
 * common case (every key new) inserts without it and reads the new rows back by rowid: the transaction
 * holds SQLite's only write lock, and a statement that skipped nothing allocates consecutive rowids
 * ending at lastInsertRowid. That is checked, not assumed: the read-back must find exactly one row per
 * record, each with a key from this chunk, or the batch fails and rolls back. When some keys already
 * exist (a retried upload), skipped rows leave gaps in the rowids, so the chunk is undone to a
 * savepoint and inserted again with RETURNING.
 */
async function insertChunk(trx: Db, chunk: Row[]): Promise<Map<string, number>> {
  const created = new Map<string, number>();
  const returning = async () => {
    const res = await trx.executeQuery<{ id: number | string; idempotency_key: string }>(
      isPostgres(trx) ? CompiledQuery.raw(PG_UNNEST_INSERT, columnArrays(chunk)) : CompiledQuery.raw(batchInsertSql(false, chunk.length), batchParams(chunk)),
    );
    for (const c of res.rows) created.set(c.idempotency_key, Number(c.id));
    return created;
  };
  if (isPostgres(trx)) return returning();
  await trx.executeQuery(CompiledQuery.raw('savepoint usage_chunk'));
  const res = await trx.executeQuery(CompiledQuery.raw(batchInsertSql(false, chunk.length, 'usage_records', 'ignore'), batchParams(chunk)));
  const changes = Number(res.numAffectedRows ?? 0n);
  if (changes === 0 || changes !== chunk.length) {
    // Nothing new (nothing to undo), or a mix of new and existing keys.
    await trx.executeQuery(CompiledQuery.raw(changes ? 'rollback to usage_chunk' : 'release usage_chunk'));
    if (!changes) return created;
    await trx.executeQuery(CompiledQuery.raw('release usage_chunk'));
    return returning();
  }
  await trx.executeQuery(CompiledQuery.raw('release usage_chunk'));
  const last = Number(res.insertId);
  const back = await trx.executeQuery<{ id: number; idempotency_key: string }>(CompiledQuery.raw('select id, idempotency_key from usage_records where id > ? and id <= ?', [last - changes, last]));
  const keys = new Set(chunk.map((r) => r.idempotency_key));
  for (const c of back.rows) {
    if (!keys.has(c.idempotency_key)) break;
    created.set(c.idempotency_key, Number(c.id));
  }
  if (created.size !== changes) throw new Error(`usage insert: ${changes} rows inserted but ${created.size} read back by id; batch rolled back`);
  return created;
}

/** Inserts rows, skipping existing keys; returns the stored record for every row (the original for duplicates). */
async function insertRows(trx: Db, rows: Row[]): Promise<{ records: Map<string, UsageRecord>; createdKeys: Set<string> }> {
  const createdKeys = new Set<string>();
  const records = new Map<string, UsageRecord>();
  const CHUNK = isPostgres(trx) ? 5000 : 1000;
  for (let i = 0; i < rows.length; i += CHUNK) {
    const chunk = rows.slice(i, i + CHUNK);
    const ids = await insertChunk(trx, chunk);
    for (const r of chunk) {
      const id = ids.get(r.idempotency_key);
      if (id !== undefined && !records.has(r.idempotency_key)) {
        createdKeys.add(r.idempotency_key);
        records.set(r.idempotency_key, { id, accountId: r.account_id, identifier: r.identifier, quantity: r.quantity, occurredAt: r.occurred_at, idempotencyKey: r.idempotency_key, uploadId: r.upload_id, createdAt: r.created_at });
      }
    }
    if (ids.size < chunk.length) {
      const missing = [...new Set(chunk.map((r) => r.idempotency_key).filter((k) => !records.has(k)))];
      if (missing.length) {
        const originals = await trx.selectFrom('usage_records').selectAll().where('idempotency_key', 'in', missing).execute();
        for (const o of originals) records.set(o.idempotency_key, toRecord(o));
      }
    }
  }
  return { records, createdKeys };
}

export interface IngestResult {
  created: number;
  duplicates: number;
  items: (UsageRecord & { duplicate: boolean })[];
}

/** API ingestion: every record valid or nothing stored (400 naming each bad field). */
export async function ingestUsage(db: Kysely<DB>, actor: Actor, records: UsageInput[], opts: { prefix?: string } = {}): Promise<IngestResult> {
  return db.transaction().execute(async (trx) => {
    const { rows, errors } = await validate(trx, records, null);
    if (errors.length) {
      const fields: Record<string, string> = {};
      for (const e of errors.slice(0, 100)) fields[opts.prefix === undefined ? `records.${e.index}.${e.field}` : `${opts.prefix}${e.field}`] = e.message;
      throw Invalid(errors.length === 1 ? errors[0].message : `${errors.length} usage records need attention`, fields);
    }
    const ordered = records.map((_, i) => rows.get(i)!);
    const { records: stored, createdKeys } = await insertRows(trx, ordered);
    const seen = new Set<string>();
    let created = 0;
    const items = ordered.map((r) => {
      const first = createdKeys.has(r.idempotency_key) && !seen.has(r.idempotency_key);
      seen.add(r.idempotency_key);
      if (first) created++;
      return { ...stored.get(r.idempotency_key)!, duplicate: !first };
    });
    if (created) await recordAudit(trx, actor, { action: 'usage.ingest', targetType: 'usage', summary: `recorded ${created} usage record${created === 1 ? '' : 's'}${items.length - created ? ` (${items.length - created} duplicates ignored)` : ''}`, details: { created, duplicates: items.length - created } });
    return { created, duplicates: items.length - created, items };
  });
}

const HEADER: Record<string, keyof UsageInput> = {
  account: 'accountNumber', accountnumber: 'accountNumber', accountno: 'accountNumber', accountid: 'accountId',
  identifier: 'identifier', usageidentifier: 'identifier', metric: 'identifier',
  quantity: 'quantity', qty: 'quantity',
  occurredat: 'occurredAt', timestamp: 'occurredAt', time: 'occurredAt', date: 'occurredAt',
  idempotencykey: 'idempotencyKey', key: 'idempotencyKey',
};

export interface UploadResult {
  id: string;
  fileName: string;
  totalRows: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; message: string; raw: string }[];
  createdAt: string;
}

export async function uploadUsageCsv(db: Kysely<DB>, actor: Actor, fileName: string, text: string): Promise<UploadResult> {
  const parsed = parseCsv(text);
  if (!parsed.length) throw Invalid('The file is empty', { file: 'The file has no header row' });
  const header = parsed[0].cells.map((h) => HEADER[h.toLowerCase().replace(/[^a-z]/g, '')]);
  const missing: string[] = [];
  if (!header.includes('accountNumber') && !header.includes('accountId')) missing.push('account_number');
  for (const [col, name] of [['identifier', 'identifier'], ['quantity', 'quantity'], ['occurredAt', 'occurred_at']] as const) if (!header.includes(col)) missing.push(name);
  if (missing.length) throw Invalid(`The header row lacks ${missing.join(', ')}`, { file: `Columns needed: account_number, identifier, quantity, occurred_at (and optionally idempotency_key); missing ${missing.join(', ')}` });

  const uploadId = randomUUID();
  const body = parsed.slice(1);
  const errors: { line: number; message: string; raw: string }[] = [];
  let accepted = 0;
  let duplicates = 0;
  const CHUNK = 1000;
  for (let i = 0; i < body.length; i += CHUNK) {
    const slice = body.slice(i, i + CHUNK);
    const inputs: UsageInput[] = [];
    const shapeErrors = new Map<number, string>();
    slice.forEach((row, j) => {
      const r: Record<string, string> = {};
      header.forEach((key, k) => {
        if (key) r[key] = (row.cells[k] ?? '').trim();
      });
      if (row.cells.length !== parsed[0].cells.length) shapeErrors.set(j, `Expected ${parsed[0].cells.length} columns, found ${row.cells.length}`);
      const qty = /^\d+$/.test(r.quantity ?? '') ? Number(r.quantity) : NaN;
      // Without a key column, a row's content is its key: uploading the same file twice counts nothing twice.
      const key = r.idempotencyKey || 'csv:' + hash('sha256', [r.accountId ?? r.accountNumber, r.identifier, r.quantity, r.occurredAt].join('\u0000'), 'base64url');
      inputs.push({ accountId: r.accountId || undefined, accountNumber: r.accountNumber || undefined, identifier: r.identifier ?? '', quantity: qty, occurredAt: r.occurredAt ?? '', idempotencyKey: key });
    });
    await db.transaction().execute(async (trx) => {
      const { rows, errors: errs } = await validate(trx, inputs, uploadId);
      for (const j of shapeErrors.keys()) rows.delete(j);
      const messages = new Map<number, string[]>();
      for (const [j, m] of shapeErrors) messages.set(j, [m]);
      for (const e of errs) if (!shapeErrors.has(e.index)) messages.set(e.index, [...(messages.get(e.index) ?? []), `${e.field}: ${e.message}`]);
      for (const [j, ms] of [...messages].sort((a, b) => a[0] - b[0])) errors.push({ line: slice[j].line, message: ms.join('; '), raw: slice[j].raw.slice(0, 1000) });
      const good = [...rows.entries()].sort((a, b) => a[0] - b[0]).map(([, r]) => r);
      if (good.length) {
        const { createdKeys } = await insertRows(trx, good);
        accepted += createdKeys.size;
        duplicates += good.length - createdKeys.size;
      }
    });
  }
  const createdAt = nowIso();
  await db.transaction().execute(async (trx) => {
    await trx.insertInto('usage_uploads').values({ id: uploadId, file_name: fileName, total_rows: body.length, accepted, duplicates, rejected: errors.length, created_by: actor.name, created_at: createdAt }).execute();
    for (let i = 0; i < errors.length; i += 500) {
      await trx.insertInto('usage_upload_errors').values(errors.slice(i, i + 500).map((e) => ({ upload_id: uploadId, row_number: e.line, message: e.message, raw: e.raw }))).execute();
    }
    await recordAudit(trx, actor, { action: 'usage.upload', targetType: 'usage_upload', targetId: uploadId, targetName: fileName, summary: `uploaded ${fileName}: ${accepted} accepted, ${duplicates} duplicates, ${errors.length} rejected`, details: { rows: body.length, accepted, duplicates, rejected: errors.length } });
  });
  return { id: uploadId, fileName, totalRows: body.length, accepted, duplicates, rejected: errors.length, errors, createdAt };
}

export async function getUpload(db: Db, id: string): Promise<UploadResult> {
  const u = await db.selectFrom('usage_uploads').selectAll().where('id', '=', id).executeTakeFirst();
  if (!u) throw NotFound('No such upload');
  const errs = await db.selectFrom('usage_upload_errors').selectAll().where('upload_id', '=', id).orderBy('row_number').execute();
  return { id: u.id, fileName: u.file_name, totalRows: u.total_rows, accepted: u.accepted, duplicates: u.duplicates, rejected: u.rejected, createdAt: u.created_at, errors: errs.map((e) => ({ line: e.row_number, message: e.message, raw: e.raw })) };
}

export async function listUploads(db: Db, query: { limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text', 'text']);
  let qb = db.selectFrom('usage_uploads').selectAll();
  if (cur) qb = qb.where((eb) => after(eb, ['created_at', 'id'], cur, 'desc'));
  const rows = await qb.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.created_at, r.id]);
  return { items: p.items.map((u) => ({ id: u.id, fileName: u.file_name, totalRows: u.total_rows, accepted: u.accepted, duplicates: u.duplicates, rejected: u.rejected, createdBy: u.created_by, createdAt: u.created_at })), nextCursor: p.nextCursor };
}

export interface UsageListQuery {
  accountId?: string;
  identifier?: string;
  /** [from, to): each a day (its midnight UTC) or an ISO time with its zone */
  from?: string;
  to?: string;
  q?: string;
  limit?: number;
  cursor?: string;
}

export async function listUsage(db: Db, query: UsageListQuery) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['integer']);
  const range = timeRangeParams(query, 'exclusive');
  let qb = db.selectFrom('usage_records as u').innerJoin('accounts as a', 'a.id', 'u.account_id').selectAll('u').select(['a.number as account_number', 'a.name as account_name']);
  if (query.accountId) qb = qb.where('u.account_id', '=', query.accountId);
  if (query.identifier) qb = qb.where('u.identifier', '=', query.identifier);
  if (range.from) qb = qb.where('u.occurred_at', '>=', range.from);
  if (range.to) qb = qb.where('u.occurred_at', '<', range.to);
  if (query.q?.trim()) qb = qb.where((eb) => eb.or([eb('u.idempotency_key', '=', query.q!.trim()), eb('a.number', '=', query.q!.trim())]));
  if (cur) qb = qb.where((eb) => after(eb, ['u.id'], cur, 'desc'));
  const rows = await qb.orderBy('u.id', 'desc').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [Number(r.id)]);
  return { items: p.items.map((r) => ({ ...toRecord(r), accountNumber: r.account_number, accountName: r.account_name })), nextCursor: p.nextCursor };
}
