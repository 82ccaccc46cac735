// Identity-side rules for groups pushed from the IdP (SCIM Groups): each pushed group has one SCIM
// role and one SCIM role group whose levels start as a copy of the SCIM Default role group; a rename
// renames both; a delete removes both. Membership changes are applied as the difference only
// (O(members changed)); effective permissions are read from membership on every request
// (permissions.repo.ts), so nothing needs recomputing here.
// Called by src/scim inside the SCIM request's transaction; never imports from src/scim.
import { randomUUID } from 'node:crypto';
import { CompiledQuery, type Kysely, type Transaction } from 'kysely';
import { preparedPgStatement } from '../db/database.ts';
import { runPgStatement } from '../db/precompiled.ts';
import { isPostgres } from '../db/dialect.ts';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { nextTurn } from '../platform/next-turn.ts';
import { nowIso } from '../platform/time.ts';
import { recordAudit } from './audit.service.ts';
import { levelsOfRoleGroup } from './permissions.repo.ts';

type Db = Kysely<DB> | Transaction<DB>;

const CHUNK = 500;
function chunks<T>(xs: T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** `name`, or `name (SCIM)`, `name (SCIM 2)`… : the first not taken in `table`. */
async function freeName(db: Db, table: 'roles' | 'role_groups', name: string, exceptPushedGroupId?: string): Promise<string> {
  const candidates = [name, `${name} (SCIM)`, ...Array.from({ length: 20 }, (_, i) => `${name} (SCIM ${i + 2})`)];
  let q = db.selectFrom(table).select('name_norm').where('name_norm', 'in', candidates.map((c) => c.toLowerCase()));
  if (exceptPushedGroupId) q = q.where((eb) => eb.or([eb('pushed_group_id', 'is', null), eb('pushed_group_id', '<>', exceptPushedGroupId)]));
  const taken = new Set((await q.execute()).map((r) => r.name_norm));
  const free = candidates.find((c) => !taken.has(c.toLowerCase()));
  return free ?? `${name} (SCIM ${randomUUID().slice(0, 8)})`;
}

/** Creates the SCIM role and SCIM role group of a newly pushed group. */
export async function createPushedGroupRoles(db: Db, actor: Actor, group: { id: string; displayName: string }): Promise<{ roleId: string; roleGroupId: string }> {
  const now = nowIso();
  const def = await db.selectFrom('role_groups').select(['id', 'name']).where('is_scim_default', '=', 1).executeTakeFirst();
  const levels = def ? await levelsOfRoleGroup(db, def.id) : null;
  const rgName = await freeName(db, 'role_groups', group.displayName);
  const roleName = await freeName(db, 'roles', group.displayName);
  const roleGroupId = randomUUID();
  const roleId = randomUUID();
  await db
    .insertInto('role_groups')
    .values({ id: roleGroupId, name: rgName, name_norm: rgName.toLowerCase(), core_kind: null, is_scim_default: 0, pushed_group_id: group.id, version: 1, created_at: now, updated_at: now })
    .execute();
  const rows = Object.entries(levels ?? {}).map(([screen, level]) => ({ role_group_id: roleGroupId, screen, level }));
  if (rows.length) await db.insertInto('role_group_levels').values(rows).execute();
  await db.insertInto('roles').values({ id: roleId, name: roleName, name_norm: roleName.toLowerCase(), is_core: 0, pushed_group_id: group.id, created_at: now, updated_at: now }).execute();
  await db.insertInto('role_role_groups').values({ role_id: roleId, role_group_id: roleGroupId }).execute();
  await recordAudit(db, actor, {
    action: 'pushed_group.create',
    targetType: 'pushed_group',
    targetId: group.id,
    targetName: group.displayName,
    summary: `group ${group.displayName} pushed: created SCIM role ${roleName} and role group ${rgName} (levels copied from ${def?.name ?? 'no SCIM Default'})`,
    details: { roleId, roleGroupId, copiedFrom: def?.id ?? null },
  });
  return { roleId, roleGroupId };
}

/** Renames the SCIM role and role group after the pushed group's displayName changed. */
export async function renamePushedGroupRoles(db: Db, actor: Actor, groupId: string, oldName: string, newName: string): Promise<void> {
  const now = nowIso();
  const rgName = await freeName(db, 'role_groups', newName, groupId);
  const roleName = await freeName(db, 'roles', newName, groupId);
  await db.updateTable('role_groups').set({ name: rgName, name_norm: rgName.toLowerCase(), updated_at: now }).where('pushed_group_id', '=', groupId).execute();
  await db.updateTable('roles').set({ name: roleName, name_norm: roleName.toLowerCase(), updated_at: now }).where('pushed_group_id', '=', groupId).execute();
  await recordAudit(db, actor, {
    action: 'pushed_group.rename',
    targetType: 'pushed_group',
    targetId: groupId,
    targetName: newName,
    summary: `group ${oldName} renamed to ${newName} (SCIM role and role group renamed)`,
  });
}

/** Removes the SCIM role and role group of a pushed group that is being deleted. */
export async function deletePushedGroupRoles(db: Db, actor: Actor, group: { id: string; displayName: string; memberCount: number }): Promise<void> {
  const roles = await db.selectFrom('roles').select('id').where('pushed_group_id', '=', group.id).execute();
  const roleIds = roles.map((r) => r.id);
  if (roleIds.length) {
    await db.updateTable('users').set({ role_id: null }).where('role_id', 'in', roleIds).execute();
    await db.deleteFrom('roles').where('id', 'in', roleIds).execute();
  }
  await db.deleteFrom('role_groups').where('pushed_group_id', '=', group.id).execute();
  await recordAudit(db, actor, {
    action: 'pushed_group.delete',
    targetType: 'pushed_group',
    targetId: group.id,
    targetName: group.displayName,
    summary: `group ${group.displayName} deleted: removed its SCIM role and role group; ${group.memberCount} member(s) fall back to their other groups or SCIM Default`,
  });
}

// Many ids go to the database as one array parameter (an Okta group PUT sends the whole member list),
// not in chunks of 500 `in (…)` parameters that each had to be parsed and planned: measured on
// PostgreSQL, a PUT of a 10,000-member group spent 70 of its 170 ms in 22 such look-ups. SQLite
// reads the array as JSON. Only provisioned users (source 'idp') can be members: the SCIM client cannot
// see local users (GET /Users/{id} is a 404 for them), so their ids are unknown members here too.
// The unary + keeps SQLite off the index that starts with `source` (users_source_created_id): without
// it SQLite, which has no statistics here, read every provisioned user to check each against the ids
// (bench:scim at 10,000 users: +100 members to an empty group 3.83 -> 48 ms, 16-way p99 30 -> 482 ms).
export const KNOWN_USERS_SQLITE = "select id from users where id in (select value from json_each(?)) and +source = 'idp'";

/** SQLite: of `ids` (distinct), those that are provisioned users, in the order given. */
async function knownUserIds(db: Db, ids: string[]): Promise<string[]> {
  const found = new Set((await db.executeQuery<{ id: string }>(CompiledQuery.raw(KNOWN_USERS_SQLITE, [JSON.stringify(ids)]))).rows.map((r) => r.id));
  return ids.filter((id) => found.has(id));
}

/** SQLite: inserts memberships of users known to exist; returns how many were not members before. */
async function insertMembers(db: Db, groupId: string, userIds: string[]): Promise<number> {
  let added = 0;
  for (const part of chunks(userIds)) {
    const res = await db
      .insertInto('pushed_group_members')
      .values(part.map((user_id) => ({ group_id: groupId, user_id })))
      .onConflict((oc) => oc.columns(['user_id', 'group_id']).doNothing())
      .executeTakeFirst();
    added += Number(res.numInsertedOrUpdatedRows ?? 0);
  }
  return added;
}

// PostgreSQL: the users look-up and the insert in one statement, with the ids as one array parameter,
// so its text is fixed and it is parsed and planned once per connection (a named prepared statement).
// Rows go in in the order given (`ord`), which is the members' order. The users are share-locked as
// they are read, as a foreign key check would: a user deleted meanwhile is either waited for and not
// added, or waits for this transaction and then takes the new memberships with it (migration 011).
// The group is not locked here: its callers lock its row first (the order every write of a group
// takes, so that they cannot deadlock), and a group deleted meanwhile fails the request with a 404.
// The two steps are CTEs `wanted` (the users among the ids, in order) and `added` (one row per new
// membership), so that a statement of its own can include them (src/scim/scim.groups.ts: a PATCH that
// adds and removes members); `group` and `ids` are that statement's placeholders.
// `after` (a condition), when given, is evaluated once before any user is read: a statement that
// must lock the group first (the order every write takes, src/scim/scim.groups.ts) passes one that
// reads its locked row.
export const addKnownMembersPg = (group: string, ids: string, after?: string) => `wanted as (
  select w.user_id, w.ord from unnest(${ids}::text[]) with ordinality as w(user_id, ord)
  join users u on u.id = w.user_id and u.source = 'idp'${after ? `
  where ${after}` : ''}
  for key share of u
), added as (
  insert into pushed_group_members (group_id, user_id)
  select ${group}, user_id from wanted order by ord
  on conflict (user_id, group_id) do nothing
  returning 1
)`;
export const ADD_KNOWN_MEMBERS_PG = `with ${addKnownMembersPg('$1', '$2')}
select (select count(*) from wanted) as known, (select count(*) from added) as added`;

/**
 * Adds those of `ids` that are provisioned users, in the order given; returns how many of them are and how
 * many were not members before. Cost: O(ids).
 */
export async function addKnownMembers(db: Db, groupId: string, ids: string[]): Promise<{ known: number; added: number }> {
  const unique = [...new Set(ids)];
  if (!unique.length) return { known: 0, added: 0 };
  if (isPostgres(db)) {
    const [r] = await runPgStatement<{ known: string; added: string }>(db, ADD_KNOWN_MEMBERS_PG, [groupId, unique]);
    return { known: Number(r.known), added: Number(r.added) };
  }
  const known = await knownUserIds(db, unique);
  return { known: known.length, added: known.length ? await insertMembers(db, groupId, known) : 0 };
}

/** PostgreSQL: deletes the memberships of `ids` (placeholders, as for addKnownMembersPg). */
export const removeMembersPg = (group: string, ids: string) => `delete from pushed_group_members where group_id = ${group} and user_id = any(${ids}::text[])`;
const REMOVE_MEMBERS_PG = removeMembersPg('$1', '$2');
const REMOVE_MEMBERS_SQLITE = 'delete from pushed_group_members where group_id = ? and user_id in (select value from json_each(?))';
preparedPgStatement(REMOVE_MEMBERS_PG);

/** Removes members; returns how many were members. Cost: O(ids); one statement with an array parameter. */
export async function removeMembers(db: Db, groupId: string, userIds: string[]): Promise<number> {
  if (!userIds.length) return 0;
  const query = isPostgres(db) ? CompiledQuery.raw(REMOVE_MEMBERS_PG, [groupId, userIds]) : CompiledQuery.raw(REMOVE_MEMBERS_SQLITE, [groupId, JSON.stringify(userIds)]);
  return Number((await db.executeQuery(query)).numAffectedRows ?? 0);
}

// SQLite: a group's member ids as one JSON array, parsed in one call, instead of a row object per
// member (for 102,100 members 19-25 ms against 63-85 ms).
const MEMBER_IDS_SQLITE = "select json_group_array(user_id) as ids from pushed_group_members where group_id = ?";

/** The ids of a group's members. */
async function memberIds(db: Db, groupId: string): Promise<string[]> {
  if (isPostgres(db)) return (await db.selectFrom('pushed_group_members').select('user_id').where('group_id', '=', groupId).execute()).map((r) => r.user_id);
  const [row] = (await db.executeQuery<{ ids: string }>(CompiledQuery.raw(MEMBER_IDS_SQLITE, [groupId]))).rows;
  return JSON.parse(row.ids) as string[];
}

/** What turns a group's member list into another: the ids to add and those to remove. */
interface Difference {
  toAdd: string[];
  toRemove: string[];
}

/** How a group's members are to change for a PUT: worked out from the group as it was at `version`. */
export interface MemberDiff extends Difference {
  version: number;
}

/** What turns `current` into `want`; with `slice`, a turn of the event loop after every `slice` ids compared. */
async function difference(current: string[], want: ReadonlySet<string>, slice = Infinity): Promise<Difference> {
  const have = new Set<string>();
  const toRemove: string[] = [];
  let n = 0;
  for (const id of current) {
    if (++n % slice === 0) await nextTurn();
    have.add(id);
    if (!want.has(id)) toRemove.push(id);
  }
  const toAdd: string[] = [];
  for (const id of want) {
    if (++n % slice === 0) await nextTurn();
    if (!have.has(id)) toAdd.push(id);
  }
  return { toAdd, toRemove };
}

/** Ids compared between two turns of the event loop while a PUT's difference is worked out. */
const COMPARE_SLICE = 10_000;

// SQLite: the group's version and its member ids in one statement, so the two are of one state.
const VERSION_AND_MEMBERS_SQLITE = 'select g.version, (select json_group_array(m.user_id) from pushed_group_members m where m.group_id = g.id) as ids from pushed_groups g where g.id = ?';

/**
 * SQLite: the difference between a group's members and `want`, worked out before the PUT's write
 * transaction begins, `COMPARE_SLICE` ids at a time with a turn of the event loop between slices; null
 * when there is no such group (the transaction then answers 404). The process has one SQLite connection
 * and a write transaction holds it: worked out inside, a group of 102,100 members kept every other request
 * waiting for its read and its comparison, in one piece (docs/performance.md, session 27).
 * replaceMembers uses it only if the group's version is still `version` in the transaction: every change
 * of a group's members moves its version.
 */
export async function planReplacement(db: Kysely<DB>, groupId: string, want: ReadonlySet<string>): Promise<MemberDiff | null> {
  // A turn before each long step: reading the body into `want` came just before, and the read is one
  // piece too.
  await nextTurn();
  const [row] = (await db.executeQuery<{ version: number; ids: string }>(CompiledQuery.raw(VERSION_AND_MEMBERS_SQLITE, [groupId]))).rows;
  if (!row) return null;
  await nextTurn();
  return { version: Number(row.version), ...(await difference(JSON.parse(row.ids) as string[], want, COMPARE_SLICE)) };
}

/**
 * Makes the member list exactly the users among `want`, touching only the difference; returns how
 * many of them are provisioned users. Only the ids that are not members yet are looked up: members are.
 * For Okta, which sends a group's whole member list with every change, a group of 100,000 members is
 * read and compared in full on each one (docs/performance.md, session 21), here unless `planned` (the
 * difference as planReplacement worked it out for the group's current version) is given.
 */
export async function replaceMembers(db: Db, groupId: string, want: ReadonlySet<string>, planned?: MemberDiff): Promise<{ known: number; added: number; removed: number }> {
  const { toAdd, toRemove } = planned ?? (await difference(await memberIds(db, groupId), want));
  const removed = toRemove.length ? await removeMembers(db, groupId, toRemove) : 0;
  const { known, added } = await addKnownMembers(db, groupId, toAdd);
  return { known: want.size - toAdd.length + known, added, removed };
}
