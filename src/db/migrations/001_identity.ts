// Identity: users, pushed groups, roles, role groups, sessions, audit log, rate limits, settings.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export const CORE = {
  adminRoleGroup: 'rg-admin',
  readOnlyRoleGroup: 'rg-readonly',
  adminRole: 'role-admin',
  readOnlyCoreRole: 'role-read-only-core',
} as const;

export async function up(db: Kysely<any>): Promise<void> {
  const pgsql = isPostgres(db);
  await db.schema
    .createTable('roles')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_norm', 'text', (c) => c.notNull().unique())
    .addColumn('is_core', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pushed_group_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('user_name_norm', 'text', (c) => c.notNull().unique())
    .addColumn('display_name', 'text')
    .addColumn('given_name', 'text')
    .addColumn('family_name', 'text')
    .addColumn('email', 'text')
    .addColumn('email_norm', 'text')
    .addColumn('external_id', 'text')
    .addColumn('role_id', 'text', (c) => c.references('roles.id'))
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull().defaultTo('UTC'))
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('en-US'))
    .addColumn('password_hash', 'text')
    .addColumn('scim_attributes', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_created_id').on('users').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('users_updated').on('users').column('updated_at').execute();
  await db.schema.createIndex('users_external_id').on('users').column('external_id').execute();
  await db.schema.createIndex('users_email_norm').on('users').column('email_norm').execute();
  await db.schema.createIndex('users_display_name').on('users').column('display_name').execute();
  await db.schema.createIndex('users_role').on('users').column('role_id').execute();

  await db.schema
    .createTable('pushed_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('display_name_norm', 'text', (c) => c.notNull().unique())
    .addColumn('external_id', 'text')
    .addColumn('scim_attributes', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('pushed_groups_created_id').on('pushed_groups').columns(['created_at', 'id']).execute();
  await db.schema.createIndex('pushed_groups_external_id').on('pushed_groups').column('external_id').execute();

  await db.schema
    .createTable('pushed_group_members')
    .addColumn('group_id', 'text', (c) => c.notNull().references('pushed_groups.id').onDelete('cascade'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('pushed_group_members_pk', ['group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('pushed_group_members_user').on('pushed_group_members').columns(['user_id', 'group_id']).execute();

  await db.schema
    .createTable('role_groups')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('name_norm', 'text', (c) => c.notNull().unique())
    .addColumn('core_kind', 'text')
    .addColumn('is_scim_default', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pushed_group_id', 'text', (c) => c.references('pushed_groups.id').onDelete('cascade'))
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('role_groups_pushed_group').on('role_groups').column('pushed_group_id').execute();

  await db.schema
    .createTable('role_group_levels')
    .addColumn('role_group_id', 'text', (c) => c.notNull().references('role_groups.id').onDelete('cascade'))
    .addColumn('screen', 'text', (c) => c.notNull())
    .addColumn('level', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('role_group_levels_pk', ['role_group_id', 'screen'])
    .execute();

  await db.schema
    .createTable('role_role_groups')
    .addColumn('role_id', 'text', (c) => c.notNull().references('roles.id').onDelete('cascade'))
    .addColumn('role_group_id', 'text', (c) => c.notNull().references('role_groups.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('role_role_groups_pk', ['role_id', 'role_group_id'])
    .execute();
  await db.schema.createIndex('role_role_groups_rg').on('role_role_groups').column('role_group_id').execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('sso_info', 'text')
    .addColumn('ip', 'text')
    .addColumn('user_agent', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('audit_log')
    .addColumn('id', pgsql ? 'bigserial' : 'integer', (c) => (pgsql ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text')
    .addColumn('target_id', 'text')
    .addColumn('target_name', 'text')
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('details', 'text')
    .addColumn('ip', 'text')
    .addColumn('request_id', 'text')
    .execute();
  await db.schema.createIndex('audit_log_at').on('audit_log').columns(['at', 'id']).execute();
  await db.schema.createIndex('audit_log_target').on('audit_log').columns(['target_type', 'target_id']).execute();

  await db.schema
    .createTable('rate_limits')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  const now = new Date().toISOString();
  await db
    .insertInto('role_groups')
    .values([
      { id: CORE.adminRoleGroup, name: 'Admin', name_norm: 'admin', core_kind: 'admin', is_scim_default: 0, pushed_group_id: null, version: 1, created_at: now, updated_at: now },
      { id: CORE.readOnlyRoleGroup, name: 'ReadOnly', name_norm: 'readonly', core_kind: 'readonly', is_scim_default: 1, pushed_group_id: null, version: 1, created_at: now, updated_at: now },
    ])
    .execute();
  await db
    .insertInto('roles')
    .values([
      { id: CORE.adminRole, name: 'Admin', name_norm: 'admin', is_core: 1, pushed_group_id: null, created_at: now, updated_at: now },
      { id: CORE.readOnlyCoreRole, name: 'Read Only Core', name_norm: 'read only core', is_core: 1, pushed_group_id: null, created_at: now, updated_at: now },
    ])
    .execute();
  await db
    .insertInto('role_role_groups')
    .values([
      { role_id: CORE.adminRole, role_group_id: CORE.adminRoleGroup },
      { role_id: CORE.readOnlyCoreRole, role_group_id: CORE.readOnlyRoleGroup },
    ])
    .execute();
  // Exactly one role group may carry the SCIM Default flag.
  await sql`create unique index role_groups_one_scim_default on role_groups (is_scim_default) where is_scim_default = 1`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('identity migration cannot be reverted');
}
