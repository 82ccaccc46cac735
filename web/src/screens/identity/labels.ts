// Words the identity screens share: status and source labels and their badge tones.
import type { BadgeTone } from '../../ui/index.ts';
import type { PushedGroupRef, UserSource, UserStatus } from '../../api/types.ts';

export const STATUS_LABEL: Record<UserStatus, string> = { active: 'Active', suspended: 'Suspended', disabled: 'Disabled' };
export const STATUS_TONE: Record<UserStatus, BadgeTone> = { active: 'green', suspended: 'amber', disabled: 'red' };
export const SOURCE_LABEL: Record<UserSource, string> = { local: 'Local', idp: 'Identity provider' };

export const STATUS_OPTIONS = (Object.keys(STATUS_LABEL) as UserStatus[]).map((v) => ({ value: v, label: STATUS_LABEL[v] }));
export const SOURCE_OPTIONS = (Object.keys(SOURCE_LABEL) as UserSource[]).map((v) => ({ value: v, label: SOURCE_LABEL[v] }));

/**
 * A provisioned user's SCIM roles, by the names the Roles screen shows: a pushed group "Admin" gives
 * the SCIM role "Admin (SCIM)" when the core role Admin exists, and must not read as that role.
 */
export function scimRoleNames(groups: PushedGroupRef[]): string {
  return groups.map((g) => g.scimRole?.name ?? g.name).join(', ');
}

/** "Pushed group Admin", "Pushed groups Admin, Support": where a user's SCIM roles come from. */
export function pushedGroupsNote(groups: PushedGroupRef[]): string {
  return `${groups.length === 1 ? 'Pushed group' : 'Pushed groups'} ${groups.map((g) => g.name).join(', ')}`;
}
