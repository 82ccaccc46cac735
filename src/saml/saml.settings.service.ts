// SAML settings: what the admin configures (IdP entity ID, metadata URL or pasted XML, options),
// what they paste into the IdP (SP values), Test Settings, and metadata refresh.
// Fail closed: SSO cannot be enabled without a usable signing certificate whose metadata entityID
// matches the configured Entity ID; a failed refresh keeps the last good metadata and says so.
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Invalid } from '../platform/errors.ts';
import { nowIso } from '../platform/time.ts';
import { MetadataError, fetchMetadata, parseIdpMetadata, usableCertificates, type IdpCertificate, type ParsedIdpMetadata } from './saml.metadata.ts';
import { readSettings, signsRequests, writeRefreshOutcome, writeSettings, type SamlSettings } from './saml.settings.repo.ts';
import { ensureSpKey, readSpCertificate, spCommonName, type SpCertificateView } from './saml.spkey.service.ts';

type Db = Kysely<DB> | Transaction<DB>;

export const EXPIRY_WARNING_DAYS = 30;
export const MAX_CLOCK_SKEW_SECONDS = 300;
const DAY = 86_400_000;

export interface SpValues {
  entityId: string;
  acsUrl: string;
  metadataUrl: string;
  loginUrl: string;
  logoutUrl: string;
  scimBaseUrl: string;
}

export function spValues(config: Config): SpValues {
  const base = config.publicUrl;
  return {
    entityId: base,
    acsUrl: `${base}/AuthorizationServer/Saml2/ACS`,
    metadataUrl: `${base}/AuthorizationServer/Saml2/Metadata`,
    loginUrl: `${base}/AuthorizationServer/Saml2/Login`,
    logoutUrl: `${base}/AuthorizationServer/Saml2/Logout`,
    scimBaseUrl: `${base}/ResourceServer/api/SCIM`,
  };
}

export type CertificateState = 'valid' | 'expiring' | 'expired' | 'not_yet_valid';

export interface CertificateView {
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
  state: CertificateState;
  daysLeft: number;
}

export interface SettingsView {
  sp: SpValues;
  idpEntityId: string | null;
  metadataUrl: string | null;
  metadataSource: 'url' | 'xml' | null;
  metadata: { entityId: string; ssoUrl: string; sloUrl: string | null; certificates: CertificateView[] } | null;
  enabled: boolean;
  allowIdpInitiated: boolean;
  jitProvisioning: boolean;
  userNameSource: string;
  clockSkewSeconds: number;
  /** Whether AuthnRequests and LogoutRequests are signed now (the admin's choice or the IdP's default). */
  signRequests: boolean;
  /** 'admin' when the admin chose; 'metadata' when it follows the IdP's WantAuthnRequestsSigned. */
  signRequestsSource: 'admin' | 'metadata';
  /** What the IdP metadata asks for (WantAuthnRequestsSigned). */
  idpWantsSignedRequests: boolean;
  /** The SP signing certificate (public), or null before it is first needed. Never the key. */
  spCertificate: SpCertificateView | null;
  lastRefreshAt: string | null;
  lastRefreshError: string | null;
  warnings: string[];
  version: number;
}

export function certificateView(c: IdpCertificate, now = Date.now()): CertificateView {
  const notAfter = Date.parse(c.notAfter);
  const daysLeft = Math.floor((notAfter - now) / DAY);
  const state: CertificateState =
    Date.parse(c.notBefore) > now ? 'not_yet_valid' : notAfter <= now ? 'expired' : notAfter - now < EXPIRY_WARNING_DAYS * DAY ? 'expiring' : 'valid';
  return { subject: c.subject, issuer: c.issuer, notBefore: c.notBefore, notAfter: c.notAfter, fingerprint256: c.fingerprint256, state, daysLeft };
}

