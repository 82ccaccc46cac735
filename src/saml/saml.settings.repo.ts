// The one saml_settings row. Missing row = nothing configured (defaults below).
import { sql, type Kysely, type Transaction } from 'kysely';
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

/**
 * Writes what the admin configures. The metadata and the last refresh's outcome are written only
 * with `metadata: true` (this save loaded metadata): otherwise they stay as they are in the row, so a
 * save does not put back the copy it read before a refresh committed (a certificate rollover, say).
 * The version moves from the row's current one.
 */
export async function writeSettings(db: Db, s: SamlSettings, o: { metadata: boolean }): Promise<void> {
  const configured = {
    idp_entity_id: s.idpEntityId,
    metadata_url: s.metadataUrl,
    enabled: s.enabled ? 1 : 0,
    allow_idp_initiated: s.allowIdpInitiated ? 1 : 0,
    jit_provisioning: s.jitProvisioning ? 1 : 0,
    user_name_source: s.userNameSource,
    clock_skew_seconds: s.clockSkewSeconds,
    sign_requests: s.signRequests === null ? null : s.signRequests ? 1 : 0,
    updated_at: nowIso(),
  };
  const metadata = {
    metadata_xml: s.metadataXml,
    metadata_parsed: s.metadata ? JSON.stringify(s.metadata) : null,
    last_refresh_at: s.lastRefreshAt,
    last_refresh_error: s.lastRefreshError,
  };
  await db
    .insertInto('saml_settings')
    .values({ id: ROW_ID, ...configured, ...metadata, version: 1 })
    .onConflict((oc) => oc.column('id').doUpdateSet({ ...configured, ...(o.metadata ? metadata : {}), version: sql<number>`saml_settings.version + 1` }))
    .execute();
}

/**
 * Records the outcome of a metadata refresh without touching what the admin configured, and only while
 * the settings still name the URL it read (`fromUrl`): an admin who saved another URL (and its
 * metadata) while the old one was being read keeps theirs. False when nothing was written.
 */
export async function writeRefreshOutcome(db: Db, o: { fromUrl: string; metadataXml?: string; metadata?: ParsedIdpMetadata; at: string; error: string | null }): Promise<boolean> {
  const r = await db
    .updateTable('saml_settings')
    .set({
      ...(o.metadataXml !== undefined && o.metadata ? { metadata_xml: o.metadataXml, metadata_parsed: JSON.stringify(o.metadata) } : {}),
      last_refresh_at: o.at,
      last_refresh_error: o.error,
    })
    .where('id', '=', ROW_ID)
    .where('metadata_url', '=', o.fromUrl)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
