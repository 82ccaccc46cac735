// SCIM Users over the `users` table (source 'idp'). Extracted, indexed columns (user_name_norm,
// external_id, display_name, email_norm, status, created/updated, version) are what filters and
// uniqueness use; `scim_attributes` keeps the rest as sent (canonical names), minus userName and
// active, which live in their columns. Every write runs in the caller's transaction.
import { hash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { UsersTable, UserStatus } from '../db/schema.identity.ts';
import { isPostgres } from '../db/dialect.ts';
import { noteRowsWritten } from '../db/fresh-statistics.ts';
import { AUDIT_COLUMNS, auditValues, recordAudit, type AuditEntry } from '../identity/audit.service.ts';
import { endSessionsForUser } from '../identity/sessions.service.ts';
import type { Actor } from '../platform/actor.ts';
import { isUniqueViolation } from '../platform/errors.ts';
import { nowIso } from '../platform/time.ts';
import { compileUserFilter, listGuarded, sortExpression, sortOrder } from './filter.sql.ts';
import { applyPatch, type PatchOperation } from './patch.engine.ts';
import { canonicalize, isObj, MAX_SEARCHABLE_LENGTH, primaryValue, searchableStr, storedAttributes, str, type Json, type Resource } from './scim.attributes.ts';
import { badRequest, conflict, notFound } from './scim.errors.ts';
import { checkPreconditions, etagOf, hasPreconditions, type Preconditions } from './scim.etags.ts';
import { afterKey, finishPage, pageStart, listResponse, type ListParams } from './scim.list.ts';
import { listPositionsOf, type ListKey } from './list-positions.ts';
import { project, wants, type Projection } from './scim.projection.ts';
import { isJsonObjectText, JsonMembers, MEMBERS_KEY, topLevelUrnKeys } from './json-text.ts';
import { schemasOf, URN } from './scim.schemas.ts';
import { placeholders, precompiled, runPgStatement } from '../db/precompiled.ts';
import { byKeyList, Coalescer, SerialBatcher, type Outcome as OutcomeOf } from '../db/coalesce.ts';
import { runWrite } from './scim.writes.ts';
import { uuidv7 } from '../platform/ids.ts';
import { forgetToken, tokenUsable, TokenRejected, type PresentedToken } from './scim-tokens.service.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface ScimCtx {
  db: Kysely<DB>;
  /** Absolute SCIM base URL, for meta.location. */
  baseUrl: string;
  actor: Actor;
  /** The request's token when it still has to be checked in this request (see verifyToken). */
  token?: PresentedToken;
}

/** What a write did, in words, for the provisioning log. */
export interface Outcome {
  summary: string;
  resourceId?: string;
  userName?: string;
}

const COLS = ['id', 'user_name', 'external_id', 'status', 'scim_attributes', 'version', 'created_at', 'updated_at'] as const;
type Row = { id: string; user_name: string; external_id: string | null; status: UserStatus; scim_attributes: string | null; version: number; created_at: string; updated_at: string };

type Groups = { value: string; display: string }[];

/**
 * A user's entity tag (meta.version, ETag). A user's resource lists their groups, by id and name, and
 * those change without a write to the user (a membership PATCH, a group renamed or deleted), so the
 * tag names them too: W/"<version>" for a user in no group, W/"<version>-<digest>" for one in groups,
 * the digest taken over the groups' ids and names in the order of their ids. Nothing is written to the
 * users whose groups change, so a membership change stays one row per member changed: moving each
 * member's version as well doubled the time of +100 members on PostgreSQL (3.2-4.6 -> 6.6-8.9 ms,
 * in-process, a group of 100,000), every member row taking a new version of its row and of its
 * indexes. meta.lastModified is the time the user's own attributes last changed.
 */
export function userEtag(version: number, groups: Groups): string {
  if (!groups.length) return etagOf(version);
  const named = groups.map((g) => `${g.value}\t${g.display}`).sort().join('\n');
  return `W/"${version}-${hash('sha1', named, 'base64url').slice(0, 12)}"`;
}

/** Whether a projection keeps an attribute that needs the user's groups: the groups themselves, or meta (its version names them). */
const needsGroups = (p: Projection) => wants(p, 'groups') || wants(p, 'meta');

/** Top-level attributes of a User that its row's columns give, not its stored attributes. */
const FROM_COLUMNS = new Set(['schemas', 'id', 'externalid', 'username', 'active', 'groups', 'meta']);

/** Whether a projection keeps only attributes that the columns give (`attributes=userName`, say). */
const columnsOnly = (p: Projection) => p.include !== null && !p.exclude.length && p.include.every((s) => !s.uri && FROM_COLUMNS.has(s.name.toLowerCase()));

/**
 * The resource of a row, with `projection` applied. Its stored attributes are parsed only for a
 * projection that names one of them: otherwise they go out as the text they are stored as
 * (JsonMembers), or not at all. JSON.parse keeps every string value of 10 characters or fewer
 * ("Given1234", "Smith", a phone extension) in V8's table of internalised strings, in the old
 * generation: parsing on every read grew it by 5-10 KB a page of a walk through a million users, and a
 * full collection paused the server every 3-4 s; a GET by id also cost 83-86 µs of server CPU against
 * 77-78 without the parse (docs/performance.md, session 22).
 */
/** Users whose unreadable attributes have been reported, so that a page of them warns once each. */
const reportedUnreadable = new Set<string>();

function warnUnreadable(id: string): void {
  if (reportedUnreadable.has(id) || reportedUnreadable.size >= 1000) return;
  reportedUnreadable.add(id);
  process.emitWarning(`user ${id}: stored SCIM attributes are not a JSON object; answered without them until a PUT or PATCH writes them again`, { code: 'LEDGERLINE_SCIM_ATTRIBUTES_UNREADABLE' });
}

function toResource(ctx: ScimCtx, row: Row, groups: Groups | undefined, projection?: Projection): Resource {
  const text = row.scim_attributes || '{}';
  // A text that is not a JSON object (edited outside Ledgerline: cut short, a trailing comma) is read
  // as no attributes, as storedAttributes reads it: the user is answered with what the columns give,
  // and the response stays valid JSON. A PUT or PATCH writes the attributes afresh.
  const whole = isJsonObjectText(text);
  if (!whole) warnUnreadable(row.id);
  const res: Resource = { schemas: whole ? schemasOf(URN.user, topLevelUrnKeys(text)) : [URN.user], id: row.id };
  const asText = whole && (!projection || (!projection.include && !projection.exclude.length));
  // As text, the stored attributes bring externalId, which they hold as its column does (both are
  // written from the same value).
  if (!asText && row.external_id !== null) res.externalId = row.external_id;
  res.userName = row.user_name;
  if (asText) (res as Record<string, unknown>)[MEMBERS_KEY] = new JsonMembers(text);
  else if (!projection || !columnsOnly(projection)) for (const [k, v] of Object.entries(storedAttributes(text))) if (k !== 'externalId') res[k] = v;
  res.active = row.status === 'active';
  if (groups) res.groups = groups.map((g) => ({ value: g.value, display: g.display, $ref: `${ctx.baseUrl}/Groups/${g.value}`, type: 'direct' }));
  res.meta = { resourceType: 'User', created: row.created_at, lastModified: row.updated_at, location: `${ctx.baseUrl}/Users/${row.id}`, version: groups ? userEtag(row.version, groups) : etagOf(row.version) };
  return projection ? project(res, projection) : res;
}

