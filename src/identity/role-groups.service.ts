// Role groups: named sets of per-screen levels. Core role groups (Admin, ReadOnly) are immutable;
// SCIM role groups are created by pushed groups and only their levels may change here.
// Exactly one role group carries the SCIM Default flag (a partial unique index enforces it).
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../platform/errors.ts';
import { ilike, isPostgres, likeEscape } from '../db/dialect.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { recordAudit } from './audit.service.ts';
import { LEVEL_LABEL, isScreenKey, screenLabel, type Level, type Permissions } from './catalogue.ts';
import { refuseGivingAbove } from './permission-ceiling.ts';
import { levelsOf } from './permissions.ts';
import { levelsOfRoleGroup } from './permissions.repo.ts';

type Db = Kysely<DB> | Transaction<DB>;

function toItem(r: { id: string; name: string; core_kind: string | null; is_scim_default: number; pushed_group_id: string | null; group_name?: string | null; role_count?: number | string | null }) {
  return {
    id: r.id,
    name: r.name,
    isCore: r.core_kind !== null,
    isScimDefault: r.is_scim_default === 1,
    pushedGroup: r.pushed_group_id ? { id: r.pushed_group_id, name: r.group_name ?? '' } : null,
    roleCount: Number(r.role_count ?? 0),
  };
}

function baseQuery(db: Db) {
  return db
    .selectFrom('role_groups as rg')
    .leftJoin('pushed_groups as g', 'g.id', 'rg.pushed_group_id')
    .select((eb) => [
      'rg.id', 'rg.name', 'rg.name_norm', 'rg.core_kind', 'rg.is_scim_default', 'rg.pushed_group_id', 'g.display_name as group_name',
      eb.selectFrom('role_role_groups as rrg').select((e) => e.fn.countAll<number>().as('n')).whereRef('rrg.role_group_id', '=', 'rg.id').as('role_count'),
    ]);
}

export async function listRoleGroups(db: Db, query: { q?: string; limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const after = decodeCursor(query.cursor, ['text']);
  let qb = baseQuery(db);
  if (query.q?.trim()) qb = qb.where(ilike(db, 'rg.name', `%${likeEscape(query.q!.trim())}%`));
  if (after) qb = qb.where('rg.name_norm', '>', String(after[0]));
  const rows = await qb.orderBy('rg.name_norm').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.name_norm]);
  return { items: p.items.map(toItem), nextCursor: p.nextCursor };
}

export async function getRoleGroup(db: Db, id: string) {
  const row = await baseQuery(db).where('rg.id', '=', id).executeTakeFirst();
  if (!row) return null;
  const levels = (await levelsOfRoleGroup(db, id))!;
  const references = await db.selectFrom('role_role_groups as rrg').innerJoin('roles as r', 'r.id', 'rrg.role_id').select(['r.id', 'r.name']).where('rrg.role_group_id', '=', id).orderBy('r.name_norm').execute();
  return { ...toItem(row), levels, references, people: await peopleReached(db, row) };
}

/** Who this role group reaches: users whose role holds it, members of its pushed group, and (if SCIM Default) provisioned users in no pushed group. */
async function peopleReached(db: Db, rg: { id: string; pushed_group_id: string | null; is_scim_default: number }) {
  const viaRole = db.selectFrom('users as u').innerJoin('role_role_groups as rrg', 'rrg.role_id', 'u.role_id').select(['u.id', 'u.user_name', 'u.display_name']).where('rrg.role_group_id', '=', rg.id).where('u.source', '=', 'local');
  let q = viaRole;
  if (rg.pushed_group_id) {
    q = q.union(db.selectFrom('users as u').innerJoin('pushed_group_members as m', 'm.user_id', 'u.id').select(['u.id', 'u.user_name', 'u.display_name']).where('m.group_id', '=', rg.pushed_group_id));
  }
  if (rg.is_scim_default) {
    q = q.union(
      db.selectFrom('users as u').select(['u.id', 'u.user_name', 'u.display_name']).where('u.source', '=', 'idp')
        .where((eb) => eb.not(eb.exists(eb.selectFrom('pushed_group_members as m').innerJoin('role_groups as x', 'x.pushed_group_id', 'm.group_id').select('m.user_id').whereRef('m.user_id', '=', 'u.id')))),
    );
  }
  const rows = await db.selectFrom(q.as('p')).selectAll().orderBy('user_name').limit(500).execute();
  return rows.map((r) => ({ id: r.id, userName: r.user_name, displayName: r.display_name }));
}

