// The permission calculus: a role group's levels, and the most-permissive merge of several role
// groups with an explanation of which role group grants each screen. Pure, no database.
import { SCREEN_KEYS, atLeast, maxLevel, uniformPermissions, type Level, type Permissions, type ScreenKey } from './catalogue.ts';

export interface RoleGroupGrant {
  id: string;
  name: string;
  /** 'admin' | 'readonly' for core role groups, whose levels follow the catalogue. */
  coreKind: string | null;
  /** Stored levels; screens absent here are No Permission. Ignored for core role groups. */
  levels: Partial<Record<string, Level>>;
}

export interface ScreenGrant {
  screen: ScreenKey;
  level: Level;
  /** The role groups that grant this level (empty for No Permission). */
  grantedBy: { id: string; name: string }[];
}

/** A role group's level for every screen in the catalogue. Core role groups cover screens added later too. */
export function levelsOf(group: Pick<RoleGroupGrant, 'coreKind' | 'levels'>): Permissions {
  if (group.coreKind === 'admin') return uniformPermissions('full');
  if (group.coreKind === 'readonly') return uniformPermissions('read');
  const out = uniformPermissions('none');
  for (const key of SCREEN_KEYS) {
    const l = group.levels[key];
    if (l === 'read' || l === 'full') out[key] = l;
  }
  return out;
}

/** Most-permissive union: for each screen the highest level any group grants, and who grants it. */
export function mergeGrants(groups: RoleGroupGrant[]): { permissions: Permissions; grants: ScreenGrant[] } {
  const permissions = uniformPermissions('none');
  const all = groups.map((g) => ({ g, levels: levelsOf(g) }));
  for (const { levels } of all) for (const key of SCREEN_KEYS) permissions[key] = maxLevel(permissions[key], levels[key]);
  const grants = SCREEN_KEYS.map((screen) => ({
    screen,
    level: permissions[screen],
    grantedBy: permissions[screen] === 'none' ? [] : all.filter((x) => x.levels[screen] === permissions[screen]).map((x) => ({ id: x.g.id, name: x.g.name })),
  }));
  return { permissions, grants };
}

/**
 * The screens `wanted` puts above `ceiling` that were not that high in `before` already: what a change
 * from `before` to `wanted` would give beyond what the holder of `ceiling` holds. Lowering, or keeping a
 * level someone else gave, is never in it.
 */
export function raisedAbove(ceiling: Permissions, wanted: Permissions, before: Permissions = uniformPermissions('none')): { screen: ScreenKey; level: Level }[] {
  return SCREEN_KEYS.filter((k) => !atLeast(ceiling[k], wanted[k]) && !atLeast(before[k], wanted[k])).map((screen) => ({ screen, level: wanted[screen] }));
}
