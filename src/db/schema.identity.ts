// Identity tables: users, pushed groups and their members, roles, role groups, sessions, audit.
// Timestamps are ISO-8601 UTC text (sortable on both databases); flags are 0/1 integers.
import type { Generated } from 'kysely';

export type Level = 'none' | 'read' | 'full';
export type UserStatus = 'active' | 'suspended' | 'disabled';
export type UserSource = 'local' | 'idp';

export interface UsersTable {
  id: string;
  user_name: string;
  /** lower-cased user_name: unique, what SCIM `userName eq` and sign-in match on. */
  user_name_norm: string;
  display_name: string | null;
  given_name: string | null;
  family_name: string | null;
  email: string | null;
  /** lower-cased primary email, indexed for `emails.value` filters. */
  email_norm: string | null;
  external_id: string | null;
  role_id: string | null;
  status: UserStatus;
  source: UserSource;
  time_zone: string;
  locale: string;
  /** scrypt hash (see identity/password.ts); null for provisioned users, who sign in with SSO only. */
  password_hash: string | null;
  /** Every SCIM attribute exactly as the IdP sent it (JSON text), null for local users. */
  scim_attributes: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

/** A SCIM Group pushed from the IdP. Each has one SCIM role and one SCIM role group. */
export interface PushedGroupsTable {
  id: string;
  display_name: string;
  display_name_norm: string;
  external_id: string | null;
  scim_attributes: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface PushedGroupMembersTable {
  /** Insertion order (007_member_order): a group's members are read, and new ones land, in this order. */
  id: Generated<number>;
  group_id: string;
  user_id: string;
}

export interface RolesTable {
  id: string;
  name: string;
  name_norm: string;
  is_core: number;
  /** Set for SCIM roles: the pushed group that created this role. */
  pushed_group_id: string | null;
  created_at: string;
  updated_at: string;
}

export interface RoleGroupsTable {
  id: string;
  name: string;
  name_norm: string;
  /** 'admin' | 'readonly' for the two immutable core role groups, null otherwise. */
  core_kind: string | null;
  is_scim_default: number;
  pushed_group_id: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface RoleGroupLevelsTable {
  role_group_id: string;
  screen: string;
  level: Level;
}

export interface RoleRoleGroupsTable {
  role_id: string;
  role_group_id: string;
}

export interface SessionsTable {
  /** sha256 of the cookie value; the value itself is never stored. */
  id_hash: string;
  user_id: string;
  csrf_token: string;
  /** 'password' | 'saml' */
  method: string;
  /** SAML NameID / SessionIndex for single logout, JSON text. */
  sso_info: string | null;
  ip: string | null;
  user_agent: string | null;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: string;
  actor_id: string | null;
  actor_name: string;
  /** ui | api | cli | scim | saml | system */
  source: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  target_name: string | null;
  summary: string;
  details: string | null;
  ip: string | null;
  request_id: string | null;
}

export interface RateLimitsTable {
  key: string;
  window_start: string;
  count: number;
}

export interface SettingsTable {
  key: string;
  value: string;
  updated_at: string;
}

export interface IdentityTables {
  users: UsersTable;
  pushed_groups: PushedGroupsTable;
  pushed_group_members: PushedGroupMembersTable;
  roles: RolesTable;
  role_groups: RoleGroupsTable;
  role_group_levels: RoleGroupLevelsTable;
  role_role_groups: RoleRoleGroupsTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
  rate_limits: RateLimitsTable;
  settings: SettingsTable;
}
