// SCIM Groups over `pushed_groups` + `pushed_group_members`. Membership is never held in memory as
// a whole for PATCH: add/remove touch only the members named; PUT and `replace members` apply the
// difference. `excludedAttributes=members` never reads the membership table. Creating, renaming and
// deleting a group keeps its SCIM role and SCIM role group in step (identity/pushed-groups.service).
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { isPostgres } from '../db/dialect.ts';
import { noteRowsWritten } from '../db/fresh-statistics.ts';
import {
  addKnownMembers, addKnownMembersPg, createPushedGroupRoles, deletePushedGroupRoles, planReplacement, removeMembers, removeMembersPg, renamePushedGroupRoles, replaceMembers,
  type MemberDiff,
} from '../identity/pushed-groups.service.ts';
import { AUDIT_COLUMNS, auditValues, recordAudit } from '../identity/audit.service.ts';
import { placeholders, precompiled, runPgStatement } from '../db/precompiled.ts';
import { isUniqueViolation } from '../platform/errors.ts';
import { uuidv7 } from '../platform/ids.ts';
import { nextTurn } from '../platform/next-turn.ts';
import { nowIso } from '../platform/time.ts';
import { getProp } from './filter.eval.ts';
import { compileGroupFilter, listGuarded, sortExpression, sortOrder } from './filter.sql.ts';
import { applyPatch, memberIds, type MemberChange, type PatchOperation } from './patch.engine.ts';
import { canonicalize, MAX_SEARCHABLE_LENGTH, searchableStr, storedAttributes, str, type Json, type Resource } from './scim.attributes.ts';
import { badRequest, conflict, notFound } from './scim.errors.ts';
import { afterKey, finishPage, pageStart, listResponse, type ListParams } from './scim.list.ts';
import { project, wants, wantsPart, type Projection } from './scim.projection.ts';
import { JsonText } from './json-text.ts';
import { schemasOf, URN } from './scim.schemas.ts';
import { checkPreconditions, etagOf, hasPreconditions, type Preconditions } from './scim.etags.ts';
import type { Outcome, ScimCtx } from './scim.users.ts';

type Db = Kysely<DB> | Transaction<DB>;

const COLS = ['id', 'display_name', 'external_id', 'scim_attributes', 'version', 'created_at', 'updated_at'] as const;
type Row = { id: string; display_name: string; external_id: string | null; scim_attributes: string | null; version: number; created_at: string; updated_at: string };
/**
 * A group's members as an answer carries them: JSON text written by SQLite, or the values themselves
 * (read from PostgreSQL, or parsed for a projection that picks parts of them). See membersOf.
 */
type Members = JsonText | Json[];

function toResource(ctx: ScimCtx, row: Row, members: Members | undefined): Resource {
  const stored = storedAttributes(row.scim_attributes);
  const res: Resource = { schemas: schemasOf(URN.group, Object.keys(stored)), id: row.id };
  if (row.external_id !== null) res.externalId = row.external_id;
  for (const [k, v] of Object.entries(stored)) if (k !== 'externalId' && k !== 'displayName') res[k] = v;
  res.displayName = row.display_name;
  // A JsonText goes out as its text (stringifyResponse); the resource's type does not know of it.
  if (members !== undefined) res.members = members as Json;
  res.meta = { resourceType: 'Group', created: row.created_at, lastModified: row.updated_at, location: `${ctx.baseUrl}/Groups/${row.id}`, version: etagOf(row.version) };
  return res;
}

/** `members` as `projection` needs them: as values when it picks parts of them. */
function forProjection(members: Members | undefined, projection: Projection | undefined): Members | undefined {
  return members instanceof JsonText && projection && wantsPart(projection, 'members') ? (members.parse() as Json[]) : members;
}

/**
 * Reads, in `db` (the caller's transaction or snapshot), what the group's answer as the client asked
 * for it needs, and gives back what makes the answer: `members` (when wanted), then the projection
 * applied. On PostgreSQL a group's members are written as text by it (membersWrittenPg, with turns of
 * the event loop), so a caller can run it after its transaction, not holding it meanwhile.
 */
