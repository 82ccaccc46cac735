// Roles: named sets of role groups, assigned to local users. Core roles (Admin, Read Only Core)
// are immutable; SCIM roles (created by pushed groups) can be renamed only — by the IdP.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../platform/errors.ts';
import { ilike, isPostgres, likeEscape } from '../db/dialect.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { recordAudit } from './audit.service.ts';
import { refuseGivingAbove } from './permission-ceiling.ts';
import { levelsOfRole, levelsOfRoleGroups } from './permissions.repo.ts';

type Db = Kysely<DB> | Transaction<DB>;

async function roleGroupsOf(db: Db, roleIds: string[]) {
  const map = new Map<string, { id: string; name: string }[]>();
  if (!roleIds.length) return map;
  const rows = await db.selectFrom('role_role_groups as rrg').innerJoin('role_groups as rg', 'rg.id', 'rrg.role_group_id').select(['rrg.role_id', 'rg.id', 'rg.name']).where('rrg.role_id', 'in', roleIds).orderBy('rg.name_norm').execute();
  for (const r of rows) map.set(r.role_id, [...(map.get(r.role_id) ?? []), { id: r.id, name: r.name }]);
  return map;
}

function baseQuery(db: Db) {
  return db
    .selectFrom('roles as r')
    .leftJoin('pushed_groups as g', 'g.id', 'r.pushed_group_id')
    .select((eb) => [
      'r.id', 'r.name', 'r.name_norm', 'r.is_core', 'r.pushed_group_id', 'g.display_name as group_name',
      eb.selectFrom('users as u').select((e) => e.fn.countAll<number>().as('n')).whereRef('u.role_id', '=', 'r.id').as('user_count'),
      eb.selectFrom('pushed_group_members as m').select((e) => e.fn.countAll<number>().as('n')).whereRef('m.group_id', '=', 'r.pushed_group_id').as('member_count'),
    ]);
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>;

function toItem(r: Row, groups: { id: string; name: string }[]) {
  return {
    id: r.id,
    name: r.name,
    isCore: r.is_core === 1,
    isScim: r.pushed_group_id !== null,
    pushedGroup: r.pushed_group_id ? { id: r.pushed_group_id, name: r.group_name ?? '' } : null,
    roleGroups: groups,
    userCount: Number(r.pushed_group_id ? r.member_count ?? 0 : r.user_count ?? 0),
  };
}

export async function listRoles(db: Db, query: { q?: string; limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const after = decodeCursor(query.cursor, ['text']);
  let qb = baseQuery(db);
  if (query.q?.trim()) qb = qb.where(ilike(db, 'r.name', `%${likeEscape(query.q!.trim())}%`));
  if (after) qb = qb.where('r.name_norm', '>', String(after[0]));
  const rows = await qb.orderBy('r.name_norm').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.name_norm]);
  const groups = await roleGroupsOf(db, p.items.map((r) => r.id));
  return { items: p.items.map((r) => toItem(r, groups.get(r.id) ?? [])), nextCursor: p.nextCursor };
}

export async function getRole(db: Db, id: string) {
  const row = await baseQuery(db).where('r.id', '=', id).executeTakeFirst();
  if (!row) return null;
  const groups = await roleGroupsOf(db, [id]);
  return toItem(row, groups.get(id) ?? []);
}

function checkName(name: string | undefined): string {
  const n = (name ?? '').trim();
  if (!n) throw Invalid('A name is required', { name: 'Required' });
  if (n.length > 100) throw Invalid('Name too long', { name: 'Use at most 100 characters' });
  return n;
}

/**
 * The role groups a role is given, checked in the transaction that gives them. On PostgreSQL they are
 * share-locked until the commit, so a role group deleted at that moment (deleteRoleGroup locks it
 * first) is either gone here, and refused, or still here and given, and its delete then refused.
 */
async function checkRoleGroups(trx: Transaction<DB>, ids: string[]) {
  const unique = [...new Set(ids)];
  if (!unique.length) throw Invalid('A role needs at least one role group', { roleGroupIds: 'Choose at least one role group' });
  let q = trx.selectFrom('role_groups').select(['id', 'pushed_group_id']).where('id', 'in', unique);
  if (isPostgres(trx)) q = q.forShare();
  const found = await q.execute();
  if (found.length !== unique.length) throw Invalid('Unknown role group', { roleGroupIds: 'One of these role groups does not exist' });
  if (found.some((r) => r.pushed_group_id)) throw Invalid('SCIM role groups belong to their SCIM role', { roleGroupIds: 'SCIM role groups cannot be attached to other roles' });
  return unique;
}

