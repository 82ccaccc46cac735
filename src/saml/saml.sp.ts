// Builds node-saml instances from our settings, with every default the reference says is wrong
// for us overridden: InResponseTo validation, a database cache, sha256 for what we sign, audience
// and IdP issuer set, no SHA-1, clock skew bounded, only currently valid IdP certificates.
import { SAML, ValidateInResponseTo, type CacheProvider } from '@node-saml/node-saml';
import type { Config } from '../config.ts';
import { usableCertificates } from './saml.metadata.ts';
import type { SamlSettings } from './saml.settings.repo.ts';
import { spValues } from './saml.settings.service.ts';
import { REQUEST_TTL_MS } from './saml.cache.repo.ts';

export const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';

export interface SpOptions {
  /** 'always' for SP-initiated responses; 'ifPresent' only on the explicit IdP-initiated path. */
  inResponseTo: 'always' | 'ifPresent';
  cache: CacheProvider;
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
  });
}

/** SP metadata: entityID = PUBLIC_URL, ACS over HTTP-POST, SLO endpoint, assertions signed. */
export function spMetadataXml(config: Config): string {
  const sp = spValues(config);
  const saml = new SAML({
    issuer: sp.entityId,
    callbackUrl: sp.acsUrl,
    // Not used for metadata; node-saml insists on the option.
    idpCert: 'unused',
    identifierFormat: NAMEID_UNSPECIFIED,
    wantAssertionsSigned: true,
    logoutCallbackUrl: sp.logoutUrl,
  });
  const xml = saml.generateServiceProviderMetadata(null, null);
  // node-saml advertises SLO over HTTP-POST only; we also take LogoutRequests over HTTP-Redirect
  // (what Okta and Entra send), so say so.
  return xml.replace(
    /(\s*)<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"/,
    `$1<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${sp.logoutUrl}"/>$1<SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"`,
  );
}