async function readShaped(ctx: ScimCtx, db: Db, row: Row, projection?: Projection): Promise<() => Promise<Resource>> {
  const shape = (members: Members | undefined) => {
    const res = toResource(ctx, row, forProjection(members, projection));
    return projection ? project(res, projection) : res;
  };
  if (projection && !wants(projection, 'members')) return async () => shape(undefined);
  if (isPostgres(db)) {
    const rows = await memberRowsPg(db, [row.id]);
    const write = projection && wantsPart(projection, 'members') ? membersAsValues : membersWrittenPg;
    return async () => shape((await write([row.id], rows, `${ctx.baseUrl}/Users/`)).get(row.id));
  }
  const members = (await membersOf(db, ctx.baseUrl, [row.id])).get(row.id);
  return async () => shape(members);
}

/** The group as the client asked for it, read and made at once (see readShaped). */
async function shaped(ctx: ScimCtx, db: Db, row: Row, projection?: Projection): Promise<Resource> {
  return (await readShaped(ctx, db, row, projection))();
}

/** SQLite: the columns a members' JSON is written from (memberArrayJson), from `pushed_group_members m join users u`. */
const MEMBER_COLUMNS = sql`m.id, m.group_id, m.user_id, coalesce(u.display_name, u.user_name) as display`;

/** SQLite: the aggregate that writes rows of MEMBER_COLUMNS as a group's `members` JSON array. */
const memberArrayJson = (baseUrl: string) =>
  sql`json_group_array(json_object('value', user_id, 'display', display, '$ref', ${`${baseUrl}/Users/`} || user_id, 'type', 'User'))`;

/**
 * Each group's members in the order they were added: value, display (the user's displayName, else
 * their userName), $ref and type. SQLite writes them as JSON text: for a group of 100,000 members
 * 170 ms in a loop, where reading the rows took 430–510 ms before they were serialised here. PostgreSQL writes
 * such text more slowly than it sends the rows (string_agg 340–460 ms, json_agg 520 ms, the rows
 * 165 ms for 100,000 members), so there the rows are read and written as the same text here
 * (membersWrittenPg), or made the values themselves with `asValues` (for a projection that picks
 * parts of them, which would parse the text again).
 */
async function membersOf(db: Db, baseUrl: string, groupIds: string[], asValues = false): Promise<Map<string, Members>> {
  const map = new Map<string, Members>(groupIds.map((id) => [id, []]));
  if (!groupIds.length) return map;
  if (isPostgres(db)) return (asValues ? membersAsValues : membersWrittenPg)(groupIds, await memberRowsPg(db, groupIds), `${baseUrl}/Users/`);
  // Aggregated from a subquery in the members' order, which SQLite keeps (it does not flatten an
  // ordered subquery into an aggregate) and reads without sorting again; an ORDER BY inside the
  // aggregate would sort each group's members in a temporary B-tree (240 against 170 ms for 100,000).
  const { rows } = await sql<{ group_id: string; members: string }>`select group_id, ${memberArrayJson(baseUrl)} as members
    from (select ${MEMBER_COLUMNS} from pushed_group_members m join users u on u.id = m.user_id
      where m.group_id in (${sql.join(groupIds)}) order by m.group_id, m.id)
    group by group_id`.execute(db);
  for (const r of rows) map.set(r.group_id, new JsonText(r.members));
  return map;
}

type MemberRow = { group_id: string; user_id: string; display: string };