async function groupsOf(db: Db, ids: string[]): Promise<Map<string, Groups>> {
  const map = new Map<string, Groups>();
  if (!ids.length) return map;
  if (ids.length === 1) {
    const rows = await groupsOfOne(db, ids[0]);
    if (rows.length) map.set(ids[0], rows.map((r) => ({ value: r.id, display: r.display_name })));
    return map;
  }
  const rows = await db
    .selectFrom('pushed_group_members as m')
    .innerJoin('pushed_groups as g', 'g.id', 'm.group_id')
    .select(['m.user_id', 'g.id', 'g.display_name'])
    .where('m.user_id', 'in', ids)
    .execute();
  for (const r of rows) {
    const list = map.get(r.user_id) ?? [];
    list.push({ value: r.id, display: r.display_name });
    map.set(r.user_id, list);
  }
  return map;
}

/** The groups of one user. */
const groupsOfUser = async (db: Db, id: string): Promise<Groups> => (await groupsOf(db, [id])).get(id) ?? [];

const userByIdForUpdate = precompiled<Row>((db, arg) => {
  const q = db.selectFrom('users').select(COLS).where('id', '=', arg(0)).where('source', '=', 'idp');
  return isPostgres(db) ? q.forUpdate() : q;
});
const userByUserName = precompiled<Row>((db, arg) =>
  db.selectFrom('users').select(COLS).where('user_name_norm', '=', arg(0)).where('source', '=', 'idp'),
);
const groupsOfOne = precompiled<{ id: string; display_name: string }>((db, arg) =>
  db.selectFrom('pushed_group_members as m').innerJoin('pushed_groups as g', 'g.id', 'm.group_id').select(['g.id', 'g.display_name']).where('m.user_id', '=', arg(0)),
);

/** The number of provisioned users and the list's version, from the trigger-maintained counter shards (migrations 009, 010). */
const idpUserCountAndVersion = precompiled<{ n: number | null; version: number | null }>((db) =>
  db
    .selectFrom('scim_counters')
    .select((eb) => [eb.fn.sum<number>('n').as('n'), eb.fn.sum<number>('version').as('version')])
    .where('key', 'like', 'idp_users:%'),
);

/** Number of provisioned users, from the trigger-maintained counters (O(1), exact). */
export async function countIdpUsers(db: Db): Promise<number> {
  const [r] = await idpUserCountAndVersion(db);
  return Number(r?.n ?? 0);
}

/** The user a write is about, locked on PostgreSQL for the rest of the transaction. */
async function loadRowForUpdate(db: Db, id: string): Promise<Row> {
  const [row] = await userByIdForUpdate(db, id);
  if (!row) throw notFound(`User ${id} not found`);
  return row;
}

// A user and their groups in one statement, for a GET by id and the IdPs' `userName eq` look-up, and
// with the request's token still to be checked (ScimCtx.token), the token too. On PostgreSQL one round
// trip less each (interleaved, GET by id 2,956-4,417 -> 3,189-4,803 req/s); on SQLite, where every
// statement that reads starts and ends a read transaction of its own, one instead of three (SQL time
// a GET 44.9 -> 37.0 µs; docs/performance.md, session 15). SQLite gives the groups as JSON text.
type RowWithGroups = Row & { groups: [string, string][] | null };
const groupsJson = sql<[string, string][] | null>`(select json_agg(json_build_array(g.id, g.display_name)) from pushed_group_members m join pushed_groups g on g.id = m.group_id where m.user_id = users.id)`;
const groupsJsonSqlite = sql<string>`(select json_group_array(json_array(g.id, g.display_name)) from pushed_group_members m join pushed_groups g on g.id = m.group_id where m.user_id = users.id)`;
const userByIdForUpdateWithGroupsPg = precompiled<RowWithGroups>((db, arg) =>
  db.selectFrom('users').select(COLS).select(groupsJson.as('groups')).where('id', '=', arg(0)).where('source', '=', 'idp').modifyEnd(sql`for update of users`),
);

// On PostgreSQL the reads by key run coalesced (src/db/coalesce.ts): the look-ups of one turn of the
// event loop that check the same token (or none) share one `key in ($1, …, $n)` statement, one for
// each size of key list (padKeys). SQLite, with no round trip to save, runs the one-key statement.
type KeyedRow = Omit<RowWithGroups, 'groups'> & { groups: [string, string][] | string | null; lookup_key: string; token_ok?: boolean | number };
const withGroupsByKeys = (column: 'id' | 'user_name_norm', checkToken: boolean, size: number) =>
  precompiled<KeyedRow>((db, arg) =>
    db
      .selectFrom('users')
      .select(COLS)
      .select((isPostgres(db) ? groupsJson : (groupsJsonSqlite as RawBuilder<KeyedRow['groups']>)).as('groups'))
      .select(sql.ref<string>(`users.${column}`).as('lookup_key'))
      .$if(checkToken, (q) => q.select(tokenUsable(arg(size), arg(size + 1)).as('token_ok')))
      .where(`users.${column}`, 'in', Array.from({ length: size }, (_, i) => arg(i)))
      .where('source', '=', 'idp'),
  );
const lookupStatements = (column: 'id' | 'user_name_norm') => {
  const plain = byKeyList<Kysely<DB>, KeyedRow>((n) => withGroupsByKeys(column, false, n));
  const checked = byKeyList<Kysely<DB>, KeyedRow>((n) => withGroupsByKeys(column, true, n));
  const read = (db: Kysely<DB>, tokenId: string, keys: string[]) => (tokenId ? checked(db, keys, tokenId, nowIso()) : plain(db, keys));
  // The group is the id of the token to check, or '' for none.
  return { read, coalesced: new Coalescer<Kysely<DB>, KeyedRow>(read, (r) => r.lookup_key) };
};
const lookups = { id: lookupStatements('id'), user_name_norm: lookupStatements('user_name_norm') };

/**
 * A user (or none) with their groups, by `key` (an id or a normalised userName); when the request's
 * token is still to be checked, in the same statement. No row says nothing about the token: the
 * engine checks it before answering.
 */