export function settingsView(s: SamlSettings, config: Config, spCertificate: SpCertificateView | null = null): SettingsView {
  const certs = (s.metadata?.certificates ?? []).map((c) => certificateView(c));
  const warnings: string[] = [];
  for (const c of certs) {
    if (c.state === 'expiring') warnings.push(`The IdP signing certificate "${c.subject}" expires on ${c.notAfter.slice(0, 10)} (in ${c.daysLeft} days). Make sure the IdP has rolled over to a new certificate and refresh the metadata.`);
  }
  if (s.metadata && !certs.some((c) => c.state === 'valid' || c.state === 'expiring')) warnings.push('No IdP signing certificate is currently valid: single sign-on refuses every response until the metadata is refreshed.');
  if (s.metadata?.wantAuthnRequestsSigned && s.signRequests === false) warnings.push('The IdP metadata asks for signed AuthnRequests but signing is turned off: the IdP may refuse sign-in requests.');
  if (s.lastRefreshError) warnings.push(`The last metadata refresh failed (${s.lastRefreshError}); the certificates from the last good metadata stay in use.`);
  return {
    sp: spValues(config),
    idpEntityId: s.idpEntityId,
    metadataUrl: s.metadataUrl,
    metadataSource: s.metadataUrl ? 'url' : s.metadataXml ? 'xml' : null,
    metadata: s.metadata ? { entityId: s.metadata.entityId, ssoUrl: s.metadata.ssoUrl, sloUrl: s.metadata.sloUrl, certificates: certs } : null,
    enabled: s.enabled,
    allowIdpInitiated: s.allowIdpInitiated,
    jitProvisioning: s.jitProvisioning,
    userNameSource: s.userNameSource,
    clockSkewSeconds: s.clockSkewSeconds,
    signRequests: signsRequests(s),
    signRequestsSource: s.signRequests === null ? 'metadata' : 'admin',
    idpWantsSignedRequests: s.metadata?.wantAuthnRequestsSigned === true,
    spCertificate,
    lastRefreshAt: s.lastRefreshAt,
    lastRefreshError: s.lastRefreshError,
    warnings,
    version: s.version,
  };
}

export async function getSettingsView(db: Db, config: Config): Promise<SettingsView> {
  return settingsView(await readSettings(db), config, await readSpCertificate(db));
}

/** Why SSO cannot run with these settings, or null when it can. */
export function enableBlocker(s: Pick<SamlSettings, 'idpEntityId' | 'metadata'>): string | null {
  if (!s.metadata) return 'Single sign-on cannot be enabled before the IdP metadata is loaded.';
  if (!s.idpEntityId) return 'Single sign-on cannot be enabled without the IdP Entity ID.';
  if (s.idpEntityId !== s.metadata.entityId) return `The Entity ID "${s.idpEntityId}" does not match the metadata's entityID "${s.metadata.entityId}".`;
  if (s.metadata.certificates.length === 0) return 'Single sign-on cannot be enabled: the metadata has no signing certificate.';
  if (usableCertificates(s.metadata.certificates).length === 0) return 'Single sign-on cannot be enabled: every signing certificate in the metadata has expired.';
  return null;
}

export interface SettingsInput {
  idpEntityId?: string | null;
  metadataUrl?: string | null;
  metadataXml?: string | null;
  enabled?: boolean;
  allowIdpInitiated?: boolean;
  jitProvisioning?: boolean;
  userNameSource?: string;
  clockSkewSeconds?: number;
  /** true/false = the admin's choice; null = follow the IdP metadata's WantAuthnRequestsSigned. */
  signRequests?: boolean | null;
}

const blankToNull = (v: string | null | undefined) => (v === undefined ? undefined : v === null || v.trim() === '' ? null : v.trim());

async function loadMetadata(source: { url?: string | null; xml?: string | null }, expectedEntityId: string | null): Promise<{ xml: string; parsed: ParsedIdpMetadata }> {
  const xml = source.xml ?? (await fetchMetadata(source.url!));
  return { xml, parsed: parseIdpMetadata(xml, expectedEntityId) };
}

