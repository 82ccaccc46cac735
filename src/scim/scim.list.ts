// List queries shared by /Users and /Groups: query-string or /.search body → parameters, index
// paging (startIndex/count, RFC 7644 §3.4.2.4) and cursor paging (RFC 9865) over the stable order
// (created, id), and the ListResponse envelope.
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { badRequest } from './scim.errors.ts';
import { createHash } from 'node:crypto';
import { isCursorText } from '../platform/paging.ts';
import { getProp } from './filter.eval.ts';
import { parseFilter, type Filter } from './filter.parser.ts';
import { parseProjection, type Projection } from './scim.projection.ts';
import { URN, type ResourceKind } from './scim.schemas.ts';

export const DEFAULT_COUNT = 100;
export const MAX_COUNT = 1000;

export interface ListParams {
  filter?: Filter;
  filterText?: string;
  sortBy?: string;
  descending: boolean;
  startIndex: number;
  count: number;
  /** null: index paging; '' : first cursor page; otherwise the cursor sent. */
  cursor: string | null;
  /** With a cursor: what the list is (resource type, filter, sort), which a cursor is issued for. */
  shape?: string;
  projection: Projection;
}

/**
 * A parameter's value, from a query string or a /.search body. A body can hold any JSON there; only
 * a string, number or boolean is a value (an object or a list of objects was a 500). A parameter
 * given twice in a query, or as a list in a body, is refused: the last one was taken, so
 * `"count": [1, 2]` or `?filter=a&filter=b` ran a query the client had not asked for.
 */
function scalar(v: unknown, name: string): string | number | boolean | undefined {
  if (Array.isArray(v)) throw badRequest(`${name} may be given only once, as one value (it came as a list of ${v.length})`, 'invalidValue');
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  throw badRequest(`${name} must be a string or a number`, 'invalidValue');
}

function intParam(raw: unknown, name: string): number | undefined {
  const v = scalar(raw, name);
  const text = typeof v === 'string' ? v.trim() : v;
  if (text === undefined || text === '') return undefined;
  // A decimal number in a string (1e308 too: an empty page); Number() alone also read "0x10" as 16.
  const n = typeof text === 'number' ? text : typeof text === 'string' && /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || !Number.isInteger(n)) throw badRequest(`${name} must be a whole number`, 'invalidValue');
  return n;
}

function one(raw: unknown, name: string): string | undefined {
  const v = scalar(raw, name);
  return v === undefined ? undefined : String(v);
}

/** `attributes` / `excludedAttributes`: a comma-separated string, or a list of them (repeated in a query; an array in /.search). */
function names(v: unknown, name: string): string | string[] | undefined {
  if (v === undefined || v === null || typeof v === 'string') return v ?? undefined;
  if (Array.isArray(v) && v.every((e) => typeof e === 'string')) return v as string[];
  throw badRequest(`${name} must be a string or a list of strings (attribute names)`, 'invalidValue');
}

/** From a GET query string or a POST /.search body (RFC 7644 §3.4.3). */
export function listParams(kind: ResourceKind, src: Record<string, unknown>): ListParams {
  const filterText = one(getProp(src, 'filter'), 'filter');
  const filter = filterText !== undefined && filterText.trim() !== '' ? parseFilter(filterText) : undefined;
  // Below 1 means 1 (RFC 7644 §3.4.2.4); past the end is an empty page, however far past.
  const startIndex = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, intParam(getProp(src, 'startIndex'), 'startIndex') ?? 1));
  const count = Math.min(MAX_COUNT, Math.max(0, intParam(getProp(src, 'count'), 'count') ?? DEFAULT_COUNT));
  const sortOrder = one(getProp(src, 'sortOrder'), 'sortOrder');
  if (sortOrder && !/^(ascending|descending)$/i.test(sortOrder)) throw badRequest('sortOrder must be "ascending" or "descending"', 'invalidValue');
  const cursorRaw = getProp(src, 'cursor');
  const sortBy = one(getProp(src, 'sortBy'), 'sortBy') || undefined;
  const attrs = names(getProp(src, 'attributes'), 'attributes');
  const excl = names(getProp(src, 'excludedAttributes'), 'excludedAttributes');
  return {
    filter,
    filterText,
    sortBy,
    descending: /^descending$/i.test(sortOrder ?? ''),
    startIndex,
    count,
    cursor: cursorRaw === undefined ? null : (one(cursorRaw, 'cursor') ?? ''),
    shape: cursorRaw === undefined ? undefined : listShape(kind, filterText, sortBy, sortOrder),
    projection: parseProjection(kind, attrs, excl),
  };
}

/**
 * A short digest of what a cursor walks: a cursor sent with another filter, sort or resource type
 * is refused (RFC 9865's invalidCursor), where it went on silently, from the first page or from
 * a position in another order.
 */
function listShape(kind: ResourceKind, filterText: string | undefined, sortBy: string | undefined, sortOrder: string | undefined): string {
  const text = JSON.stringify([kind, filterText?.trim() ?? '', sortBy?.toLowerCase() ?? '', /^descending$/i.test(sortOrder ?? '')]);
  return createHash('sha256').update(text).digest('base64url').slice(0, 8);
}

