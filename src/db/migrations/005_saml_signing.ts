// SAML request signing: the SP's own key pair (one row, generated on first need) and the admin's
// choice to sign AuthnRequests and LogoutRequests (null = follow the IdP metadata's
// WantAuthnRequestsSigned).
import type { Kysely } from 'kysely';

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('saml_sp_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('certificate', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('not_after', 'text', (c) => c.notNull())
    .execute();
  await db.schema.alterTable('saml_settings').addColumn('sign_requests', 'integer').execute();
}

export async function down(): Promise<void> {
  throw new Error('saml signing migration cannot be reverted');
}
