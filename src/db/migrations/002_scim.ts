// SCIM: access tokens (hashed), provisioning log, e-mail index, and the expression index that makes
// case-insensitive `displayName eq` on users an index lookup.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const pgsql = isPostgres(db);
  await db.schema
    .createTable('scim_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();

  await db.schema
    .createTable('provisioning_log')
    .addColumn('id', pgsql ? 'bigserial' : 'integer', (c) => (pgsql ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('client', 'text')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('duration_ms', pgsql ? 'double precision' : 'real', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text')
    .addColumn('resource_id', 'text')
    .addColumn('user_name', 'text')
    .addColumn('error', 'text')
    .addColumn('request_body', 'text')
    .addColumn('response_body', 'text')
    .execute();
  await db.schema.createIndex('provisioning_log_at').on('provisioning_log').column('at').execute();
  await db.schema.createIndex('provisioning_log_resource').on('provisioning_log').columns(['resource_type', 'resource_id']).execute();

  await db.schema
    .createTable('scim_user_emails')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('value_norm', 'text', (c) => c.notNull())
    .addColumn('type_norm', 'text')
    .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('scim_user_emails_value').on('scim_user_emails').columns(['value_norm', 'user_id']).execute();
  await db.schema.createIndex('scim_user_emails_user').on('scim_user_emails').column('user_id').execute();

  await sql`create index users_display_name_lower on users (lower(display_name))`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error('scim migration cannot be reverted');
}