export async function updateSettings(db: Kysely<DB>, config: Config, actor: Actor, input: SettingsInput): Promise<SettingsView> {
  const current = await readSettings(db);
  const next: SamlSettings = { ...current };
  const fields: Record<string, string> = {};

  const entityId = blankToNull(input.idpEntityId);
  if (entityId !== undefined) {
    if (entityId && entityId.length > 1024) fields.idpEntityId = 'The Entity ID is too long (1024 characters at most).';
    next.idpEntityId = entityId;
  }
  const url = blankToNull(input.metadataUrl);
  if (url !== undefined) {
    if (url && !/^https?:\/\/[^\s]+$/i.test(url)) fields.metadataUrl = 'Enter an https:// (or http://) URL.';
    next.metadataUrl = url;
  }
  if (input.clockSkewSeconds !== undefined) {
    if (!Number.isInteger(input.clockSkewSeconds) || input.clockSkewSeconds < 0 || input.clockSkewSeconds > MAX_CLOCK_SKEW_SECONDS) {
      fields.clockSkewSeconds = `Clock skew is a whole number of seconds from 0 to ${MAX_CLOCK_SKEW_SECONDS}.`;
    } else next.clockSkewSeconds = input.clockSkewSeconds;
  }
  if (input.userNameSource !== undefined) {
    const v = input.userNameSource.trim();
    if (!v || v.length > 200) fields.userNameSource = 'Choose NameID or enter an attribute name (200 characters at most).';
    else next.userNameSource = v;
  }
  if (input.allowIdpInitiated !== undefined) next.allowIdpInitiated = input.allowIdpInitiated;
  if (input.jitProvisioning !== undefined) next.jitProvisioning = input.jitProvisioning;
  if (input.signRequests !== undefined) next.signRequests = input.signRequests;
  if (Object.keys(fields).length) throw Invalid('Some SAML settings are not valid.', fields);

  // (Re)load metadata when pasted, when the URL changed, or when none is loaded yet.
  const pasted = blankToNull(input.metadataXml);
  const urlChanged = url !== undefined && url !== current.metadataUrl;
  const loadsMetadata = Boolean(pasted || (next.metadataUrl && (urlChanged || !current.metadata)));
  if (loadsMetadata) {
    try {
      const loaded = await loadMetadata(pasted ? { xml: pasted } : { url: next.metadataUrl }, next.idpEntityId);
      next.metadataXml = loaded.xml;
      next.metadata = loaded.parsed;
      next.lastRefreshAt = nowIso();
      next.lastRefreshError = null;
      if (pasted && url === undefined) next.metadataUrl = null;
    } catch (err) {
      if (err instanceof MetadataError) throw Invalid(`The IdP metadata could not be used: ${err.message}.`, { [pasted ? 'metadataXml' : 'metadataUrl']: capitalise(err.message) + '.' });
      throw err;
    }
  }
  // A cleared URL with nothing pasted keeps the last metadata (it may have come from pasted XML).
  if (!next.idpEntityId && next.metadata) next.idpEntityId = next.metadata.entityId;
  if (next.metadata && next.idpEntityId && next.idpEntityId !== next.metadata.entityId) {
    throw Invalid('The Entity ID does not match the IdP metadata.', { idpEntityId: `The metadata's entityID is "${next.metadata.entityId}".` });
  }

  const wantEnabled = input.enabled ?? current.enabled;
  if (wantEnabled) {
    const blocker = enableBlocker(next);
    if (blocker) throw Invalid(blocker, { enabled: blocker });
  }
  next.enabled = wantEnabled;

  // Signing needs the key: generate it now rather than on the first sign-in (and so the admin can
  // hand the certificate to the IdP before anyone signs in).
  if (signsRequests(next)) await ensureSpKey(db, spCommonName(config.publicUrl));

  const changed = (Object.keys(input) as (keyof SettingsInput)[]).filter((k) => k !== 'metadataXml' && input[k] !== undefined && (current as any)[k] !== (next as any)[k]);
  if (pasted) changed.push('metadataXml');
  await db.transaction().execute(async (trx) => {
    await writeSettings(trx, next, { metadata: loadsMetadata });
    await recordAudit(trx, actor, {
      action: 'saml.settings_update',
      targetType: 'saml_settings',
      targetId: 'default',
      targetName: 'SAML Settings',
      summary: changed.length ? `updated SAML settings (${changed.join(', ')})` : 'saved SAML settings without changes',
      details: {
        changed,
        idpEntityId: next.idpEntityId,
        metadataUrl: next.metadataUrl,
        enabled: next.enabled,
        allowIdpInitiated: next.allowIdpInitiated,
        jitProvisioning: next.jitProvisioning,
        userNameSource: next.userNameSource,
        clockSkewSeconds: next.clockSkewSeconds,
        signRequests: signsRequests(next),
        certificates: next.metadata?.certificates.map((c) => ({ subject: c.subject, notAfter: c.notAfter, fingerprint256: c.fingerprint256 })) ?? [],
      },
    });
  });
  return getSettingsView(db, config);
}

