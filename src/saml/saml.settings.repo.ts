// The one saml_settings row. Missing row = nothing configured (defaults below).
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { SamlSettingsTable } from '../db/schema.saml.ts';
import { nowIso } from '../platform/time.ts';
import type { ParsedIdpMetadata } from './saml.metadata.ts';

type Db = Kysely<DB> | Transaction<DB>;
const ROW_ID = 'default';

export interface SamlSettings {
  idpEntityId: string | null;
  metadataUrl: string | null;
  metadataXml: string | null;
  metadata: ParsedIdpMetadata | null;
  enabled: boolean;
  allowIdpInitiated: boolean;
  jitProvisioning: boolean;
  userNameSource: string;
  clockSkewSeconds: number;
  /** The admin's choice to sign requests; null = follow the IdP metadata (see signsRequests). */
  signRequests: boolean | null;
  lastRefreshAt: string | null;
  lastRefreshError: string | null;
  version: number;
  updatedAt: string | null;
}

export const DEFAULT_SETTINGS: SamlSettings = {
  idpEntityId: null,
  metadataUrl: null,
  metadataXml: null,
  metadata: null,
  enabled: false,
  allowIdpInitiated: true,
  jitProvisioning: false,
  userNameSource: 'nameId',
  clockSkewSeconds: 60,
  signRequests: null,
  lastRefreshAt: null,
  lastRefreshError: null,
  version: 0,
  updatedAt: null,
};

function fromRow(r: SamlSettingsTable): SamlSettings {
  return {
    idpEntityId: r.idp_entity_id,
    metadataUrl: r.metadata_url,
    metadataXml: r.metadata_xml,
    metadata: r.metadata_parsed ? (JSON.parse(r.metadata_parsed) as ParsedIdpMetadata) : null,
    enabled: r.enabled === 1,
    allowIdpInitiated: r.allow_idp_initiated === 1,
    jitProvisioning: r.jit_provisioning === 1,
    userNameSource: r.user_name_source,
    clockSkewSeconds: r.clock_skew_seconds,
    signRequests: r.sign_requests === null || r.sign_requests === undefined ? null : r.sign_requests === 1,
    lastRefreshAt: r.last_refresh_at,
    lastRefreshError: r.last_refresh_error,
    version: r.version,
    updatedAt: r.updated_at,
  };
}

/** Whether AuthnRequests and LogoutRequests are signed: the admin's choice, else what the IdP asks for. */
export function signsRequests(s: Pick<SamlSettings, 'signRequests' | 'metadata'>): boolean {
  return s.signRequests ?? s.metadata?.wantAuthnRequestsSigned === true;
}

export async function readSettings(db: Db): Promise<SamlSettings> {
  const row = await db.selectFrom('saml_settings').selectAll().where('id', '=', ROW_ID).executeTakeFirst();
  return row ? fromRow(row) : { ...DEFAULT_SETTINGS };
}

export async function writeSettings(db: Db, s: SamlSettings): Promise<void> {
  const values = {
    idp_entity_id: s.idpEntityId,
    metadata_url: s.metadataUrl,
    metadata_xml: s.metadataXml,
    metadata_parsed: s.metadata ? JSON.stringify(s.metadata) : null,
    enabled: s.enabled ? 1 : 0,
    allow_idp_initiated: s.allowIdpInitiated ? 1 : 0,
    jit_provisioning: s.jitProvisioning ? 1 : 0,
    user_name_source: s.userNameSource,
    clock_skew_seconds: s.clockSkewSeconds,
    sign_requests: s.signRequests === null ? null : s.signRequests ? 1 : 0,
    last_refresh_at: s.lastRefreshAt,
    last_refresh_error: s.lastRefreshError,
    version: s.version + 1,
    updated_at: nowIso(),
  };
  await db
    .insertInto('saml_settings')
    .values({ id: ROW_ID, ...values })
    .onConflict((oc) => oc.column('id').doUpdateSet(values))
    .execute();
}

/** Records the outcome of a metadata refresh without touching what the admin configured. */
export async function writeRefreshOutcome(db: Db, o: { metadataXml?: string; metadata?: ParsedIdpMetadata; at: string; error: string | null }): Promise<void> {
  await db
    .updateTable('saml_settings')
    .set({
      ...(o.metadataXml !== undefined && o.metadata ? { metadata_xml: o.metadataXml, metadata_parsed: JSON.stringify(o.metadata) } : {}),
      last_refresh_at: o.at,
      last_refresh_error: o.error,
    })
    .where('id', '=', ROW_ID)
    .execute();
}