async function readWithGroups(ctx: ScimCtx, column: keyof typeof lookups, key: string): Promise<RowWithGroups[]> {
  const token = ctx.token && !ctx.token.confirmed ? ctx.token : null;
  const db = ctx.db;
  const rows = isPostgres(db) ? await lookups[column].coalesced.load(db, token?.id ?? '', key) : await lookups[column].read(db, token?.id ?? '', [key]);
  if (token && rows.length) {
    if (!rows[0].token_ok) {
      forgetToken(db, token.id);
      throw new TokenRejected();
    }
    token.confirmed = true;
  }
  return rows.map(({ token_ok: _ok, lookup_key: _key, groups, ...row }) => ({ ...row, groups: typeof groups === 'string' ? (JSON.parse(groups) as [string, string][]) : groups }));
}

/**
 * The user a PUT or PATCH is about, locked for the rest of the transaction. On PostgreSQL with
 * their groups (for the response) in the same round trip; elsewhere the groups are read later.
 */
async function loadForWrite(trx: Transaction<DB>, id: string): Promise<{ row: Row; groups?: Groups }> {
  if (!isPostgres(trx)) return { row: await loadRowForUpdate(trx, id) };
  const [found] = await userByIdForUpdateWithGroupsPg(trx, id);
  if (!found) throw notFound(`User ${id} not found`);
  return splitGroups(found);
}

function splitGroups(found: RowWithGroups): { row: Row; groups: Groups } {
  const { groups: pairs, ...row } = found;
  return { row, groups: (pairs ?? []).map(([value, display]) => ({ value, display })) };
}

/** A user as a GET by id answers: with their groups, whatever the projection, for the ETag. */
export async function getUser(ctx: ScimCtx, id: string, projection: Projection): Promise<{ resource: Resource; etag: string; userName: string }> {
  const [found] = await readWithGroups(ctx, 'id', id);
  if (!found) throw notFound(`User ${id} not found`);
  const { row, groups } = splitGroups(found);
  return { resource: toResource(ctx, row, groups, projection), etag: userEtag(row.version, groups), userName: row.user_name };
}

/** `userName eq "x"`: the IdPs' look-up before every create; one indexed row at most. */
function userNameEq(p: ListParams): string | null {
  const f = p.filter;
  if (!f || f.op !== 'eq' || (f.attr.uri && f.attr.uri.toLowerCase() !== URN.user.toLowerCase()) || f.attr.sub || f.attr.name.toLowerCase() !== 'username' || typeof f.value !== 'string') return null;
  if (p.sortBy || p.cursor || p.startIndex !== 1 || p.count < 1) return null;
  return f.value.toLowerCase();
}

/**
 * A deep startIndex page of the unfiltered, unsorted list (one extra row tells whether a next page
 * exists). The database skips users one index entry at a time (users_source_created_id, index entries
 * only), so the page is read from whichever known place needs the fewest skipped: the start, the
 * nearest page end this process remembers (list-positions.ts), or the end of the list. The same
 * statement reads the number of users and the list's version, so both describe exactly the users the
 * page was read from; a page read from a remembered position or from the end whose version is not the
 * one that position or number of users was known at is read again from the start.
 */
async function deepPage(db: Kysely<DB>, offset: number, count: number): Promise<{ rows: Row[]; total: number }> {
  const positions = listPositionsOf(db);
  // What each starting place costs, in users skipped. Skipping from a key costs more per entry than
  // skipping from the start (SQLite re-checks the (created, id) > key condition on every entry: 89
  // against 59 ms for 1,000,000 entries), and the page is read again if the list changed since the
  // position was remembered, so a remembered position counts twice: it is used only when it saves at
  // least half of the skip. Descending from the end costs the same per entry as ascending (SQLite,
  // 1,000,000 users, the last page: under 0.1 against 53 ms from the start; the middle one 25 ms either
  // way), but it needs the number of users first, one statement more: only worth it when the others
  // skip many.
  const near = positions.nearest(offset);
  const nearCost = near ? (offset - near.position) * 2 : Infinity;
  let read: Awaited<ReturnType<typeof readDeepPage>> | null = null;
  if (Math.min(offset, nearCost) >= DEEP_FROM_END_AFTER) {
    const [counted] = await idpUserCountAndVersion(db);
    const total = Number(counted?.n ?? 0);
    if (offset >= total) return { rows: [], total };
    if (total - offset < Math.min(offset, nearCost)) {
      read = await readDeepPage(db, offset, count, null, total);
      if (read.version !== String(counted?.version ?? 0)) read = null;
    }
  }
  if (!read && near && nearCost <= offset) {
    read = await readDeepPage(db, offset, count, near);
    if (read.version !== near.version) read = null;
  }
  read ??= await readDeepPage(db, offset, count, null);
  const inPage = Math.min(read.rows.length, count);
  if (read.version !== null && inPage > 0) {
    const last = read.rows[inPage - 1];
    positions.remember(read.version, offset + inPage, { created: last.created_at, id: last.id });
  }
  return read.version === null ? { rows: [], total: await countIdpUsers(db) } : { rows: read.rows, total: read.total };
}

/**
 * Deep pages from this offset on may be read from the end of the list, which takes one statement more
 * (the number of users). Below it, skipping from the start costs at most ~60 µs (59 ms for 1,000,000
 * entries on SQLite): not worth a statement more.
 */
const DEEP_FROM_END_AFTER = 1_000;

/**
 * The page at `offset`, with its extra row: skipping from the start, from a remembered position
 * (`from`), or, given the number of users (`total`, with offset < total), from the end of the list,
 * descending.
 */
async function readDeepPage(
  db: Kysely<DB>,
  offset: number,
  count: number,
  from: { position: number; key: ListKey } | null,
  total?: number,
): Promise<{ rows: Row[]; total: number; version: string | null }> {
  // From the end: the page's rows and its extra row are users offset … offset + count, those that exist.
  const take = total === undefined ? count + 1 : Math.min(count + 1, total - offset);
  const direction = total === undefined ? 'asc' : 'desc';
  const page = db
    .selectFrom('users')
    .select('users.id')
    .where('source', '=', 'idp')
    .$if(from !== null, (qb) => qb.where(afterKey('users', from!.key, false)))
    .orderBy('users.created_at', direction)
    .orderBy('users.id', direction)
    .limit(take)
    .offset(total === undefined ? offset - (from?.position ?? 0) : total - offset - take);
  const counters = (col: 'n' | 'version') =>
    db.selectFrom('scim_counters').select((eb) => eb.fn.sum<number>(col).as('s')).where('key', 'like', 'idp_users:%');
  const fetched = await db
    .selectFrom('users')
    .select(COLS)
    .select(() => [counters('n').as('list_total'), counters('version').as('list_version')])
    .where('users.id', 'in', page)
    .orderBy('users.created_at', 'asc')
    .orderBy('users.id', 'asc')
    .execute();
  // No row, no version: the page is past the end (or every row went between the two steps).
  if (!fetched.length) return { rows: [], total: 0, version: null };
  const rows = fetched.map(({ list_total: _t, list_version: _v, ...row }) => row as Row);
  return { rows, total: Number(fetched[0].list_total ?? 0), version: String(fetched[0].list_version ?? 0) };
}