const capitalise = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export interface TestItem {
  key: 'reachable' | 'parses' | 'entityId' | 'signingCertificate' | 'certificateValid';
  label: string;
  ok: boolean;
  message: string;
}

/** Test Settings: each item pass/fail with a precise message. Uses the given values, else the saved ones. */
export async function testSettings(db: Db, input: { idpEntityId?: string | null; metadataUrl?: string | null; metadataXml?: string | null } = {}): Promise<{ ok: boolean; checks: TestItem[] }> {
  const saved = await readSettings(db);
  const entityId = blankToNull(input.idpEntityId) ?? (input.idpEntityId === undefined ? saved.idpEntityId : null);
  const pasted = blankToNull(input.metadataXml) ?? null;
  const url = pasted ? null : (blankToNull(input.metadataUrl) ?? (input.metadataUrl === undefined ? saved.metadataUrl : null));
  const checks: TestItem[] = [];
  const notChecked = 'Not checked: an earlier step failed.';

  let xml: string | null = null;
  if (pasted) {
    xml = pasted;
    checks.push({ key: 'reachable', label: 'Metadata reachable', ok: true, message: 'Metadata was pasted; there is no URL to fetch.' });
  } else if (url) {
    try {
      xml = await fetchMetadata(url);
      checks.push({ key: 'reachable', label: 'Metadata reachable', ok: true, message: `Fetched ${Buffer.byteLength(xml)} bytes from ${url}.` });
    } catch (err) {
      checks.push({ key: 'reachable', label: 'Metadata reachable', ok: false, message: err instanceof MetadataError ? capitalise(err.message) + '.' : 'The metadata URL could not be fetched.' });
    }
  } else if (!input.metadataUrl && input.metadataXml === undefined && saved.metadataXml) {
    xml = saved.metadataXml;
    checks.push({ key: 'reachable', label: 'Metadata reachable', ok: true, message: 'Using the metadata XML pasted earlier; there is no URL to fetch.' });
  } else {
    checks.push({ key: 'reachable', label: 'Metadata reachable', ok: false, message: 'Enter the Provider Metadata URL or paste the metadata XML.' });
  }

  let parsed: ParsedIdpMetadata | null = null;
  if (xml !== null) {
    try {
      parsed = parseIdpMetadata(xml, entityId);
      checks.push({ key: 'parses', label: 'Metadata parses', ok: true, message: `IdP metadata for ${parsed.entityId}, sign-on URL ${parsed.ssoUrl}${parsed.sloUrl ? `, single logout URL ${parsed.sloUrl}` : ', no single logout'}.` });
    } catch (err) {
      checks.push({ key: 'parses', label: 'Metadata parses', ok: false, message: err instanceof MetadataError ? capitalise(err.message) + '.' : 'The metadata could not be read.' });
    }
  } else checks.push({ key: 'parses', label: 'Metadata parses', ok: false, message: notChecked });

  if (!parsed) {
    checks.push({ key: 'entityId', label: 'Entity ID matches', ok: false, message: notChecked });
    checks.push({ key: 'signingCertificate', label: 'Signing certificate present', ok: false, message: notChecked });
    checks.push({ key: 'certificateValid', label: 'Certificate not expired', ok: false, message: notChecked });
    return { ok: false, checks };
  }
  if (!entityId) checks.push({ key: 'entityId', label: 'Entity ID matches', ok: false, message: `Enter the Entity ID; the metadata's entityID is "${parsed.entityId}".` });
  else if (entityId !== parsed.entityId) checks.push({ key: 'entityId', label: 'Entity ID matches', ok: false, message: `The Entity ID "${entityId}" does not match the metadata's entityID "${parsed.entityId}".` });
  else checks.push({ key: 'entityId', label: 'Entity ID matches', ok: true, message: `The Entity ID matches the metadata (${entityId}).` });

  const n = parsed.certificates.length;
  checks.push(
    n === 0
      ? { key: 'signingCertificate', label: 'Signing certificate present', ok: false, message: 'The metadata has no signing certificate (KeyDescriptor use="signing" with an X509Certificate).' }
      : { key: 'signingCertificate', label: 'Signing certificate present', ok: true, message: `${n} signing certificate${n === 1 ? '' : 's'}: ${parsed.certificates.map((c) => c.subject).join('; ')}.` },
  );
  const views = parsed.certificates.map((c) => certificateView(c));
  const usable = views.filter((c) => c.state === 'valid' || c.state === 'expiring');
  if (n === 0) checks.push({ key: 'certificateValid', label: 'Certificate not expired', ok: false, message: notChecked });
  else if (usable.length === 0) {
    const latest = views.map((c) => c.notAfter).sort().at(-1)!;
    const future = views.find((c) => c.state === 'not_yet_valid');
    checks.push({ key: 'certificateValid', label: 'Certificate not expired', ok: false, message: future ? `No certificate is valid yet (the earliest starts ${future.notBefore}).` : `Every signing certificate has expired (the latest on ${latest.slice(0, 10)}).` });
  } else {
    const best = usable.map((c) => c.notAfter).sort().at(-1)!;
    const expiring = usable.every((c) => c.state === 'expiring');
    checks.push({ key: 'certificateValid', label: 'Certificate not expired', ok: true, message: `Valid until ${best.slice(0, 10)}${expiring ? ` — expires within ${EXPIRY_WARNING_DAYS} days` : ''}.` });
  }
  return { ok: checks.every((c) => c.ok), checks };
}

