// Loads the role groups that apply to a user and computes their effective permissions.
// Read on every request (no cache), so a change on one node is enforced on every node at once.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Level, Permissions } from './catalogue.ts';
import { levelsOf, mergeGrants, type RoleGroupGrant, type ScreenGrant } from './permissions.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface EffectivePermissions {
  permissions: Permissions;
  grants: ScreenGrant[];
  /** The role groups that apply, and why ("role Admin", "pushed group Finance", "SCIM Default"). */
  roleGroups: { id: string; name: string; via: string }[];
}

async function withLevels(db: Db, rows: { id: string; name: string; core_kind: string | null; via: string }[]): Promise<(RoleGroupGrant & { via: string })[]> {
  const custom = rows.filter((r) => !r.core_kind).map((r) => r.id);
  const levels = custom.length
    ? await db.selectFrom('role_group_levels').select(['role_group_id', 'screen', 'level']).where('role_group_id', 'in', custom).execute()
    : [];
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    coreKind: r.core_kind,
    via: r.via,
    levels: Object.fromEntries(levels.filter((l) => l.role_group_id === r.id).map((l) => [l.screen, l.level as Level])),
  }));
}

/** The role groups that apply to a user: a local user's role; a provisioned user's pushed groups or SCIM Default. */
export async function applicableRoleGroups(db: Db, user: { id: string; source: string; role_id: string | null }) {
  if (user.source === 'idp') {
    const rows = await db
      .selectFrom('pushed_group_members as m')
      .innerJoin('role_groups as rg', 'rg.pushed_group_id', 'm.group_id')
      .innerJoin('pushed_groups as g', 'g.id', 'm.group_id')
      .select(['rg.id', 'rg.name', 'rg.core_kind', 'g.display_name'])
      .where('m.user_id', '=', user.id)
      .execute();
    if (rows.length) return withLevels(db, rows.map((r) => ({ id: r.id, name: r.name, core_kind: r.core_kind, via: `pushed group ${r.display_name}` })));
    const def = await db.selectFrom('role_groups').select(['id', 'name', 'core_kind']).where('is_scim_default', '=', 1).execute();
    return withLevels(db, def.map((r) => ({ ...r, via: 'SCIM Default' })));
  }
  if (!user.role_id) return [];
  const rows = await db
    .selectFrom('role_role_groups as rrg')
    .innerJoin('role_groups as rg', 'rg.id', 'rrg.role_group_id')
    .innerJoin('roles as r', 'r.id', 'rrg.role_id')
    .select(['rg.id', 'rg.name', 'rg.core_kind', 'r.name as role_name'])
    .where('rrg.role_id', '=', user.role_id)
    .execute();
  return withLevels(db, rows.map((r) => ({ id: r.id, name: r.name, core_kind: r.core_kind, via: `role ${r.role_name}` })));
}

export async function effectivePermissions(db: Db, user: { id: string; source: string; role_id: string | null }): Promise<EffectivePermissions> {
  const groups = await applicableRoleGroups(db, user);
  const { permissions, grants } = mergeGrants(groups);
  return { permissions, grants, roleGroups: groups.map((g) => ({ id: g.id, name: g.name, via: g.via })) };
}

/** Effective permissions by user id; null when the user does not exist. */
export async function effectivePermissionsOf(db: Db, userId: string): Promise<EffectivePermissions | null> {
  const user = await db.selectFrom('users').select(['id', 'source', 'role_id']).where('id', '=', userId).executeTakeFirst();
  return user ? effectivePermissions(db, user) : null;
}

/** The levels a role gives: the most permissive over its role groups. */
export async function levelsOfRole(db: Db, roleId: string): Promise<Permissions> {
  return mergeGrants(await applicableRoleGroups(db, { id: '', source: 'local', role_id: roleId })).permissions;
}

/** The levels a set of role groups gives together. */
export async function levelsOfRoleGroups(db: Db, roleGroupIds: string[]): Promise<Permissions> {
  const rows = roleGroupIds.length ? await db.selectFrom('role_groups').select(['id', 'name', 'core_kind']).where('id', 'in', roleGroupIds).execute() : [];
  return mergeGrants(await withLevels(db, rows.map((r) => ({ ...r, via: '' })))).permissions;
}

/** A role group's levels for every screen (core role groups expanded from the catalogue). */
export async function levelsOfRoleGroup(db: Db, roleGroupId: string): Promise<Permissions | null> {
  const rg = await db.selectFrom('role_groups').select(['id', 'core_kind']).where('id', '=', roleGroupId).executeTakeFirst();
  if (!rg) return null;
  const rows = rg.core_kind ? [] : await db.selectFrom('role_group_levels').select(['screen', 'level']).where('role_group_id', '=', roleGroupId).execute();
  return levelsOf({ coreKind: rg.core_kind, levels: Object.fromEntries(rows.map((r) => [r.screen, r.level as Level])) });
}