export function listUsers(ctx: ScimCtx, p: ListParams): Promise<{ body: Record<string, unknown>; found: number }> {
  return listGuarded(ctx.db, (guardJson) => listUsersWith(ctx, p, guardJson));
}

async function listUsersWith(ctx: ScimCtx, p: ListParams, guardJson: boolean): Promise<{ body: Record<string, unknown>; found: number }> {
  const { db } = ctx;
  const eqName = userNameEq(p);
  if (eqName !== null && needsGroups(p.projection)) {
    const found = (await readWithGroups(ctx, 'user_name_norm', eqName)).map(splitGroups);
    const resources = found.map(({ row, groups }) => toResource(ctx, row, groups, p.projection));
    return { body: listResponse(resources, p, found.length, null), found: found.length };
  }
  if (eqName !== null) {
    // A projection that keeps neither groups nor meta (the branch above reads them with the user).
    const rows = await userByUserName(db, eqName);
    const resources = rows.map((r) => toResource(ctx, r, undefined, p.projection));
    return { body: listResponse(resources, p, rows.length, null), found: rows.length };
  }
  const where = p.filter ? compileUserFilter(db, p.filter, guardJson) : null;
  let q = db.selectFrom('users').select(COLS).where('source', '=', 'idp');
  if (where) q = q.where(where);
  const sortCol = p.sortBy ? sortExpression(db, 'User', p.sortBy, guardJson) : null;
  const start = pageStart(p, Boolean(sortCol));
  const { offset, cursorKey, keyset: useKeyset } = start;
  let fetched: Row[] = [];
  let deepTotal: number | null = null;
  if (p.count > 0) {
    let pq = q;
    if (cursorKey && useKeyset) pq = pq.where(afterKey('users', cursorKey, false));
    if (sortCol) pq = pq.orderBy(sortCol, sortOrder(p.descending));
    pq = pq.orderBy('users.created_at', 'asc').orderBy('users.id', 'asc');
    if (!where && !sortCol && offset > 0) {
      ({ rows: fetched, total: deepTotal } = await deepPage(db, offset, p.count));
    } else {
      // one extra row tells whether a next page exists without counting
      fetched = (await pq.limit(p.count + 1).offset(offset).execute()) as Row[];
    }
  }
  const { rows, total, next } = await finishPage(p, start, fetched, async () => {
    if (!where) return deepTotal ?? countIdpUsers(db);
    const cq = db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', 'idp').where(where);
    return Number((await cq.executeTakeFirstOrThrow()).n);
  });
  const groups = needsGroups(p.projection) && rows.length ? await groupsOf(db, rows.map((r) => r.id)) : null;
  const resources = rows.map((r) => toResource(ctx, r, groups ? groups.get(r.id) ?? [] : undefined, p.projection));
  return { body: listResponse(resources, p, total, next), found: rows.length };
}

/** The columns of `users` that the SCIM attributes set (on create, and on a PUT or PATCH). */
const UPDATE_COLS = ['user_name', 'user_name_norm', 'display_name', 'given_name', 'family_name', 'email', 'email_norm', 'external_id'] as const satisfies readonly (keyof UsersTable)[];

interface Extracted {
  userName: string;
  status: UserStatus | null;
  stored: Resource;
  cols: Pick<UsersTable, (typeof UPDATE_COLS)[number]>;
  locale: string | null;
  timeZone: string | null;
  /** is_primary: 1 or 0 for `primary: true` or `false`, null for an e-mail sent without it. */
  emails: { value_norm: string; type_norm: string | null; is_primary: number | null }[];
}

const isEmail = (e: Json): e is { value: string } & Record<string, Json> => isObj(e) && typeof e.value === 'string';