export type CursorKey = { k: 'key'; created: string; id: string } | { k: 'offset'; offset: number };

/** `[created, id, shape]` or `[offset, shape]`, as base64url JSON. */
export function encodeScimCursor(c: CursorKey, shape: string): string {
  return Buffer.from(JSON.stringify(c.k === 'key' ? [c.created, c.id, shape] : [c.offset, shape])).toString('base64url');
}

/** A cursor sent with a list of `shape`. Cursors issued before they named theirs (no shape) are taken as they were. */
export function decodeScimCursor(s: string, shape: string | undefined): CursorKey {
  let c: { key: CursorKey; shape?: string } | undefined;
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
    const tail = (i: number) => (v.length === i ? undefined : v.length === i + 1 && typeof v[i] === 'string' ? (v[i] as string) : null);
    // Text as the /api cursors take it (no NUL, no lone surrogate: PostgreSQL refused the NUL with a 500).
    if (Array.isArray(v) && isCursorText(v[0]) && isCursorText(v[1]) && tail(2) !== null) c = { key: { k: 'key', created: v[0], id: v[1] }, shape: tail(2) ?? undefined };
    else if (Array.isArray(v) && Number.isSafeInteger(v[0]) && v[0] >= 0 && tail(1) !== null) c = { key: { k: 'offset', offset: v[0] }, shape: tail(1) ?? undefined };
  } catch {
    /* below */
  }
  if (!c) throw badRequest('The cursor is not valid', 'invalidCursor');
  if (c.shape !== undefined && shape !== undefined && c.shape !== shape) {
    throw badRequest('The cursor was issued for another list (another filter, sortBy, sortOrder or resource type); start again with cursor=', 'invalidCursor');
  }
  return c.key;
}

/** `(created_at, id) > (c, i)` on the given table: the keyset condition after a cursor. */
/**
 * Where a page starts. A cursor on an unsorted list is a keyset position (`created, id`), so deep pages
 * cost the same as the first; startIndex, and cursors issued for a sorted list, are offsets.
 */
export function pageStart(p: ListParams, sorted: boolean): { offset: number; cursorKey: { created: string; id: string } | null; keyset: boolean } {
  let offset = p.startIndex - 1;
  let cursorKey: { created: string; id: string } | null = null;
  if (p.cursor) {
    const c = decodeScimCursor(p.cursor, p.shape);
    if (c.k === 'key') cursorKey = c;
    else offset = c.offset;
  }
  const keyset = p.cursor !== null && !sorted;
  return { offset: keyset ? 0 : offset, cursorKey, keyset };
}

export function afterKey(table: string, c: { created: string; id: string }, descending: boolean): RawBuilder<SqlBool> {
  const cols = sql`(${sql.ref(`${table}.created_at`)}, ${sql.ref(`${table}.id`)})`;
  return descending ? sql<SqlBool>`${cols} < (${c.created}, ${c.id})` : sql<SqlBool>`${cols} > (${c.created}, ${c.id})`;
}

export function listResponse(resources: unknown[], p: ListParams, total: number | null, nextCursor: string | null): Record<string, unknown> {
  const body: Record<string, unknown> = { schemas: [URN.list] };
  if (total !== null) body.totalResults = total;
  body.itemsPerPage = resources.length;
  if (p.cursor === null) body.startIndex = p.startIndex;
  else if (nextCursor) body.nextCursor = nextCursor;
  body.Resources = resources;
  return body;
}

/**
 * The end of a list request, shared by Users and Groups: `rows` as fetched (one more than the page
 * size tells whether a next page exists), cut to the page; `totalResults` from the page itself when
 * it is known (the last page of a startIndex walk, a single cursor page), from `count()` otherwise
 * (omitted on later cursor pages, as RFC 9865 allows); and the next cursor.
 */
export async function finishPage<R extends { created_at: string; id: string }>(
  p: ListParams,
  start: ReturnType<typeof pageStart>,
  fetched: R[],
  count: () => Promise<number>,
): Promise<{ rows: R[]; total: number | null; next: string | null }> {
  const { offset, cursorKey, keyset } = start;
  const more = fetched.length > p.count;
  const rows = fetched.slice(0, p.count);
  let total: number | null;
  // count=0 asks for the total alone, with a cursor too (it answered 0, the rows of an empty page).
  if (p.cursor !== null) total = p.count === 0 ? await count() : !more && !cursorKey && offset === 0 ? rows.length : null;
  else if (!more && (rows.length > 0 || offset === 0) && p.count > 0) total = offset + rows.length;
  else total = await count();
  let next: string | null = null;
  if (p.cursor !== null && more) {
    const last = rows[rows.length - 1];
    const at: CursorKey = keyset ? { k: 'key', created: last.created_at, id: last.id } : { k: 'offset', offset: offset + rows.length };
    next = encodeScimCursor(at, p.shape ?? '');
  }
  return { rows, total, next };
}