export async function createRole(db: Kysely<DB>, actor: Actor, input: { name: string; roleGroupIds: string[] }) {
  const name = checkName(input.name);
  const id = randomUUID();
  const now = nowIso();
  try {
    await db.transaction().execute(async (trx) => {
      const ids = await checkRoleGroups(trx, input.roleGroupIds ?? []);
      await refuseGivingAbove(trx, actor, await levelsOfRoleGroups(trx, ids));
      await trx.insertInto('roles').values({ id, name, name_norm: name.toLowerCase(), is_core: 0, pushed_group_id: null, created_at: now, updated_at: now }).execute();
      await trx.insertInto('role_role_groups').values(ids.map((rg) => ({ role_id: id, role_group_id: rg }))).execute();
      await recordAudit(trx, actor, { action: 'role.create', targetType: 'role', targetId: id, targetName: name, summary: `created role ${name}`, details: { roleGroupIds: ids } });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw Conflict(`A role named ${name} already exists`, { name: 'This name is taken' });
    throw err;
  }
  return (await getRole(db, id))!;
}

export async function updateRole(db: Kysely<DB>, actor: Actor, id: string, input: { name?: string; roleGroupIds?: string[] }) {
  const role = await db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
  if (!role) throw NotFound('No such role');
  if (role.is_core) throw Conflict(`${role.name} is a core role and cannot be changed`);
  if (role.pushed_group_id) {
    if (input.roleGroupIds !== undefined) throw Invalid('SCIM roles keep their own role group; edit that role group instead', { roleGroupIds: 'SCIM roles can only be renamed' });
    if (input.name !== undefined) throw Invalid('SCIM roles are renamed by renaming the group in your identity provider', { name: 'Managed by your identity provider' });
  }
  const name = input.name !== undefined ? checkName(input.name) : role.name;
  try {
    await db.transaction().execute(async (trx) => {
      const ids = input.roleGroupIds !== undefined ? await checkRoleGroups(trx, input.roleGroupIds) : null;
      // `role` was read before the transaction: the name is written only when this edit renames, so an
      // edit of the role groups alone does not undo another admin's rename committed since. The update
      // comes before the role groups are replaced and holds the role's row until the commit, so edits
      // of one role take turns.
      const renamed = name !== role.name ? { name, name_norm: name.toLowerCase() } : {};
      const row = await trx.updateTable('roles').set({ ...renamed, updated_at: nowIso() }).where('id', '=', id).returning('name').executeTakeFirst();
      if (!row) throw NotFound('No such role');
      if (ids) {
        // Read after the update above, which holds the role: a screen may stay above the actor's level
        // (removing is always allowed), but none may be raised above it.
        await refuseGivingAbove(trx, actor, await levelsOfRoleGroups(trx, ids), await levelsOfRole(trx, id));
        await trx.deleteFrom('role_role_groups').where('role_id', '=', id).execute();
        await trx.insertInto('role_role_groups').values(ids.map((rg) => ({ role_id: id, role_group_id: rg }))).execute();
      }
      const parts = [name !== role.name ? `renamed to ${name}` : '', ids ? 'role groups changed' : ''].filter(Boolean);
      await recordAudit(trx, actor, { action: 'role.update', targetType: 'role', targetId: id, targetName: row.name, summary: `updated role ${name !== role.name ? role.name : row.name}${parts.length ? ': ' + parts.join('; ') : ''}`, details: { name: row.name, roleGroupIds: ids } });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw Conflict(`A role named ${name} already exists`, { name: 'This name is taken' });
    throw err;
  }
  return (await getRole(db, id))!;
}

export async function deleteRole(db: Kysely<DB>, actor: Actor, id: string) {
  const role = await db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
  if (!role) throw NotFound('No such role');
  if (role.is_core) throw Conflict(`${role.name} is a core role and cannot be deleted`);
  if (role.pushed_group_id) throw Conflict(`${role.name} is a SCIM role; unlink the group in your identity provider to remove it`);
  await db.transaction().execute(async (trx) => {
    // Read again and locked (PostgreSQL) in the transaction: a user given this role at this moment
    // (holdRole share-locks it) either committed before, and is counted, or waits and then finds the
    // role gone; a second delete finds it gone too.
    let q = trx.selectFrom('roles').select('id').where('id', '=', id);
    if (isPostgres(trx)) q = q.forUpdate();
    if (!(await q.executeTakeFirst())) throw NotFound('No such role');
    const users = await trx.selectFrom('users').select((e) => e.fn.countAll<number>().as('n')).where('role_id', '=', id).executeTakeFirstOrThrow();
    if (Number(users.n)) throw Conflict(`${role.name} is assigned to ${users.n} user${Number(users.n) === 1 ? '' : 's'}; give them another role first`);
    await trx.deleteFrom('roles').where('id', '=', id).execute();
    await recordAudit(trx, actor, { action: 'role.delete', targetType: 'role', targetId: id, targetName: role.name, summary: `deleted role ${role.name}` });
  });
}