/** PostgreSQL: the groups' member rows, by group and in the order added. */
function memberRowsPg(db: Db, groupIds: string[]): Promise<MemberRow[]> {
  return db
    .selectFrom('pushed_group_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['m.group_id', 'm.user_id', sql<string>`coalesce(u.display_name, u.user_name)`.as('display')])
    .where('m.group_id', 'in', groupIds)
    .orderBy('m.group_id')
    .orderBy('m.id')
    .execute();
}

const memberValue = (r: MemberRow, ref: string): Json => ({ value: r.user_id, display: r.display, $ref: ref + r.user_id, type: 'User' });

/** PostgreSQL: each group's members as values (memberRowsPg's rows; `ref` the users' URL prefix). */
async function membersAsValues(groupIds: string[], rows: MemberRow[], ref: string): Promise<Map<string, Members>> {
  const map = new Map<string, Json[]>(groupIds.map((id) => [id, []]));
  for (const r of rows) map.get(r.group_id)!.push(memberValue(r, ref));
  return map;
}

/**
 * PostgreSQL: each group's members written as JSON text, as SQLite writes them (memberArrayJson), in
 * pieces of up to MEMBER_CHUNK members, with a turn of the event loop after every MEMBER_CHUNK members
 * or so. Made into objects and then written by one JSON.stringify with the rest of the answer, a
 * group of 102,100 members kept the request thread busy for 155 ms on end in a CPU profile (the
 * objects, the stringify, then the log's copy of the answer's beginning, which flattened the 21 MB
 * string); in pieces, a large answer is also sent a piece at a time (src/scim/scim.plugin.ts).
 */
async function membersWrittenPg(groupIds: string[], rows: MemberRow[], ref: string): Promise<Map<string, Members>> {
  const pieces = new Map<string, string[]>(groupIds.map((id) => [id, ['[']]));
  // The rows come ordered by group: a piece is a run of one group's rows, at most MEMBER_CHUNK long.
  let sinceTurn = 0;
  for (let start = 0; start < rows.length; ) {
    const group = rows[start].group_id;
    let end = start;
    while (end < rows.length && end - start < MEMBER_CHUNK && rows[end].group_id === group) end++;
    const members: Json[] = [];
    for (let i = start; i < end; i++) members.push(memberValue(rows[i], ref));
    const list = pieces.get(group)!;
    if (list.length > 1) list.push(',');
    list.push(JSON.stringify(members).slice(1, -1));
    sinceTurn += end - start;
    start = end;
    if (sinceTurn >= MEMBER_CHUNK && end < rows.length) {
      sinceTurn = 0;
      await nextTurn();
    }
  }
  return new Map([...pieces].map(([id, list]) => [id, new JsonText([...list, ']'])]));
}

async function loadRow(db: Db, id: string, forUpdate = false): Promise<Row> {
  let q = db.selectFrom('pushed_groups').select(COLS).where('id', '=', id);
  if (forUpdate && isPostgres(db)) q = q.forUpdate();
  const row = (await q.executeTakeFirst()) as Row | undefined;
  if (!row) throw notFound(`Group ${id} not found`);
  return row;
}

async function countMembers(db: Db, id: string): Promise<number> {
  const r = await db.selectFrom('pushed_group_members').select((eb) => eb.fn.countAll<number>().as('n')).where('group_id', '=', id).executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Members a statement of a chunked read takes (SQLite: 100,000 in one statement took about 170 ms, so a chunk about 9 ms). */
const MEMBER_CHUNK = 5_000;

const groupVersion = precompiled<{ version: number }>((db, arg) => db.selectFrom('pushed_groups').select('version').where('id', '=', arg(0)));

/**
 * SQLite: a group's members as membersOf writes them, read MEMBER_CHUNK at a time in the order added
 * (the index (group_id, id)), with a turn of the event loop between two chunks. In one statement, a
 * group of 100,000 members held the event loop for about 170 ms, and every other request waited that
 * long. Writes may come between two chunks: the caller checks the group's version afterwards. A group
 * of fewer than MEMBER_CHUNK members is one statement, as before.
 */
async function membersInChunks(db: Kysely<DB>, baseUrl: string, groupId: string): Promise<JsonText> {
  // The array's text in pieces, one a chunk (see JsonText): ['[', chunk, ',', chunk, …, ']'].
  const pieces: string[] = ['['];
  for (let after = 0; ; ) {
    const { rows } = await sql<{ members: string; last: number | null; n: number }>`select
        ${memberArrayJson(baseUrl)} as members, max(id) as last, count(*) as n
      from (select ${MEMBER_COLUMNS} from pushed_group_members m join users u on u.id = m.user_id
        where m.group_id = ${groupId} and m.id > ${after} order by m.id limit ${MEMBER_CHUNK})`.execute(db);
    const chunk = rows[0];
    if (chunk.n > 0) {
      if (pieces.length > 1) pieces.push(',');
      pieces.push(chunk.members.slice(1, -1));
    }
    if (chunk.n < MEMBER_CHUNK || chunk.last === null) break;
    after = chunk.last;
    await nextTurn();
  }
  pieces.push(']');
  return new JsonText(pieces);
}

/**
 * PostgreSQL: `read` in one snapshot (REPEATABLE READ), for reads of groups with their members, so that
 * a group's members are those of the version its answer names: as two statements outside a transaction
 * (the rows, then the members) each saw its own, and a member PATCH committed in between showed.
 */
function inOneSnapshot<T>(db: Kysely<DB>, read: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  return db.transaction().setIsolationLevel('repeatable read').execute(read);
}

/**
 * SQLite, when a group's version moved while it was read: how many reads in chunks before it is read in
 * one statement, and how many reads in all before the last one is answered as it is.
 */
const CHUNKED_ATTEMPTS = 2;
const READ_ATTEMPTS = 5;

export async function getGroup(ctx: ScimCtx, id: string, projection: Projection): Promise<{ resource: Resource; etag: string; name: string }> {
  const { db } = ctx;
  const answer = (row: Row, resource: Resource) => ({ resource, etag: etagOf(row.version), name: row.display_name });
  if (!wants(projection, 'members')) {
    const row = await loadRow(db, id);
    return answer(row, await shaped(ctx, db, row, projection));
  }
  if (isPostgres(db)) {
    // Read in the snapshot; the members' text written after it.
    const read = await inOneSnapshot(db, async (trx) => {
      const row = await loadRow(trx, id);
      return { row, make: await readShaped(ctx, trx, row, projection) };
    });
    return answer(read.row, await read.make());
  }
  // SQLite: the members of the version read with the row, or the whole read again. Every change of a
  // group's members moves its version (a member user's deletion too).
  for (let attempt = 1; ; attempt++) {
    const row = await loadRow(db, id);
    const members =
      attempt <= CHUNKED_ATTEMPTS && !wantsPart(projection, 'members')
        ? await membersInChunks(db, ctx.baseUrl, id)
        : forProjection((await membersOf(db, ctx.baseUrl, [id])).get(id), projection);
    const [now] = await groupVersion(db, id);
    if (now?.version === row.version || attempt === READ_ATTEMPTS) return answer(row, project(toResource(ctx, row, members), projection));
  }
}

export function listGroups(ctx: ScimCtx, p: ListParams): Promise<{ body: Record<string, unknown>; found: number }> {
  return listGuarded(ctx.db, (guardJson) => {
    if (isPostgres(ctx.db) && wants(p.projection, 'members')) return inOneSnapshot(ctx.db, (trx) => listGroupsIn(ctx, trx, p, guardJson));
    return listGroupsIn(ctx, ctx.db, p, guardJson);
  });
}

async function listGroupsIn(ctx: ScimCtx, db: Db, p: ListParams, guardJson: boolean): Promise<{ body: Record<string, unknown>; found: number }> {
  const where = p.filter ? compileGroupFilter(db, p.filter, guardJson) : null;
  let q = db.selectFrom('pushed_groups').select(COLS);
  if (where) q = q.where(where);
  const sortCol = p.sortBy ? sortExpression(db, 'Group', p.sortBy, guardJson) : null;
  const start = pageStart(p, Boolean(sortCol));
  let fetched: Row[] = [];
  if (p.count > 0) {
    let pq = q;
    if (start.cursorKey && start.keyset) pq = pq.where(afterKey('pushed_groups', start.cursorKey, false));
    if (sortCol) pq = pq.orderBy(sortCol, sortOrder(p.descending));
    pq = pq.orderBy('pushed_groups.created_at', 'asc').orderBy('pushed_groups.id', 'asc');
    fetched = (await pq.limit(p.count + 1).offset(start.offset).execute()) as Row[];
  }
  const { rows, total, next } = await finishPage(p, start, fetched, async () => {
    let cq = db.selectFrom('pushed_groups').select((eb) => eb.fn.countAll<number>().as('n'));
    if (where) cq = cq.where(where);
    return Number((await cq.executeTakeFirstOrThrow()).n);
  });
  const members = wants(p.projection, 'members') && rows.length ? await membersOf(db, ctx.baseUrl, rows.map((r) => r.id), wantsPart(p.projection, 'members')) : null;
  const resources = rows.map((r) => project(toResource(ctx, r, forProjection(members?.get(r.id), p.projection)), p.projection));
  return { body: listResponse(resources, p, total, next), found: rows.length };
}

function displayNameOf(attrs: Resource): string {
  const n = attrs.displayName;
  if (typeof n !== 'string' || !n.trim()) throw badRequest('displayName is required', 'invalidValue');
  if (n.length > MAX_SEARCHABLE_LENGTH) throw badRequest(`displayName is too long (${MAX_SEARCHABLE_LENGTH} characters at most)`, 'invalidValue');
  return n;
}

async function assertNameFree(db: Db, norm: string, exceptId?: string): Promise<void> {
  let q = db.selectFrom('pushed_groups').select('id').where('display_name_norm', '=', norm);
  if (exceptId) q = q.where('id', '<>', exceptId);
  if (await q.executeTakeFirst()) throw conflict('A group with this displayName already exists.');
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A POST of a group; its answer shaped by `projection` (members read only when wanted), its ETag beside it. */
export async function createGroup(ctx: ScimCtx, trx: Transaction<DB>, body: unknown, projection?: Projection): Promise<{ resource: Resource; outcome: Outcome; etag: string }> {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a Group object', 'invalidSyntax');
  const attrs = canonicalize('Group', body as Record<string, unknown>);
  const name = displayNameOf(attrs);
  await assertNameFree(trx, name.toLowerCase());
  const wanted = memberIds(getProp(body, 'members'));
  const id = uuidv7();
  const now = nowIso();
  const stored = { ...attrs };
  delete stored.displayName;
  try {
    await trx
      .insertInto('pushed_groups')
      .values({ id, display_name: name, display_name_norm: name.toLowerCase(), external_id: searchableStr(attrs.externalId, 'externalId'), scim_attributes: JSON.stringify(stored), version: 1, created_at: now, updated_at: now })
      .execute();
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict('A group with this displayName already exists.');
    throw err;
  }
  await createPushedGroupRoles(trx, ctx.actor, { id, displayName: name });
  let added = 0;
  let unknown = 0;
  if (wanted.length) {
    const r = await addKnownMembers(trx, id, wanted);
    unknown = new Set(wanted).size - r.known;
    added = r.added;
    noteRowsWritten(ctx.db, 'pushed_group_members', added);
  }
  const summary = `created group ${name}${added ? ` with ${plural(added, 'member')}` : ''}${unknown ? ` (ignored ${plural(unknown, 'unknown member')})` : ''}`;
  await recordAudit(trx, ctx.actor, { action: 'group.create', targetType: 'pushed_group', targetId: id, targetName: name, summary });
  const row: Row = { id, display_name: name, external_id: str(attrs.externalId), scim_attributes: JSON.stringify(stored), version: 1, created_at: now, updated_at: now };
  return { resource: await shaped(ctx, trx, row, projection), outcome: { summary, resourceId: id }, etag: etagOf(row.version) };
}

/** True when a PATCH leaves the group's stored attributes (name, externalId, the rest) as they are. */
function sameAttributes(row: Row, attrs: Resource): boolean {
  if (attrs.displayName !== row.display_name || (str(attrs.externalId) ?? null) !== row.external_id) return false;
  const stored = { ...attrs };
  delete stored.displayName;
  return JSON.stringify(stored) === (row.scim_attributes ?? '{}');
}

/** Applies new attributes and a membership change to a group; returns the words for the log. */
async function save(ctx: ScimCtx, trx: Transaction<DB>, row: Row, attrs: Resource, change: PlannedChange | null, attributesChanged: boolean): Promise<{ row: Row; outcome: Outcome }> {
  const name = displayNameOf(attrs);
  const parts: string[] = [];
  if (name !== row.display_name) {
    if (name.toLowerCase() !== row.display_name.toLowerCase()) await assertNameFree(trx, name.toLowerCase(), row.id);
    await renamePushedGroupRoles(trx, ctx.actor, row.id, row.display_name, name);
    parts.push(`renamed group ${row.display_name} to ${name}`);
  }
  if (change) {
    let known = 0;
    let added = 0;
    let removed = 0;
    if (change.replaceAll) {
      // A difference worked out before the transaction holds only for the version it was worked out from.
      const planned = change.planned?.version === row.version ? change.planned : undefined;
      ({ known, added, removed } = await replaceMembers(trx, row.id, change.add, planned));
    }
    else {
      if (change.remove.size) removed = await removeMembers(trx, row.id, [...change.remove]);
      if (change.add.size) ({ known, added } = await addKnownMembers(trx, row.id, [...change.add]));
      noteRowsWritten(ctx.db, 'pushed_group_members', added);
    }
    const unknown = change.add.size - known;
    if (added) parts.push(`added ${plural(added, 'member')} to ${name}`);
    if (removed) parts.push(`removed ${plural(removed, 'member')} from ${name}`);
    if (unknown) parts.push(`ignored ${plural(unknown, 'unknown member')}`);
    if (!added && !removed && !unknown) parts.push(`membership of ${name} unchanged`);
  }
  const stored = { ...attrs };
  delete stored.displayName;
  const storedText = JSON.stringify(stored);
  const changed = parts.length > 0 || storedText !== (row.scim_attributes ?? '{}') || attributesChanged;
  if (!parts.length) parts.push(`updated group ${name}`);
  const summary = parts.join('; ');
  const now = nowIso();
  const next: Row = { ...row, display_name: name, external_id: searchableStr(attrs.externalId, 'externalId'), scim_attributes: storedText, version: row.version + (changed ? 1 : 0), updated_at: changed ? now : row.updated_at };
  if (changed) {
    try {
      await trx
        .updateTable('pushed_groups')
        .set({ display_name: name, display_name_norm: name.toLowerCase(), external_id: next.external_id, scim_attributes: storedText, version: next.version, updated_at: now })
        .where('id', '=', row.id)
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('A group with this displayName already exists.');
      throw err;
    }
    await recordAudit(trx, ctx.actor, { action: 'group.update', targetType: 'pushed_group', targetId: row.id, targetName: name, summary });
  }
  return { row: next, outcome: { summary, resourceId: row.id } };
}

/** A membership change, and for a PUT on SQLite the difference it makes as worked out before the transaction. */
type PlannedChange = MemberChange & { planned?: MemberDiff };

/** A group PUT's body as replaceGroup applies it: read and checked before its transaction begins. */
export interface GroupReplacement {
  attrs: Resource;
  change: PlannedChange;
}

/**
 * A group PUT's body as replaceGroup applies it (groupReplacement), after a turn of the event loop: the
 * body was parsed just before, and the steps of a request follow one another as promises, with no turn
 * between them. On SQLite it also works out what the PUT changes in the group's members
 * (planReplacement), so that the transaction, which holds the process's one connection, only applies it.
 */
export async function readGroupReplacement(db: Kysely<DB>, id: string, body: unknown): Promise<GroupReplacement> {
  await nextTurn();
  const put = groupReplacement(body);
  if (!isPostgres(db)) put.change.planned = (await planReplacement(db, id, put.change.add)) ?? undefined;
  return put;
}

/** Reads a group PUT's body (for 102,100 members, 45 ms of the request thread, outside the transaction). */
function groupReplacement(body: unknown): GroupReplacement {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The body must be a Group object', 'invalidSyntax');
  const attrs = canonicalize('Group', body as Record<string, unknown>);
  // PUT replaces membership too; a body without "members" means no members (RFC 7644 §3.5.1).
  const members = memberIds(getProp(body, 'members'));
  return { attrs, change: { replaceAll: true, add: new Set(members), remove: new Set() } };
}

/**
 * A PUT of a group. On PostgreSQL the answer is read in the transaction (one snapshot, for free) and
 * `answer` makes it once the caller has committed (a large group's members written as text after the
 * group's row lock is released); on SQLite `answer` is null and the caller reads the group after the
 * COMMIT, as a GET does (getGroup, in chunks): the transaction holds the process's one connection,
 * and every other request waits for it to end. Read inside it, the 102,100 members of the benchmark's
 * group kept them waiting 266-370 ms more.
 */
export async function replaceGroup(ctx: ScimCtx, trx: Transaction<DB>, id: string, put: GroupReplacement, pre?: Preconditions, projection?: Projection) {
  const row = await loadRow(trx, id, true);
  checkPreconditions(pre, etagOf(row.version));
  const { row: next, outcome } = await save(ctx, trx, row, put.attrs, put.change, true);
  const answer = isPostgres(trx) ? await readShaped(ctx, trx, next, projection) : null;
  return { answer, outcome, etag: etagOf(next.version) };
}

/** A group's attributes as a PATCH sees them (members aside: they change as a MemberChange). */
function patchable(row: Row): Resource {
  const current: Resource = { ...storedAttributes(row.scim_attributes), displayName: row.display_name };
  if (row.external_id !== null) current.externalId = row.external_id;
  return current;
}

/** A PATCH of a group: `ops` as parsePatchRequest gives them. */
export async function patchGroup(ctx: ScimCtx, trx: Transaction<DB>, id: string, ops: PatchOperation[], pre?: Preconditions) {
  // The group's row is locked before anything else is read or written, on PostgreSQL as in every
  // write of a group (see PATCH_MEMBERS_PG). A membership-only PATCH here (one that replaces the whole
  // member list: the others go as one statement) locked it last, after its members, and deadlocked
  // with a DELETE of the group or of a member (a 500 after a wait). SQLite runs one writer at a time.
  const row = await loadRow(trx, id, true);
  checkPreconditions(pre, etagOf(row.version));
  const result = applyPatch('Group', patchable(row), ops);
  const { row: next, outcome } = await save(ctx, trx, row, result.attributes, result.members, result.attributesChanged);
  return { row: next, outcome, etag: etagOf(next.version) };
}

// PostgreSQL: a PATCH that only adds and/or removes members (Entra's and Okta's group pushes; the
// common case) is one statement, outside any transaction: it locks the group's row, removes, adds the
// ids that are users (the steps of removeMembers and addKnownMembers), writes the audit entry with its
// summary in words and bumps the group's version (pushed_group_touched, migration 012: a group deleted
// since it was read fails the whole statement). One round trip instead of five (BEGIN, members, audit,
// version, COMMIT), and the group row is locked only while the statement runs, not while this
// process gets round to sending a COMMIT. Its summary words are save()'s, written in SQL; a test
// ("Entra's membership PATCHes…", run on both databases) checks that the two say the same.
const PATCH_MEMBERS_PG = (() => {
  const next = placeholders();
  const [group, adds, removes, name, wanted] = next(5).split(', ');
  // The audit entry's columns as auditValues gives them, but for the summary, which is written here.
  const auditSelect = AUDIT_COLUMNS.map((c) => (c === 'summary' ? 's.summary' : next())).join(', ');
  const at = next();
  const count = (n: string, words: string) => `format('${words}', ${n}, case when ${n} = 1 then '' else 's' end, ${name}::text)`;
  // The group's row is locked first, before any membership or user: the order of every other write
  // of a group (PUT, PATCH in a transaction, DELETE) and of a user's deletion. Locked last, as it was
  // (by pushed_group_touched), it deadlocked with them on PostgreSQL: a fuzzer's concurrent DELETEs
  // and PATCHes of the same groups and their members got 500s after waits of up to 9 s (session 34).
  // The condition on `g` is evaluated once, before the statement's other parts read a row.
  const locked = '(select id from g) is not null';
  return `with g as (
  select id from pushed_groups where id = ${group} for update
), removed as (
  ${removeMembersPg(group, removes)} and ${locked} returning 1
), ${addKnownMembersPg(group, adds, locked)}, n as (
  select (select count(*) from added) as added, (select count(*) from removed) as removed, ${wanted}::int - (select count(*) from wanted) as unknown
), s as (
  select n.*, concat_ws('; ',
    case when added > 0 then ${count('added', 'added %s member%s to %s')} end,
    case when removed > 0 then ${count('removed', 'removed %s member%s from %s')} end,
    case when unknown > 0 then format('ignored %s unknown member%s', unknown, case when unknown = 1 then '' else 's' end) end,
    case when added = 0 and removed = 0 and unknown = 0 then format('membership of %s unchanged', ${name}::text) end) as summary
  from n
), a as (
  insert into audit_log (${AUDIT_COLUMNS.join(', ')}) select ${auditSelect} from s
)
select s.added, s.summary, pushed_group_touched(${group}, ${at}) as version from s`;
})();

const groupById = precompiled<Row>((db, arg) => db.selectFrom('pushed_groups').select(COLS).where('id', '=', arg(0)));

/**
 * patchGroup on PostgreSQL for a PATCH that only adds and/or removes members, as one statement (see
 * PATCH_MEMBERS_PG); null when the PATCH is anything else (If-Match or If-None-Match, attributes, replace of the whole
 * member list), which then goes through patchGroup in a transaction.
 */
export async function patchGroupMembersInOneStatement(ctx: ScimCtx, id: string, ops: PatchOperation[], pre?: Preconditions): Promise<{ outcome: Outcome; etag: string } | null> {
  if (hasPreconditions(pre)) return null;
  const [row] = await groupById(ctx.db, id);
  if (!row) throw notFound(`Group ${id} not found`);
  const { attributes, members: change } = applyPatch('Group', patchable(row), ops);
  if (!change || change.replaceAll || !sameAttributes(row, attributes)) return null;
  const audit = auditValues(ctx.actor, { action: 'group.update', targetType: 'pushed_group', targetId: row.id, targetName: row.display_name, summary: '' });
  audit.splice(AUDIT_COLUMNS.indexOf('summary'), 1);
  const values = [row.id, [...change.add], [...change.remove], row.display_name, change.add.size, ...audit, nowIso()];
  let r: { added: number; summary: string; version: number };
  try {
    [r] = await runPgStatement<typeof r>(ctx.db, PATCH_MEMBERS_PG, values);
  } catch (err) {
    if ((err as { code?: unknown }).code === 'P0002') throw notFound(`Group ${id} not found`);
    throw err;
  }
  noteRowsWritten(ctx.db, 'pushed_group_members', Number(r.added));
  return { outcome: { summary: r.summary, resourceId: row.id }, etag: etagOf(Number(r.version)) };
}

/** The group after a PATCH, for clients that asked for it with attributes/excludedAttributes. */

export async function deleteGroup(ctx: ScimCtx, trx: Transaction<DB>, id: string, pre?: Preconditions): Promise<Outcome> {
  const row = await loadRow(trx, id, true);
  checkPreconditions(pre, etagOf(row.version));
  const memberCount = await countMembers(trx, id);
  await deletePushedGroupRoles(trx, ctx.actor, { id, displayName: row.display_name, memberCount });
  await trx.deleteFrom('pushed_groups').where('id', '=', id).execute();
  const summary = `deleted group ${row.display_name}${memberCount ? ` (${plural(memberCount, 'member')})` : ''}`;
  await recordAudit(trx, ctx.actor, { action: 'group.delete', targetType: 'pushed_group', targetId: id, targetName: row.display_name, summary });
  return { summary, resourceId: id };
}
