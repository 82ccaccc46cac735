// SAML: IdP settings (one row), issued AuthnRequest ids, consumed assertion ids (replay cache).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('saml_settings')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('idp_entity_id', 'text')
    .addColumn('metadata_url', 'text')
    .addColumn('metadata_xml', 'text')
    .addColumn('metadata_parsed', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('allow_idp_initiated', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('jit_provisioning', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('user_name_source', 'text', (c) => c.notNull().defaultTo('nameId'))
    .addColumn('clock_skew_seconds', 'integer', (c) => c.notNull().defaultTo(60))
    .addColumn('last_refresh_at', 'text')
    .addColumn('last_refresh_error', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('saml_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('return_to', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('saml_requests_expires').on('saml_requests').column('expires_at').execute();

  await db.schema
    .createTable('saml_assertions')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('assertion_id', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('consumed_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('saml_assertions_expires').on('saml_assertions').column('expires_at').execute();
}

export async function down(): Promise<void> {
  throw new Error('saml migration cannot be reverted');
}
