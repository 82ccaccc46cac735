// A third-party test IdP for the SAML tests, three ways:
//  - samlify's IdentityProvider (a real, independently written IdP: parses our AuthnRequest, signs
//    the Response, the Assertion or both);
//  - samlp (Auth0's IdP library: a second, independent signer);
//  - craftResponse + signXml: hand-built responses signed with xml-crypto, which the attack tests
//    then mutate (wrap, duplicate, inject, re-sign with other keys) before posting to the ACS;
//    encryptAssertion encrypts their assertion with xml-encryption, as an IdP with assertion
//    encryption on does.
// Keys and certificates are generated at test time with selfsigned.
import { randomUUID, X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import selfsigned from 'selfsigned';
import { SignedXml } from 'xml-crypto';
import xmlenc from 'xml-encryption';
import * as samlify from 'samlify';

const require = createRequire(import.meta.url);
const samlp = require('samlp') as { getSamlResponse: (opts: Record<string, unknown>, user: Record<string, unknown>, cb: (err: Error | null, xml?: string) => void) => void };

export interface KeyPair {
  key: string;
  cert: string;
  /** Certificate body without PEM armour, as metadata and KeyInfo carry it. */
  certBase64: string;
}

export const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
export const RSA_SHA1 = 'http://www.w3.org/2000/09/xmldsig#rsa-sha1';
export const HMAC_SHA1 = 'http://www.w3.org/2000/09/xmldsig#hmac-sha1';
export const SHA256 = 'http://www.w3.org/2001/04/xmlenc#sha256';
export const SHA1 = 'http://www.w3.org/2000/09/xmldsig#sha1';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

const armourless = (pem: string) => pem.replace(/-----(BEGIN|END) CERTIFICATE-----/g, '').replace(/\s+/g, '');

export async function generateKeyPair(opts: { cn?: string; notBeforeDate?: Date; notAfterDate?: Date } = {}): Promise<KeyPair> {
  const r = await selfsigned.generate([{ name: 'commonName', value: opts.cn ?? 'Ledgerline Test IdP' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: opts.notBeforeDate,
    notAfterDate: opts.notAfterDate,
  });
  return { key: r.private, cert: r.cert, certBase64: armourless(r.cert) };
}

export function idpMetadataXml(o: { entityId: string; ssoUrl: string; sloUrl?: string | null; certs: string[]; postOnly?: boolean; wantAuthnRequestsSigned?: boolean }): string {
  const keys = o.certs
    .map((c) => `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${armourless(c)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`)
    .join('');
  const binding = o.postOnly ? 'HTTP-POST' : 'HTTP-Redirect';
  return `<?xml version="1.0" encoding="UTF-8"?><md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${o.entityId}"><md:IDPSSODescriptor WantAuthnRequestsSigned="${o.wantAuthnRequestsSigned === true}" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}${
    o.sloUrl ? `<md:SingleLogoutService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${o.sloUrl}"/>` : ''
  }<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:${binding}" Location="${o.ssoUrl}"/></md:IDPSSODescriptor></md:EntityDescriptor>`;
}

export interface ResponseFields {
  issuer: string;
  /** Defaults to issuer; null leaves the Response without an Issuer. */
  responseIssuer?: string | null;
  assertionIssuer?: string;
  destination: string | null;
  recipient: string;
  /** null: no AudienceRestriction at all. */
  audience: string | null;
  nameId: string;
  inResponseTo?: string | null;
  /** Defaults to inResponseTo. */
  subjectInResponseTo?: string | null;
  responseId?: string;
  assertionId?: string;
  statusCode?: string;
  notBefore?: Date;
  notOnOrAfter?: Date;
  subjectNotOnOrAfter?: Date;
  sessionIndex?: string;
  attributes?: Record<string, string>;
}

const iso = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** An unsigned SAML Response in Okta's shape (prefixes saml2p/saml2 like Okta's). */
export function craftResponse(f: ResponseFields): string {
  const now = Date.now();
  const notBefore = f.notBefore ?? new Date(now - 60_000);
  const notOnOrAfter = f.notOnOrAfter ?? new Date(now + 5 * 60_000);
  const subjNoa = f.subjectNotOnOrAfter ?? notOnOrAfter;
  const responseId = f.responseId ?? `id${randomUUID().replace(/-/g, '')}`;
  const assertionId = f.assertionId ?? `id${randomUUID().replace(/-/g, '')}`;
  const irt = f.inResponseTo ? ` InResponseTo="${esc(f.inResponseTo)}"` : '';
  const sirt = (f.subjectInResponseTo === undefined ? f.inResponseTo : f.subjectInResponseTo) ?? null;
  const responseIssuer = f.responseIssuer === undefined ? f.issuer : f.responseIssuer;
  const attrs = Object.entries(f.attributes ?? {})
    .map(([k, v]) => `<saml2:Attribute Name="${esc(k)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"><saml2:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">${esc(v)}</saml2:AttributeValue></saml2:Attribute>`)
    .join('');
  return (
    `<?xml version="1.0" encoding="UTF-8"?>` +
    `<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol"${f.destination !== null ? ` Destination="${esc(f.destination)}"` : ''} ID="${responseId}"${irt} IssueInstant="${iso(new Date(now))}" Version="2.0">` +
    (responseIssuer !== null ? `<saml2:Issuer xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${esc(responseIssuer)}</saml2:Issuer>` : '') +
    `<saml2p:Status><saml2p:StatusCode Value="${f.statusCode ?? 'urn:oasis:names:tc:SAML:2.0:status:Success'}"/></saml2p:Status>` +
    `<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" ID="${assertionId}" IssueInstant="${iso(new Date(now))}" Version="2.0">` +
    `<saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${esc(f.assertionIssuer ?? f.issuer)}</saml2:Issuer>` +
    `<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${f.nameId}</saml2:NameID>` +
    `<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData${sirt ? ` InResponseTo="${esc(sirt)}"` : ''} NotOnOrAfter="${iso(subjNoa)}" Recipient="${esc(f.recipient)}"/></saml2:SubjectConfirmation></saml2:Subject>` +
    `<saml2:Conditions NotBefore="${iso(notBefore)}" NotOnOrAfter="${iso(notOnOrAfter)}">` +
    (f.audience !== null ? `<saml2:AudienceRestriction><saml2:Audience>${esc(f.audience)}</saml2:Audience></saml2:AudienceRestriction>` : '') +
    `</saml2:Conditions>` +
    `<saml2:AuthnStatement AuthnInstant="${iso(new Date(now))}" SessionIndex="${esc(f.sessionIndex ?? `${assertionId}-s`)}"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
    (attrs ? `<saml2:AttributeStatement>${attrs}</saml2:AttributeStatement>` : '') +
    `</saml2:Assertion></saml2p:Response>`
  );
}

export interface SignOptions {
  key: string;
  /** Certificate placed in KeyInfo; omitted when null. */
  cert: string | null;
  signatureAlgorithm?: string;
  digestAlgorithm?: string;
}

/** Signs the Response or its Assertion (enveloped, exclusive c14n), signature placed after the Issuer. */
export function signXml(xml: string, target: 'response' | 'assertion', o: SignOptions): string {
  const alg = o.signatureAlgorithm ?? RSA_SHA256;
  const sig = new SignedXml({ privateKey: o.key, publicCert: o.cert ?? undefined, signatureAlgorithm: alg, canonicalizationAlgorithm: EXC_C14N });
  if (alg === HMAC_SHA1) {
    sig.enableHMAC();
    sig.signatureAlgorithm = alg;
  }
  if (o.cert === null) sig.getKeyInfoContent = () => null;
  const xpath = target === 'response' ? "/*[local-name(.)='Response']" : "/*[local-name(.)='Response']/*[local-name(.)='Assertion']";
  sig.addReference({ xpath, transforms: [ENVELOPED, EXC_C14N], digestAlgorithm: o.digestAlgorithm ?? SHA256 });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: `${xpath}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

export function signResponse(xml: string, where: 'response' | 'assertion' | 'both', o: SignOptions): string {
  let out = xml;
  if (where === 'assertion' || where === 'both') out = signXml(out, 'assertion', o);
  if (where === 'response' || where === 'both') out = signXml(out, 'response', o);
  return out;
}

export const b64 = (xml: string) => Buffer.from(xml, 'utf8').toString('base64');

export interface EncryptOptions {
  /** The certificate to encrypt for (the SP's, from its metadata). */
  cert: string;
  /** Content encryption; AES-256-GCM (Okta's default choice) unless given. */
  encryptionAlgorithm?: xmlenc.EncryptionAlgorithm;
  /** Key transport; RSA-OAEP unless given. */
  keyEncryptionAlgorithm?: xmlenc.KeyEncryptionAlgorithm;
}

/**
 * Replaces the response's Assertion (signed or not) with an EncryptedAssertion holding it, as an IdP
 * with assertion encryption on does; sign the Response afterwards to sign over the encrypted form.
 */
export async function encryptAssertion(xml: string, o: EncryptOptions): Promise<string> {
  const m = /<saml2:Assertion[\s\S]*<\/saml2:Assertion>/.exec(xml);
  if (!m) throw new Error('no saml2:Assertion to encrypt');
  const encrypted = await encryptXml(m[0], o);
  return xml.replace(m[0], () => `<saml2:EncryptedAssertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">${encrypted}</saml2:EncryptedAssertion>`);
}

/** An xenc:EncryptedData holding `xml`, its key encrypted for `o.cert`. */
export function encryptXml(xml: string, o: EncryptOptions): Promise<string> {
  return promisify(xmlenc.encrypt)(xml, {
    rsa_pub: new X509Certificate(o.cert).publicKey.export({ type: 'spki', format: 'pem' }),
    pem: o.cert,
    encryptionAlgorithm: o.encryptionAlgorithm ?? 'http://www.w3.org/2009/xmlenc11#aes256-gcm',
    keyEncryptionAlgorithm: o.keyEncryptionAlgorithm ?? 'http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p',
    warnInsecureAlgorithm: false,
  });
}

// ---- samlify ---------------------------------------------------------------------------------
let validatorSet = false;
function ensureSamlifyValidator() {
  if (validatorSet) return;
  // samlify insists on a schema validator; our SP does its own strict checks, the IdP side needs none.
  samlify.setSchemaValidator({ validate: async () => 'skipped' });
  validatorSet = true;
}

export interface SamlifyIdp {
  idp: samlify.IdentityProviderInstance;
  /** Builds the SAMLResponse (base64) for our SP; `requestUrl` is the redirect from /Login (SP-initiated). */
  respond(o: { spMetadataXml: string; nameId: string; sign: 'response' | 'assertion' | 'both'; requestUrl?: string }): Promise<string>;
}

/** The signed octets of an HTTP-Redirect URL: its query as sent, up to (not including) &Signature=. */
export function redirectOctets(url: string): string {
  const query = url.slice(url.indexOf('?') + 1);
  return query
    .split('&')
    .filter((p) => !p.startsWith('Signature='))
    .join('&');
}

/**
 * `wantAuthnRequestsSigned`: samlify then verifies the AuthnRequest's redirect signature against
 * the signing certificate in our SP metadata, and refuses unsigned requests. `encryptAssertion`:
 * samlify encrypts the assertion for the encryption certificate in our SP metadata.
 */
export function samlifyIdp(o: { entityId: string; ssoUrl: string; keys: KeyPair; wantAuthnRequestsSigned?: boolean; encryptAssertion?: boolean }): SamlifyIdp {
  ensureSamlifyValidator();
  const metadata = idpMetadataXml({ entityId: o.entityId, ssoUrl: o.ssoUrl, certs: [o.keys.cert], wantAuthnRequestsSigned: o.wantAuthnRequestsSigned });
  const idp = samlify.IdentityProvider({
    metadata,
    privateKey: o.keys.key,
    requestSignatureAlgorithm: RSA_SHA256,
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'],
    // For the encryption certificate in our SP metadata, with its defaults: AES-256-CBC, RSA-OAEP.
    isAssertionEncrypted: o.encryptAssertion === true,
  } as any);
  return {
    idp,
    async respond(r) {
      const sp = samlify.ServiceProvider({
        metadata: r.spMetadataXml.replace(/WantAssertionsSigned="(true|false)"/, `WantAssertionsSigned="${r.sign !== 'response'}"`),
        wantMessageSigned: r.sign !== 'assertion',
      } as any);
      let requestInfo: any = {};
      if (r.requestUrl) {
        const u = new URL(r.requestUrl);
        requestInfo = await idp.parseLoginRequest(sp, 'redirect', { query: Object.fromEntries(u.searchParams), octetString: redirectOctets(r.requestUrl) } as any);
      }
      // Encrypted: the Response is signed over the encrypted assertion, as Okta does.
      const res = await idp.createLoginResponse(sp, requestInfo, 'post', { email: r.nameId }, { encryptThenSign: true });
      return (res as { context: string }).context;
    },
  };
}

// ---- samlp (Auth0) ---------------------------------------------------------------------------
export function samlpResponse(o: {
  issuer: string;
  keys: KeyPair;
  audience: string;
  acsUrl: string;
  nameId: string;
  inResponseTo?: string;
  sign: 'response' | 'assertion' | 'both';
}): Promise<string> {
  return new Promise((resolve, reject) => {
    samlp.getSamlResponse(
      {
        issuer: o.issuer,
        cert: o.keys.cert,
        key: o.keys.key,
        audience: o.audience,
        recipient: o.acsUrl,
        destination: o.acsUrl,
        inResponseTo: o.inResponseTo,
        signatureAlgorithm: 'rsa-sha256',
        digestAlgorithm: 'sha256',
        signAssertion: o.sign !== 'response',
        signResponse: o.sign !== 'assertion',
        lifetimeInSeconds: 300,
        nameIdentifierProbes: ['nameId'],
        profileMapper: (user: Record<string, string>) => ({
          getClaims: () => ({}),
          getNameIdentifier: () => ({ nameIdentifier: user.nameId, nameIdentifierFormat: 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified' }),
        }),
      },
      { nameId: o.nameId },
      (err, xml) => (err ? reject(err) : resolve(b64(xml!))),
    );
  });
}

/** Posts a SAMLResponse to the ACS like a browser's auto-submitting form; redirects are not followed. */
export async function postToAcs(baseUrl: string, samlResponse: string, relayState?: string): Promise<Response> {
  const body = new URLSearchParams({ SAMLResponse: samlResponse });
  if (relayState !== undefined) body.set('RelayState', relayState);
  return fetch(`${baseUrl}/AuthorizationServer/Saml2/ACS`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    redirect: 'manual',
  });
}