function checkLevels(levels: Record<string, string> | undefined): Partial<Permissions> {
  if (!levels) return {};
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(levels)) {
    if (!isScreenKey(k)) fields[`levels.${k}`] = 'Unknown screen';
    else if (v !== 'none' && v !== 'read' && v !== 'full') fields[`levels.${k}`] = 'Use none, read or full';
  }
  if (Object.keys(fields).length) throw Invalid('Some permissions are not valid', fields);
  return levels as Partial<Permissions>;
}

function checkName(name: string | undefined): string {
  const n = (name ?? '').trim();
  if (!n) throw Invalid('A name is required', { name: 'Required' });
  if (n.length > 100) throw Invalid('Name too long', { name: 'Use at most 100 characters' });
  return n;
}

async function writeLevels(trx: Db, id: string, levels: Partial<Permissions>) {
  const keys = Object.keys(levels);
  if (!keys.length) return;
  await trx.deleteFrom('role_group_levels').where('role_group_id', '=', id).where('screen', 'in', keys).execute();
  const rows = Object.entries(levels).filter(([, l]) => l !== 'none').map(([screen, level]) => ({ role_group_id: id, screen, level: level as Level }));
  if (rows.length) await trx.insertInto('role_group_levels').values(rows).execute();
}

function describeLevels(levels: Partial<Permissions>): string {
  return Object.entries(levels).map(([k, l]) => `${screenLabel(k as never)}: ${LEVEL_LABEL[l as Level]}`).join(', ');
}

