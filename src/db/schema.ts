// Table types for Kysely. Each feature declares its own tables in its own file; DB joins them.
import type { IdentityTables } from './schema.identity.ts';
import type { ScimTables } from './schema.scim.ts';
import type { SamlTables } from './schema.saml.ts';
import type { BillingTables } from './schema.billing.ts';

export interface DB extends IdentityTables, ScimTables, SamlTables, BillingTables {}
