// SCIM tables (owned by src/scim/): access tokens, the provisioning log, and the e-mail index that
// lets `emails.value` filters use an index for every address of a user, not only the primary one.
import type { Generated } from 'kysely';

export interface ScimTokensTable {
  id: string;
  name: string;
  /** sha256 (hex) of the token; the token itself is never stored. */
  token_hash: string;
  /** First characters of the token, shown in lists so an admin can tell tokens apart. */
  prefix: string;
  created_at: string;
  last_used_at: string | null;
  /** Set when a refresh gives the token a grace period; the token stops working after it. */
  expires_at: string | null;
  revoked_at: string | null;
}

export interface ProvisioningLogTable {
  id: Generated<number>;
  at: string;
  client: string | null;
  method: string;
  path: string;
  status: number;
  duration_ms: number;
  summary: string;
  /** 'User' | 'Group' | 'ServiceProviderConfig' | … */
  resource_type: string | null;
  resource_id: string | null;
  user_name: string | null;
  /** The SCIM error detail returned, for failures. */
  error: string | null;
  request_body: string | null;
  response_body: string | null;
}

/** Every e-mail address of a provisioned user, lower-cased: what `emails[...]` filters compile to. */
export interface ScimUserEmailsTable {
  user_id: string;
  value_norm: string;
  type_norm: string | null;
  is_primary: number | null;
}

/** Trigger-maintained counts (key 'idp_users:<last two chars of id>', 009), summed for totalResults. */
export interface ScimCountersTable {
  key: string;
  n: number;
  /** Changes this shard has counted (inserts and deletes), for list positions (migration 010). */
  version: Generated<number>;
}

export interface ScimTables {
  scim_counters: ScimCountersTable;
  scim_tokens: ScimTokensTable;
  provisioning_log: ProvisioningLogTable;
  scim_user_emails: ScimUserEmailsTable;
}
