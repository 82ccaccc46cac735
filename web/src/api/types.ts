// Shapes of the identity admin API (docs/dev/contracts.md, "Identity admin API").
import type { Level, Permissions, ScreenKey } from '../../../src/identity/catalogue.ts';

export type { Level, Permissions, ScreenKey };

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Ref {
  id: string;
  name: string;
}

/** A pushed group a user is in, with the SCIM role it gives them. */
export interface PushedGroupRef extends Ref {
  scimRole: Ref | null;
}

export type UserStatus = 'active' | 'suspended' | 'disabled';
export type UserSource = 'local' | 'idp';

export interface MeUser {
  id: string;
  userName: string;
  displayName: string | null;
  email: string | null;
  source: UserSource;
  status: UserStatus;
  timeZone: string | null;
  locale: string | null;
  role: Ref | null;
  /** How this session was created: 'password' or 'saml'. */
  signInMethod?: string;
}

export interface Me {
  user: MeUser;
  permissions: Permissions;
  csrfToken: string;
}

export interface UserSummary {
  id: string;
  userName: string;
  displayName: string | null;
  givenName: string | null;
  familyName: string | null;
  email: string | null;
  status: UserStatus;
  source: UserSource;
  role: Ref | null;
  pushedGroups: PushedGroupRef[];
  createdAt: string;
  updatedAt: string;
}

export interface EffectivePermission {
  screen: ScreenKey;
  label: string;
  menu: string;
  level: Level;
  grantedBy: Ref[];
}

export interface UserDetail extends UserSummary {
  timeZone: string | null;
  locale: string | null;
  managedFields: string[];
  effectivePermissions: EffectivePermission[];
  activeSessions: number;
}

export interface UserInput {
  userName?: string;
  displayName?: string;
  givenName?: string;
  familyName?: string;
  email?: string;
  roleId?: string;
  status?: UserStatus;
  timeZone?: string;
  locale?: string;
  password?: string;
}

export interface Role {
  id: string;
  name: string;
  isCore: boolean;
  isScim: boolean;
  pushedGroup: Ref | null;
  roleGroups: Ref[];
  userCount: number;
}

export interface RoleGroup {
  id: string;
  name: string;
  isCore: boolean;
  isScimDefault: boolean;
  pushedGroup: Ref | null;
  roleCount: number;
}

export interface RoleGroupDetail extends RoleGroup {
  levels: Partial<Permissions>;
  references: Ref[];
  people: { id: string; userName: string; displayName: string | null }[];
}

/** One audit log entry as the audit API returns it (the server's own type). */
export type { AuditItem as AuditEntry } from '../../../src/identity/audit.service.ts';

/** One SCIM request as the provisioning log API returns it (the server's own type). */
export type { LogItem as ProvisioningEntry, LogAnswer as ProvisioningPage } from '../../../src/scim/provisioning-log.service.ts';

export interface SearchResult {
  accounts?: { id: string; number: string; name: string }[];
  users?: { id: string; userName: string; displayName: string | null }[];
}

export interface SsoInfo {
  enabled: boolean;
  loginUrl?: string | null;
}