export interface RefreshOutcome {
  refreshed: boolean;
  error: string | null;
}

/**
 * Re-reads the metadata URL. On success the new certificates replace the old (Okta rollover: the
 * metadata lists old and new side by side). On failure nothing trusted changes; the error is kept
 * as a visible warning and audited.
 */
export async function refreshMetadata(db: Kysely<DB>, actor: Actor): Promise<RefreshOutcome> {
  const s = await readSettings(db);
  if (!s.metadataUrl) return { refreshed: false, error: 'There is no Provider Metadata URL to refresh from.' };
  const at = nowIso();
  let error: string | null = null;
  let loaded: { xml: string; parsed: ParsedIdpMetadata } | null = null;
  try {
    loaded = await loadMetadata({ url: s.metadataUrl }, s.idpEntityId);
    if (s.idpEntityId && loaded.parsed.entityId !== s.idpEntityId) error = `the metadata's entityID "${loaded.parsed.entityId}" does not match the configured Entity ID "${s.idpEntityId}"`;
    else if (usableCertificates(loaded.parsed.certificates).length === 0) error = 'the metadata has no signing certificate that is currently valid';
  } catch (err) {
    error = err instanceof MetadataError ? err.message : 'the metadata could not be fetched';
  }
  let written = false;
  await db.transaction().execute(async (trx) => {
    if (error || !loaded) {
      written = await writeRefreshOutcome(trx, { fromUrl: s.metadataUrl!, at, error });
      if (!written) return;
      await recordAudit(trx, actor, {
        action: 'saml.metadata_refresh_failed',
        targetType: 'saml_settings',
        targetId: 'default',
        targetName: 'SAML Settings',
        summary: `IdP metadata refresh failed: ${error}; the last good certificates stay in use`,
        details: { metadataUrl: s.metadataUrl, error },
      });
    } else {
      written = await writeRefreshOutcome(trx, { fromUrl: s.metadataUrl!, metadataXml: loaded.xml, metadata: loaded.parsed, at, error: null });
      if (!written) return;
      await recordAudit(trx, actor, {
        action: 'saml.metadata_refresh',
        targetType: 'saml_settings',
        targetId: 'default',
        targetName: 'SAML Settings',
        summary: `refreshed IdP metadata (${loaded.parsed.certificates.length} signing certificate(s))`,
        details: { metadataUrl: s.metadataUrl, certificates: loaded.parsed.certificates.map((c) => ({ subject: c.subject, notAfter: c.notAfter, fingerprint256: c.fingerprint256 })) },
      });
    }
  });
  // The admin saved another metadata source while this one was being read: what they saved stands.
  if (!written) return { refreshed: false, error: 'the Provider Metadata URL was changed while the old one was being read, so nothing was refreshed; refresh again to read the new one' };
  return { refreshed: !error, error };
}

/** True when the metadata URL was last read more than `maxAgeMs` ago (or never): the daily timer's test. */
export async function refreshDue(db: Db, maxAgeMs = DAY): Promise<boolean> {
  const s = await readSettings(db);
  return Boolean(s.metadataUrl) && (!s.lastRefreshAt || Date.now() - Date.parse(s.lastRefreshAt) >= maxAgeMs);
}