/** The scim_user_emails rows of a user's `emails` attribute (one per distinct value and type). */
function emailRows(list: Json | undefined): Extracted['emails'] {
  const emails: Extracted['emails'] = [];
  const seen = new Set<string>();
  if (!Array.isArray(list)) return emails;
  for (const e of list) {
    if (!isEmail(e)) continue;
    const type = typeof e.type === 'string' ? e.type.toLowerCase() : null;
    const key = `${e.value.toLowerCase()}\u0000${type ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    emails.push({ value_norm: e.value.toLowerCase(), type_norm: type, is_primary: typeof e.primary === 'boolean' ? Number(e.primary) : null });
  }
  return emails;
}

function extract(attrs: Resource): Extracted {
  const userName = attrs.userName;
  if (typeof userName !== 'string' || !userName.trim()) throw badRequest('userName is required', 'invalidValue');
  if (userName.length > MAX_SEARCHABLE_LENGTH) throw badRequest(`userName is too long (${MAX_SEARCHABLE_LENGTH} characters at most)`, 'invalidValue');
  const active = attrs.active;
  const stored: Resource = { ...attrs };
  delete stored.userName;
  delete stored.active;
  const name = isObj(attrs.name) ? attrs.name : {};
  const email = primaryValue(attrs.emails);
  if (Array.isArray(attrs.emails)) for (const e of attrs.emails) if (isEmail(e)) searchableStr(e.value, 'emails.value');
  const emails = emailRows(attrs.emails);
  return {
    userName,
    status: active === undefined ? null : active === false ? 'disabled' : 'active',
    stored,
    cols: {
      user_name: userName,
      user_name_norm: userName.toLowerCase(),
      display_name: searchableStr(attrs.displayName, 'displayName'),
      given_name: searchableStr(name.givenName, 'name.givenName'),
      family_name: searchableStr(name.familyName, 'name.familyName'),
      email,
      email_norm: email ? email.toLowerCase() : null,
      external_id: searchableStr(attrs.externalId, 'externalId'),
    },
    locale: displayLocale(str(attrs.locale)),
    timeZone: displayTimeZone(str(attrs.timezone)),
    emails,
  };
}

/**
 * The IdP's `locale` as the BCP 47 tag the UI formats with: Okta sends POSIX-style `en_US`, which
 * `Intl` refuses (the UI then fell back to its default). Null when it is no locale at all, so a create
 * keeps the default and an update the current value. The SCIM resource keeps the value as sent.
 */
function displayLocale(v: string | null): string | null {
  if (!v) return null;
  try {
    return new Intl.Locale(v.replace(/_/g, '-')).toString();
  } catch {
    return null;
  }
}

/** The IdP's `timezone` if it is an IANA zone the UI can show times in; null otherwise (as above). */
function displayTimeZone(v: string | null): string | null {
  if (!v) return null;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: v });
    return v;
  } catch {
    return null;
  }
}

const deleteEmails = precompiled((db, arg) => db.deleteFrom('scim_user_emails').where('user_id', '=', arg(0)));
const insertEmail = precompiled((db, arg) =>
  db.insertInto('scim_user_emails').values({ user_id: arg(0), value_norm: arg(1), type_norm: arg(2), is_primary: arg(3) as unknown as number | null }),
);
const USER_INSERT_COLUMNS = [
  'id', 'user_name', 'user_name_norm', 'display_name', 'given_name', 'family_name', 'email', 'email_norm', 'external_id', 'role_id',
  'status', 'source', 'time_zone', 'locale', 'password_hash', 'scim_attributes', 'version', 'created_at', 'updated_at',
] as const;
const insertUser = precompiled((db, arg) =>
  db.insertInto('users').values(Object.fromEntries(USER_INSERT_COLUMNS.map((c, i) => [c, arg(i)])) as never),
);

async function writeEmails(db: Db, userId: string, emails: Extracted['emails'], replace: boolean): Promise<void> {
  if (replace) await deleteEmails(db, userId);
  for (const e of emails) await insertEmail(db, userId, e.value_norm, e.type_norm, e.is_primary);
}

/** A new user from a POST body: its row, e-mail rows, audit entry and the resource to return. */
function newUser(ctx: ScimCtx, body: unknown) {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a User object', 'invalidSyntax');
  const attrs = canonicalize('User', body as Record<string, unknown>);
  const x = extract(attrs);
  const id = uuidv7();
  const now = nowIso();
  const status: UserStatus = x.status ?? 'active';
  const values: Record<(typeof USER_INSERT_COLUMNS)[number], unknown> = {
    id, ...x.cols, role_id: null, status, source: 'idp', time_zone: x.timeZone ?? 'UTC', locale: x.locale ?? 'en-US',
    password_hash: null, scim_attributes: JSON.stringify(x.stored), version: 1, created_at: now, updated_at: now,
  };
  const summary = `created user ${x.userName}${status === 'disabled' ? ' (inactive)' : ''}`;
  const audit: AuditEntry = { action: 'user.create', targetType: 'user', targetId: id, targetName: x.userName, summary, details: { source: 'scim' } };
  const row: Row = { id, user_name: x.userName, external_id: x.cols.external_id, status, scim_attributes: JSON.stringify(x.stored), version: 1, created_at: now, updated_at: now };
  const result = { resource: toResource(ctx, row, []), outcome: { summary, resourceId: id, userName: x.userName } as Outcome };
  return { id, userValues: USER_INSERT_COLUMNS.map((c) => values[c]), emails: x.emails, audit, result };
}

// No look-up first in either create: the unique index on user_name_norm decides, also between racing
// requests (a 409).
export async function createUser(ctx: ScimCtx, trx: Transaction<DB>, body: unknown): Promise<{ resource: Resource; outcome: Outcome }> {
  const n = newUser(ctx, body);
  try {
    await insertUser(trx, ...n.userValues);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('User already exists in the database.');
    throw err;
  }
  await writeEmails(trx, n.id, n.emails, false);
  noteRowsWritten(ctx.db, 'users', 1);
  noteRowsWritten(ctx.db, 'scim_user_emails', n.emails.length);
  await recordAudit(trx, ctx.actor, n.audit);
  return n.result;
}

// PostgreSQL: the user, its e-mail rows and its audit row in one statement, which is its own
// transaction, so a create is one round trip instead of five (BEGIN, three inserts, COMMIT). The
// e-mail rows' foreign key is checked at the end of the statement, when the user row is there.
const CREATE_USER_PG = (() => {
  const next = placeholders();
  const user = next(USER_INSERT_COLUMNS.length);
  const emails = `${next()}::text[], ${next()}::text[], ${next()}::int[]`;
  const audit = next(AUDIT_COLUMNS.length);
  return `with u as (insert into users (${USER_INSERT_COLUMNS.join(', ')}) values (${user})),
e as (insert into scim_user_emails (user_id, value_norm, type_norm, is_primary)
  select $1, x.v, x.t, x.p from unnest(${emails}) as x(v, t, p)),
a as (insert into audit_log (${AUDIT_COLUMNS.join(', ')}) values (${audit}))
select 1`;
})();

// PostgreSQL: the creates that arrive together are one statement, one transaction, one WAL flush
// (SerialBatcher, src/db/coalesce.ts: a batch at a time; those arriving meanwhile form the next). A
// conflicting userName (also between two creates of the batch) skips that user, its e-mail rows and
// its audit row (on conflict do nothing; the returned ids tell which were stored) and is that request's
// 409; any other error fails the whole statement, which then runs again for each create on its own
// (CREATE_USER_PG), so that a create fails only with its own error. The users are inserted in the
// order of the counter shard their id falls in (migration 009's trigger bumps one counter row per
// user): two batches running at once (two server processes) take the shards' row locks in the same
// order and cannot deadlock on them.
const CREATE_USERS_PG = (() => {
  const next = placeholders();
  const typed = (c: string) => `${next()}::${c === 'version' ? 'int' : 'text'}[]`;
  const users = USER_INSERT_COLUMNS.map(typed).join(', ');
  const emails = `${next()}::text[], ${next()}::text[], ${next()}::text[], ${next()}::int[]`;
  const audit = AUDIT_COLUMNS.map(typed).join(', ');
  return `with u as (insert into users (${USER_INSERT_COLUMNS.join(', ')})
  select * from unnest(${users}) as x(${USER_INSERT_COLUMNS.join(', ')}) order by right(x.id, 2), x.id
  on conflict do nothing returning id),
e as (insert into scim_user_emails (user_id, value_norm, type_norm, is_primary)
  select x.u, x.v, x.t, x.p from unnest(${emails}) as x(u, v, t, p) where x.u in (select id from u)),
a as (insert into audit_log (${AUDIT_COLUMNS.join(', ')})
  select * from unnest(${audit}) as x(${AUDIT_COLUMNS.join(', ')}) where x.target_id in (select id from u))
select id from u`;
})();
/** Most creates in one statement. */
const CREATE_BATCH = 64;

type NewUser = ReturnType<typeof newUser> & { auditValues: unknown[] };
type Created = { resource: Resource; outcome: Outcome };

async function createOnePg(db: Kysely<DB>, n: NewUser): Promise<Created> {
  const values = [...n.userValues, n.emails.map((e) => e.value_norm), n.emails.map((e) => e.type_norm), n.emails.map((e) => e.is_primary), ...n.auditValues];
  try {
    await runPgStatement(db, CREATE_USER_PG, values);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('User already exists in the database.');
    throw err;
  }
  return n.result;
}

async function createManyPg(db: Kysely<DB>, batch: NewUser[]): Promise<OutcomeOf<Created>[]> {
  const settle = (p: Promise<Created>) => p.then((value) => ({ ok: true, value }) as const, (error: unknown) => ({ ok: false, error }) as const);
  if (batch.length === 1) return [await settle(createOnePg(db, batch[0]))];
  const column = (rows: unknown[][], i: number) => rows.map((r) => r[i]);
  const users = batch.map((n) => n.userValues);
  const emails = batch.flatMap((n) => n.emails.map((e) => [n.id, e.value_norm, e.type_norm, e.is_primary]));
  const audits = batch.map((n) => n.auditValues);
  let stored: Set<string>;
  try {
    const rows = await runPgStatement<{ id: string }>(db, CREATE_USERS_PG, [
      ...USER_INSERT_COLUMNS.map((_, i) => column(users, i)),
      ...[0, 1, 2, 3].map((i) => column(emails, i)),
      ...AUDIT_COLUMNS.map((_, i) => column(audits, i)),
    ]);
    stored = new Set(rows.map((r) => r.id));
  } catch {
    // Nothing of the batch is stored: each create on its own, with its own outcome.
    return Promise.all(batch.map((n) => settle(createOnePg(db, n))));
  }
  return batch.map((n) => (stored.has(n.id) ? { ok: true, value: n.result } : { ok: false, error: conflict('User already exists in the database.') }));
}

const createBatchers = new WeakMap<object, SerialBatcher<NewUser, Created>>();

/** createUser on PostgreSQL, outside any transaction: batched with the creates arriving with it (see CREATE_USERS_PG). */
export async function createUserInOneStatement(ctx: ScimCtx, body: unknown): Promise<Created> {
  const n = newUser(ctx, body);
  let batcher = createBatchers.get(ctx.db);
  if (!batcher) {
    const db = ctx.db;
    batcher = new SerialBatcher((batch) => createManyPg(db, batch), { max: CREATE_BATCH });
    createBatchers.set(db, batcher);
  }
  const created = await batcher.submit({ ...n, auditValues: auditValues(ctx.actor, n.audit) });
  noteRowsWritten(ctx.db, 'users', 1);
  noteRowsWritten(ctx.db, 'scim_user_emails', n.emails.length);
  return created;
}

/** What a PUT or PATCH changes about a user, worked out from the stored row and the new attributes. */
interface Change {
  x: Extracted;
  status: UserStatus;
  stored: string;
  version: number;
  now: string;
  action: string;
  deactivating: boolean;
  /** The summary around the sessions a deactivation ended: head + endedText(n) + tail. */
  head: string;
  tail: string;
  emailsChanged: boolean;
  /** Whether the name the user's groups show for them (displayName, else userName) changes. */
  memberDisplayChanged: boolean;
  /** Nothing the user is changes (Okta's PUT re-sending the profile it read): nothing is written. */
  unchanged: boolean;
}

/**
 * The attributes whose stored values differ (in any order of keys), by name: a top-level attribute
 * by its own (`name`, `emails`), the enterprise extension's by theirs (`department`, `manager`).
 */
function changedAttributes(before: Resource, after: Resource): string[] {
  const names: string[] = [];
  const keysOf = (a: object, b: object) => new Set([...Object.keys(b), ...Object.keys(a)]);
  for (const k of keysOf(before, after)) {
    if (isDeepStrictEqual(before[k], after[k])) continue;
    if (k !== URN.enterprise) {
      names.push(k);
      continue;
    }
    // The extension is always an object (canonicalize and the PATCH engine make it one).
    const [a, b] = [(before[k] ?? {}) as Record<string, Json>, (after[k] ?? {}) as Record<string, Json>];
    for (const sub of keysOf(a, b)) if (!isDeepStrictEqual(a[sub], b[sub])) names.push(sub);
  }
  return names;
}

/** " and ended 3 sessions" (nothing for none): part of a deactivation's summary. */
function endedText(count: number | string): string {
  return String(count) === '0' ? '' : ` and ended ${count} session${String(count) === '1' ? '' : 's'}`;
}

function planChange(row: Row, attrs: Resource, verb: 'replaced' | 'updated'): Change {
  const x = extract(attrs);
  const status: UserStatus = x.status ?? row.status;
  const deactivating = status !== row.status && status === 'disabled';
  let head = '';
  let action = 'user.update';
  if (deactivating) {
    head = `deactivated user ${x.userName}`;
    action = 'user.deactivate';
  } else if (status !== row.status && status === 'active') {
    head = `reactivated user ${x.userName}`;
    action = 'user.reactivate';
  }
  const before = storedAttributes(row.scim_attributes);
  const changes = changedAttributes(before, x.stored);
  // The IdP's locale and time zone become the person's display preferences when it first sends them
  // or sends new ones; a choice made in Ledgerline since stays while the IdP re-sends the old values
  // (Okta's PUT re-sends the whole profile on every change).
  if (!changes.includes('locale')) x.locale = null;
  if (!changes.includes('timezone')) x.timeZone = null;
  // After the head: a rename, and the attributes that changed, by name (Okta re-sends the whole user
  // on every change, so "nothing changed" is worth saying too).
  const parts: string[] = [];
  if (x.userName !== row.user_name) parts.push(`renamed user ${row.user_name} to ${x.userName}`);
  if (changes.length && (head || parts.length)) parts.push(`changed ${changes.join(', ')}`);
  if (!head && !parts.length) head = changes.length ? `${verb} user ${x.userName}: ${changes.join(', ')}` : `${verb} user ${x.userName} (nothing changed)`;
  const tail = parts.length ? `${head ? '; ' : ''}${parts.join('; ')}` : '';
  // The rows are derived from the stored attribute alone, so an update that leaves `emails` as it
  // was (Okta's PUT re-sends the whole user, a deactivation included) leaves them alone.
  const emailsChanged = JSON.stringify(x.emails) !== JSON.stringify(emailRows(before.emails));
  const memberDisplayChanged = (x.cols.display_name ?? x.userName) !== (str(before.displayName) ?? row.user_name);
  const unchanged = !changes.length && x.userName === row.user_name && status === row.status;
  return { x, status, stored: JSON.stringify(x.stored), version: row.version + 1, now: nowIso(), action, deactivating, head, tail, emailsChanged, memberDisplayChanged, unchanged };
}

/**
 * The answer to a PUT or PATCH that changes nothing: the user as read, with their version and
 * lastModified kept (RFC 7643 §3.1: the version changes when the resource does), so an IdP's re-sent
 * profile neither writes nor turns the ETag a client holds into a 412.
 */
function unchangedUser(ctx: ScimCtx, row: Row, c: Change, groups: Groups): { resource: Resource; outcome: Outcome } {
  return { resource: toResource(ctx, row, groups), outcome: { summary: c.head, resourceId: row.id, userName: row.user_name } };
}

function changed(ctx: ScimCtx, row: Row, c: Change, ended: number, groups: Groups): { resource: Resource; outcome: Outcome } {
  const next: Row = { ...row, user_name: c.x.userName, external_id: c.x.cols.external_id, status: c.status, scim_attributes: c.stored, version: c.version, updated_at: c.now };
  const summary = c.head + endedText(ended) + c.tail;
  return { resource: toResource(ctx, next, groups), outcome: { summary, resourceId: row.id, userName: c.x.userName } };
}

/**
 * Writes new attributes over an existing user (locked by the caller): columns, e-mails, status (ending
 * sessions on deactivation), and the audit entry. `groups` are the user's groups if already read.
 * No look-up of the new userName first: the unique index decides, as in a create.
 */
async function save(ctx: ScimCtx, trx: Transaction<DB>, row: Row, attrs: Resource, verb: 'replaced' | 'updated', groups?: Groups): Promise<{ resource: Resource; outcome: Outcome }> {
  const c = planChange(row, attrs, verb);
  const theirGroups = async () => (groups ??= await groupsOfUser(trx, row.id));
  if (c.unchanged) return unchangedUser(ctx, row, c, await theirGroups());
  // A group lists its members by name: when the user's changes, so do the groups they are in (on
  // PostgreSQL the caller has locked them already, before the user's row: updateLocked).
  const touchTheirGroups = async () => {
    if (c.memberDisplayChanged) await touchGroups(trx, (await theirGroups()).map((g) => g.value));
  };
  // PostgreSQL: the statement of the unlocked path; the row is locked, so its version is the one read.
  if (isPostgres(trx)) {
    const { ended } = await writeChangePg(ctx, trx, row, c);
    await touchTheirGroups();
    return changed(ctx, row, c, ended, await theirGroups());
  }
  const { x, status, stored, version, now } = c;
  // The summary says how many sessions a deactivation ended, so they end first (same transaction).
  const ended = c.deactivating ? await endSessionsForUser(trx, row.id) : 0;
  try {
    await trx
      .updateTable('users')
      .set({
        ...x.cols, status, scim_attributes: stored, version, updated_at: now,
        ...(x.locale ? { locale: x.locale } : {}), ...(x.timeZone ? { time_zone: x.timeZone } : {}),
      })
      .where('id', '=', row.id)
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`userName ${x.userName} is already taken`);
    throw err;
  }
  await recordAudit(trx, ctx.actor, { action: c.action, targetType: 'user', targetId: row.id, targetName: x.userName, summary: c.head + endedText(ended) + c.tail, details: { source: 'scim' } });
  if (c.emailsChanged) await writeEmails(trx, row.id, x.emails, true);
  await touchTheirGroups();
  return changed(ctx, row, c, ended, await theirGroups());
}

// PostgreSQL: a PUT or PATCH of a user as one statement, without a transaction around a locked read
// (BEGIN, SELECT … FOR UPDATE, the sessions' DELETE on a deactivation, UPDATE, COMMIT: five
// statements, and the row locked across all of them). The same statement writes the change in the
// locked path too (save(), after lost races), where the version read is the current one. The user is read as a GET reads it (coalesced, not
// locked), the change is worked out, and the statement applies it only if the user's version is
// still the one read: the update, the end of their sessions on a deactivation, the e-mail rows when
// they changed and the audit row all hang on that one row being updated. If another write came
// first, nothing is applied and the request starts again from the read; If-Match is checked against
// each read, so a client that named the older version gets its 412. The audit summary counts the
// sessions the statement ended, so it is put together in the statement from the parts planChange
// gives (head, the ended text for one or for n, tail).
const UPDATE_USER_IF_VERSION_PG = (() => {
  const next = placeholders();
  const [id, readVersion] = [next(), next()];
  const set = [...UPDATE_COLS, 'status', 'scim_attributes', 'version', 'updated_at'].map((c) => `${c} = ${next()}`);
  set.push(`locale = coalesce(${next()}, locale)`, `time_zone = coalesce(${next()}, time_zone)`);
  const [deactivate, emailsChanged, values, types, primary] = [next(), next(), next(), next(), next()];
  const [head, one, manyBefore, manyAfter, tail] = [next(), next(), next(), next(), next()];
  const audit = AUDIT_COLUMNS.map((c) =>
    c === 'summary' ? `${head} || case n.ended when 0 then '' when 1 then ${one} else ${manyBefore} || n.ended || ${manyAfter} end || ${tail}` : next(),
  );
  return `with u as (update users set ${set.join(', ')} where id = ${id} and version = ${readVersion} returning id),
s as (delete from sessions where ${deactivate}::boolean and user_id = ${id} and exists (select 1 from u) returning 1),
n as (select count(*)::int as ended from s),
d as (delete from scim_user_emails where ${emailsChanged}::boolean and user_id = ${id} and exists (select 1 from u)),
e as (insert into scim_user_emails (user_id, value_norm, type_norm, is_primary)
  select ${id}, x.v, x.t, x.p from unnest(${values}::text[], ${types}::text[], ${primary}::int[]) as x(v, t, p)
  where ${emailsChanged}::boolean and exists (select 1 from u)),
a as (insert into audit_log (${AUDIT_COLUMNS.join(', ')}) select ${audit.join(', ')} from n where exists (select 1 from u))
select (select count(*)::int from u) as updated, (select ended from n) as ended`;
})();
/** Reads and tries again this often when other writes keep changing the user first; then it locks the row. */
const VERSION_ATTEMPTS = 4;
/** endedText(n) for n > 1 around the count, which the statement puts in. */
const [ENDED_MANY_BEFORE, ENDED_MANY_AFTER] = endedText('\u0000').split('\u0000');

/** Runs UPDATE_USER_IF_VERSION_PG for a planned change: updated 0 when the user is no longer at `row.version`. */
async function writeChangePg(ctx: ScimCtx, db: Db, row: Row, c: Change): Promise<{ updated: number; ended: number }> {
  const { x } = c;
  const audit = auditValues(ctx.actor, { action: c.action, targetType: 'user', targetId: row.id, targetName: x.userName, summary: '', details: { source: 'scim' } });
  try {
    const [r] = await runPgStatement<{ updated: number; ended: number }>(db, UPDATE_USER_IF_VERSION_PG, [
      row.id, row.version,
      ...UPDATE_COLS.map((col) => x.cols[col]), c.status, c.stored, c.version, c.now, x.locale, x.timeZone,
      c.deactivating, c.emailsChanged, x.emails.map((e) => e.value_norm), x.emails.map((e) => e.type_norm), x.emails.map((e) => e.is_primary),
      c.head, endedText(1), ENDED_MANY_BEFORE, ENDED_MANY_AFTER, c.tail,
      ...audit.filter((_, i) => AUDIT_COLUMNS[i] !== 'summary'),
    ]);
    return r;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`userName ${x.userName} is already taken`);
    throw err;
  }
}

/**
 * A PUT or PATCH of a user on PostgreSQL, outside any transaction (UPDATE_USER_IF_VERSION_PG).
 * `next` gives the new attributes from the stored row; it runs again if the statement finds the user
 * changed since the read.
 */
async function updateUserInOneStatement(
  ctx: ScimCtx,
  id: string,
  pre: Preconditions | undefined,
  verb: 'replaced' | 'updated',
  next: (row: Row) => Resource,
): Promise<{ resource: Resource; outcome: Outcome }> {
  for (let attempt = 0; attempt < VERSION_ATTEMPTS; attempt++) {
    const [found] = await readWithGroups(ctx, 'id', id);
    if (!found) throw notFound(`User ${id} not found`);
    const { row, groups } = splitGroups(found);
    checkPreconditions(pre, userEtag(row.version, groups));
    const c = planChange(row, next(row), verb);
    if (c.unchanged) return unchangedUser(ctx, row, c, groups);
    // A new display name for a member of groups changes those groups too: that goes through save().
    if (c.memberDisplayChanged && groups.length) break;
    const r = await writeChangePg(ctx, ctx.db, row, c);
    if (r.updated) return changed(ctx, row, c, r.ended, groups);
  }
  // Others keep winning the race (or the change reaches the user's groups): wait for the row lock instead.
  return runWrite(ctx.db, (trx) => updateLocked(ctx, trx, id, pre, verb, next));
}

/** A PUT or PATCH of a user in a transaction: the user locked, then saved. */
async function updateLocked(ctx: ScimCtx, trx: Transaction<DB>, id: string, pre: Preconditions | undefined, verb: 'replaced' | 'updated', next: (row: Row) => Resource) {
  // PostgreSQL: the user's groups are locked before the user (their versions move when the user's
  // name does), in the order a group's writes and a user's deletion take them, so as not to deadlock.
  await lockGroupsOfUser(trx, id);
  const loaded = await loadForWrite(trx, id);
  const { row } = loaded;
  // SQLite reads the groups later, but a precondition needs them now (the ETag names them).
  const groups = loaded.groups ?? (hasPreconditions(pre) ? await groupsOfUser(trx, id) : undefined);
  if (groups) checkPreconditions(pre, userEtag(row.version, groups));
  return save(ctx, trx, row, next(row), verb, groups);
}

function replaced(body: unknown): () => Resource {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a User object', 'invalidSyntax');
  return () => canonicalize('User', body as Record<string, unknown>);
}

function patched(ops: PatchOperation[]): (row: Row) => Resource {
  return (row) => {
    const current: Resource = { ...storedAttributes(row.scim_attributes), userName: row.user_name, active: row.status === 'active' };
    if (row.external_id !== null) current.externalId = row.external_id;
    // Keep the stored form canonical (coercion already happened per op).
    return applyPatch('User', current, ops).attributes;
  };
}

export async function replaceUser(ctx: ScimCtx, trx: Transaction<DB>, id: string, body: unknown, pre?: Preconditions) {
  return updateLocked(ctx, trx, id, pre, 'replaced', replaced(body));
}

/** A PATCH of a user: `ops` as parsePatchRequest gives them. */
export async function patchUser(ctx: ScimCtx, trx: Transaction<DB>, id: string, ops: PatchOperation[], pre?: Preconditions) {
  return updateLocked(ctx, trx, id, pre, 'updated', patched(ops));
}

/** replaceUser on PostgreSQL, as one statement (updateUserInOneStatement). */
export async function replaceUserInOneStatement(ctx: ScimCtx, id: string, body: unknown, pre?: Preconditions) {
  return updateUserInOneStatement(ctx, id, pre, 'replaced', replaced(body));
}

/** patchUser on PostgreSQL, as one statement (updateUserInOneStatement). */
export async function patchUserInOneStatement(ctx: ScimCtx, id: string, ops: PatchOperation[], pre?: Preconditions) {
  return updateUserInOneStatement(ctx, id, pre, 'updated', patched(ops));
}

/**
 * Moves the version and lastModified of pushed groups, as a change of their members does. On
 * PostgreSQL the rows are locked in the order of their ids, so two such writes cannot deadlock.
 */
async function touchGroups(trx: Transaction<DB>, groupIds: string[]): Promise<void> {
  if (!groupIds.length) return;
  if (isPostgres(trx)) await trx.selectFrom('pushed_groups').select('id').where('id', 'in', groupIds).orderBy('id').forUpdate().execute();
  await trx.updateTable('pushed_groups').set({ version: sql<number>`version + 1`, updated_at: nowIso() }).where('id', 'in', groupIds).execute();
}

/**
 * PostgreSQL: locks the rows of the groups a user is in, in the order of their ids, before the
 * user's own row is locked (SQLite: one writer at a time, nothing to do). One statement.
 */
async function lockGroupsOfUser(trx: Transaction<DB>, userId: string): Promise<void> {
  if (!isPostgres(trx)) return;
  await trx
    .selectFrom('pushed_groups')
    .select('id')
    .where('id', 'in', (eb) => eb.selectFrom('pushed_group_members').select('group_id').where('user_id', '=', userId))
    .orderBy('id')
    .forUpdate()
    .execute();
}

export async function deleteUser(ctx: ScimCtx, trx: Transaction<DB>, id: string, pre?: Preconditions): Promise<Outcome> {
  // The user leaves its pushed groups, and each of them changes: their versions (ETags) and
  // lastModified move, as for any other change of their members. On PostgreSQL the locks come in the
  // order every write of a group takes them: the groups' rows (in the order of their ids), then the
  // user's, then the memberships. The user's row first, then the memberships, then the groups (as
  // until session 34) deadlocked with a group's PUT, PATCH or DELETE, which lock the group first.
  await lockGroupsOfUser(trx, id);
  const row = await loadRowForUpdate(trx, id);
  if (hasPreconditions(pre)) checkPreconditions(pre, userEtag(row.version, await groupsOfUser(trx, id)));
  // The memberships are removed here (the user's delete would take them anyway), so that their groups
  // are known: also one the user joined between the look-up above and the lock of their row.
  const left = await trx.deleteFrom('pushed_group_members').where('user_id', '=', id).returning('group_id').execute();
  await touchGroups(trx, left.map((m) => m.group_id)); // one row per group (unique user_id, group_id)
  await endSessionsForUser(trx, id);
  await trx.deleteFrom('users').where('id', '=', id).execute();
  const summary = `deleted user ${row.user_name}`;
  await recordAudit(trx, ctx.actor, { action: 'user.delete', targetType: 'user', targetId: id, targetName: row.user_name, summary, details: { source: 'scim' } });
  return { summary, resourceId: id, userName: row.user_name };
}
