// Builds node-saml instances from our settings, with every default the reference says is wrong
// for us overridden: InResponseTo validation, a database cache, sha256 for what we sign, audience
// and IdP issuer set, no SHA-1, clock skew bounded, only currently valid IdP certificates.
import querystring from 'node:querystring';
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import type { Kysely } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import { usableCertificates } from './saml.metadata.ts';
import { readSettings, signsRequests, type SamlSettings } from './saml.settings.repo.ts';
import { ensureSpKey, spCommonName, type SpKey } from './saml.spkey.service.ts';
import { spValues } from './saml.settings.service.ts';
import { REQUEST_TTL_MS } from './saml.cache.repo.ts';
import { KEY_TRANSPORT_ALGORITHMS } from './saml.encryption.ts';

export const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

export interface SpOptions {
  /** 'always' for SP-initiated responses; 'ifPresent' only on the explicit IdP-initiated path. */
  inResponseTo: 'always' | 'ifPresent';
  cache: CacheProvider;
  /** When given, AuthnRequests, LogoutRequests and LogoutResponses are signed (RSA-SHA256). */
  signingKey?: SpKey | null;
  /** The SP's private key, for node-saml to decrypt an encrypted assertion or a LogoutRequest's encrypted NameID. */
  decryptionKey?: string;
}

export function buildSp(config: Config, s: SamlSettings, o: SpOptions): SAML {
  const sp = spValues(config);
  const certs = usableCertificates(s.metadata?.certificates ?? []).map((c) => c.pem);
  // Fail closed: node-saml with no certificate would throw anyway; we never hand it an empty list.
  if (certs.length === 0) throw new Error('no usable IdP signing certificate');
  return new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    entryPoint: s.metadata?.ssoUrl,
    idpCert: certs,
    idpIssuer: s.idpEntityId ?? undefined,
    audience: sp.entityId,
    // One valid signature covering the assertion is required either way (Response or Assertion):
    // Okta signs both by default, Entra signs the assertion, some IdPs only the Response.
    wantAssertionsSigned: false,
    wantAuthnResponseSigned: false,
    validateInResponseTo: o.inResponseTo === 'always' ? ValidateInResponseTo.always : ValidateInResponseTo.ifPresent,
    requestIdExpirationPeriodMs: REQUEST_TTL_MS,
    cacheProvider: o.cache,
    acceptedClockSkewMs: s.clockSkewSeconds * 1000,
    signatureAlgorithm: 'sha256',
    digestAlgorithm: 'sha256',
    identifierFormat: NAMEID_UNSPECIFIED,
    // Requesting PasswordProtectedTransport "exact" breaks MFA and passwordless sign-in at the IdP.
    disableRequestedAuthnContext: true,
    logoutUrl: s.metadata?.sloUrl ?? s.metadata?.ssoUrl ?? sp.logoutUrl,
    logoutCallbackUrl: sp.logoutUrl,
    ...(o.signingKey ? { privateKey: o.signingKey.privateKey, publicCert: o.signingKey.certificate } : {}),
    ...(o.decryptionKey ? { decryptionPvk: o.decryptionKey } : {}),
  });
}

/** The signing key when these settings sign requests (generated on first need), else null. */
export async function signingKeyFor(db: Kysely<DB>, config: Config, s: SamlSettings): Promise<SpKey | null> {
  return signsRequests(s) ? ensureSpKey(db, spCommonName(config.publicUrl)) : null;
}

const SIGNED_PARAMS = ['SAMLRequest', 'SAMLResponse', 'RelayState', 'SigAlg'] as const;

/**
 * node-saml signs the octets of querystring.stringify(SAMLRequest, RelayState, SigAlg) but then
 * writes the URL with URLSearchParams, which escapes differently (space, ! ' ( ) ~). The IdP
 * verifies the octets as they appear in the URL (SAML bindings §3.4.4.1), so a RelayState such
 * as "/search?q=o'brien" would fail there. Rewrite the query so the URL carries exactly the signed
 * octets. Unsigned URLs are returned untouched.
 */
export function withSignedOctets(url: string): string {
  const u = new URL(url);
  const signature = u.searchParams.get('Signature');
  if (!signature) return url;
  const saml: Record<string, string> = {};
  for (const k of SIGNED_PARAMS) {
    const v = u.searchParams.get(k);
    if (v !== null) saml[k] = v;
  }
  const others = new URLSearchParams([...u.searchParams].filter(([k]) => k !== 'Signature' && !(SIGNED_PARAMS as readonly string[]).includes(k)));
  const signed = querystring.stringify(saml) + '&' + querystring.stringify({ Signature: signature });
  u.search = '';
  const rest = others.toString();
  return `${u.toString()}?${rest ? rest + '&' : ''}${signed}`;
}

/**
 * SP metadata: entityID = PUBLIC_URL, ACS over HTTP-POST, SLO endpoint, assertions signed, and the
 * SP certificate: for signing (always published, so the IdP can be given it before signing is turned
 * on) with AuthnRequestsSigned saying whether we sign now, and for encryption, with the algorithms
 * the ACS accepts.
 */
export async function spMetadataXml(db: Kysely<DB>, config: Config): Promise<string> {
  const key = await ensureSpKey(db, spCommonName(config.publicUrl));
  const signing = signsRequests(await readSettings(db));
  return spMetadataXmlWith(config, key.certificate, signing);
}

export function spMetadataXmlWith(config: Config, certificate: string, authnRequestsSigned: boolean): string {
  const sp = spValues(config);
  const saml = new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    // Not used for metadata; node-saml insists on the option.
    idpCert: 'unused',
    identifierFormat: NAMEID_UNSPECIFIED,
    wantAssertionsSigned: true,
    logoutCallbackUrl: sp.logoutUrl,
    // node-saml only writes the signing and encryption KeyDescriptors when it has the private key;
    // it is not used for metadata and never appears in it, so placeholders keep the real key out of
    // this path.
    privateKey: 'unused',
    decryptionPvk: 'unused',
  });
  const xml = saml
    .generateServiceProviderMetadata(certificate, certificate)
    // node-saml says AuthnRequestsSigned="true" whenever a certificate is published.
    .replace(/AuthnRequestsSigned="(true|false)"/, `AuthnRequestsSigned="${authnRequestsSigned}"`)
    // node-saml lists the content algorithms; the ACS accepts exactly these and RSA-OAEP for the key.
    .replace(/(\s*)<EncryptionMethod Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmlenc#aes128-cbc"\/>/, (m, indent) => `${m}${KEY_TRANSPORT_ALGORITHMS.map((a) => `${indent}<EncryptionMethod Algorithm="${a}"/>`).join('')}`);
  // node-saml advertises SLO over HTTP-POST only; we also take LogoutRequests over HTTP-Redirect
  // (what Okta and Entra send), so say so.
  return xml.replace(
    /(\s*)<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"/,
    `$1<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${sp.logoutUrl}"/>$1<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"`,
  );
}