export async function createRoleGroup(db: Kysely<DB>, actor: Actor, input: { name: string; levels?: Record<string, string> }) {
  const name = checkName(input.name);
  const levels = checkLevels(input.levels);
  const id = randomUUID();
  const now = nowIso();
  try {
    await db.transaction().execute(async (trx) => {
      await refuseGivingAbove(trx, actor, levelsOf({ coreKind: null, levels }));
      await trx.insertInto('role_groups').values({ id, name, name_norm: name.toLowerCase(), core_kind: null, is_scim_default: 0, pushed_group_id: null, version: 1, created_at: now, updated_at: now }).execute();
      await writeLevels(trx, id, levels);
      await recordAudit(trx, actor, { action: 'role_group.create', targetType: 'role_group', targetId: id, targetName: name, summary: `created role group ${name}${Object.keys(levels).length ? ` (${describeLevels(levels)})` : ''}`, details: { levels } });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw Conflict(`A role group named ${name} already exists`, { name: 'This name is taken' });
    throw err;
  }
  return (await getRoleGroup(db, id))!;
}

export async function updateRoleGroup(db: Kysely<DB>, actor: Actor, id: string, input: { name?: string; levels?: Record<string, string>; isScimDefault?: boolean }) {
  const rg = await db.selectFrom('role_groups').selectAll().where('id', '=', id).executeTakeFirst();
  if (!rg) throw NotFound('No such role group');
  const wantsChange = input.name !== undefined || input.levels !== undefined;
  if (rg.core_kind && wantsChange) throw Conflict(`${rg.name} is a core role group and cannot be changed`);
  if (rg.pushed_group_id && input.name !== undefined && input.name.trim() !== rg.name) throw Invalid('SCIM role groups are renamed by renaming the group in your identity provider', { name: 'Managed by your identity provider' });
  if (input.isScimDefault === false) throw Invalid('Mark another role group as SCIM Default instead', { isScimDefault: 'One role group is always the SCIM Default' });
  const name = input.name !== undefined ? checkName(input.name) : rg.name;
  const levels = checkLevels(input.levels);
  try {
    await db.transaction().execute(async (trx) => {
      if (input.isScimDefault && !rg.is_scim_default) {
        // PostgreSQL: waits for another admin's move of the flag, committed or not, so that the clearing
        // below, a statement later, sees where the flag is now (otherwise both moves set it and the one
        // index that allows a single SCIM Default refuses the second).
        let flagged = trx.selectFrom('role_groups').select('id').where('is_scim_default', '=', 1);
        if (isPostgres(trx)) flagged = flagged.forUpdate();
        const old = await flagged.executeTakeFirst();
        // The SCIM Default gives its levels to provisioned users in no pushed group: the move may not
        // raise a screen above the actor's own level (counting the levels this request sets).
        const mine = await levelsOfRoleGroup(trx, id);
        if (!mine) throw NotFound('No such role group');
        await refuseGivingAbove(trx, actor, { ...mine, ...levels }, old ? (await levelsOfRoleGroup(trx, old.id)) ?? undefined : undefined);
        await trx.updateTable('role_groups').set({ is_scim_default: 0 }).where('is_scim_default', '=', 1).execute();
        const moved = await trx.updateTable('role_groups').set({ is_scim_default: 1 }).where('id', '=', id).executeTakeFirst();
        // Deleted since it was read: the flag it cleared above comes back with the rollback.
        if (!Number(moved.numUpdatedRows)) throw NotFound('No such role group');
        await recordAudit(trx, actor, { action: 'role_group.scim_default', targetType: 'role_group', targetId: id, targetName: rg.name, summary: `made ${rg.name} the SCIM Default role group` });
      }
      if (wantsChange) {
        // The name is written only when it changes, and the version moves from the row's current one:
        // `rg` was read before the transaction, and a SCIM rename of the group committed since then
        // (Okta re-sends the name with every membership change) would otherwise be undone by an edit of
        // the levels alone.
        const renamed = name !== rg.name ? { name, name_norm: name.toLowerCase() } : {};
        const row = await trx.updateTable('role_groups').set({ ...renamed, version: sql<number>`version + 1`, updated_at: nowIso() }).where('id', '=', id).returning('name').executeTakeFirst();
        if (!row) throw NotFound('No such role group');
        // Read after the update above, which holds the role group: a screen left above the actor's level
        // is kept, one lowered is allowed, one raised above it is refused.
        const before = (await levelsOfRoleGroup(trx, id))!;
        await refuseGivingAbove(trx, actor, { ...before, ...levels }, before);
        await writeLevels(trx, id, levels);
        const changed = Object.fromEntries(Object.entries(levels).filter(([k, l]) => before[k as keyof Permissions] !== l));
        const parts = [name !== rg.name ? `renamed to ${name}` : '', Object.keys(changed).length ? describeLevels(changed) : ''].filter(Boolean);
        if (parts.length) await recordAudit(trx, actor, { action: 'role_group.update', targetType: 'role_group', targetId: id, targetName: row.name, summary: `updated role group ${name !== rg.name ? rg.name : row.name}: ${parts.join('; ')}`, details: { name: row.name, levels: changed } });
      }
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw Conflict(`A role group named ${name} already exists`, { name: 'This name is taken' });
    throw err;
  }
  return (await getRoleGroup(db, id))!;
}

export async function deleteRoleGroup(db: Kysely<DB>, actor: Actor, id: string) {
  const rg = await db.selectFrom('role_groups').selectAll().where('id', '=', id).executeTakeFirst();
  if (!rg) throw NotFound('No such role group');
  if (rg.core_kind) throw Conflict(`${rg.name} is a core role group and cannot be deleted`);
  if (rg.pushed_group_id) throw Conflict(`${rg.name} belongs to a pushed group; unlink the group in your identity provider to remove it`);
  if (rg.is_scim_default) throw Conflict(`${rg.name} is the SCIM Default role group; mark another one as SCIM Default first`);
  await db.transaction().execute(async (trx) => {
    // Read again and locked (PostgreSQL) in the transaction: a role given this role group at this moment
    // (it share-locks the role groups it is given) either committed before, and shows in `refs`, or
    // waits and then finds it gone; a move of the SCIM Default flag to it either committed before, and
    // is seen here, or finds it gone.
    let q = trx.selectFrom('role_groups').select('is_scim_default').where('id', '=', id);
    if (isPostgres(trx)) q = q.forUpdate();
    const now = await q.executeTakeFirst();
    if (!now) throw NotFound('No such role group');
    if (now.is_scim_default) throw Conflict(`${rg.name} is the SCIM Default role group; mark another one as SCIM Default first`);
    const refs = await trx.selectFrom('role_role_groups as rrg').innerJoin('roles as r', 'r.id', 'rrg.role_id').select('r.name').where('rrg.role_group_id', '=', id).execute();
    if (refs.length) throw Conflict(`${rg.name} is used by ${refs.map((r) => r.name).join(', ')}; remove it from those roles first`);
    await trx.deleteFrom('role_groups').where('id', '=', id).execute();
    await recordAudit(trx, actor, { action: 'role_group.delete', targetType: 'role_group', targetId: id, targetName: rg.name, summary: `deleted role group ${rg.name}` });
  });
}
