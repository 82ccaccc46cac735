// IdP metadata: fetched (with a timeout and a size limit) or pasted, parsed into what the SP needs:
// entity ID, SSO and SLO URLs, and every signing certificate with its subject and validity.
// It never trusts a certificate it cannot parse, and never decides on its own to enable anything.
import { X509Certificate } from 'node:crypto';
import { NS, XmlRejected, allElements, childElements, parseXmlStrict, pureText } from './saml.xml.ts';

export interface IdpCertificate {
  /** PEM text. */
  pem: string;
  subject: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
}

export interface ParsedIdpMetadata {
  entityId: string;
  ssoUrl: string;
  ssoBinding: 'redirect' | 'post';
  sloUrl: string | null;
  certificates: IdpCertificate[];
  /** IDPSSODescriptor WantAuthnRequestsSigned="true": the default for signing our requests. Absent in metadata parsed before it was read. */
  wantAuthnRequestsSigned?: boolean;
}

export class MetadataError extends Error {}

const BINDING_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const BINDING_POST = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

export const METADATA_MAX_BYTES = 1024 * 1024;
export const METADATA_TIMEOUT_MS = 10_000;

export function certificateFromBase64(b64: string): IdpCertificate {
  const body = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+=*$/.test(body)) throw new MetadataError('a signing certificate is not valid base64');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
  let x: X509Certificate;
  try {
    x = new X509Certificate(pem);
  } catch {
    throw new MetadataError('a signing certificate in the metadata cannot be read');
  }
  return {
    pem,
    subject: x.subject.replace(/\n/g, ', '),
    issuer: x.issuer.replace(/\n/g, ', '),
    notBefore: new Date(x.validFrom).toISOString(),
    notAfter: new Date(x.validTo).toISOString(),
    fingerprint256: x.fingerprint256,
  };
}

/** Parses IdP metadata. `expectedEntityId` picks the entity out of an EntitiesDescriptor. */
export function parseIdpMetadata(xml: string, expectedEntityId?: string | null): ParsedIdpMetadata {
  let doc;
  try {
    doc = parseXmlStrict(xml);
  } catch (err) {
    if (err instanceof XmlRejected) throw new MetadataError(err.kind === 'doctype' ? 'the metadata declares a DOCTYPE, which is not allowed' : `the metadata is not well-formed XML: ${err.message}`);
    throw err;
  }
  const root = doc.documentElement!;
  if (root.namespaceURI !== NS.metadata || (root.localName !== 'EntityDescriptor' && root.localName !== 'EntitiesDescriptor')) {
    throw new MetadataError('the document is not SAML metadata (no md:EntityDescriptor)');
  }
  const entities = allElements(root).filter((e) => e.namespaceURI === NS.metadata && e.localName === 'EntityDescriptor' && childElements(e, NS.metadata, 'IDPSSODescriptor').length > 0);
  if (entities.length === 0) throw new MetadataError('the metadata describes no identity provider (no IDPSSODescriptor)');
  const entity = (expectedEntityId ? entities.find((e) => e.getAttribute('entityID') === expectedEntityId) : undefined) ?? entities[0];
  const entityId = entity.getAttribute('entityID') ?? '';
  if (!entityId) throw new MetadataError('the metadata has no entityID');
  const idp = childElements(entity, NS.metadata, 'IDPSSODescriptor')[0];

  const sso = childElements(idp, NS.metadata, 'SingleSignOnService');
  const ssoRedirect = sso.find((e) => e.getAttribute('Binding') === BINDING_REDIRECT);
  const ssoPost = sso.find((e) => e.getAttribute('Binding') === BINDING_POST);
  const ssoEl = ssoRedirect ?? ssoPost;
  const ssoUrl = ssoEl?.getAttribute('Location') ?? '';
  if (!ssoEl || !/^https?:\/\//i.test(ssoUrl)) throw new MetadataError('the metadata has no SingleSignOnService with an HTTP-Redirect or HTTP-POST binding');

  const slo = childElements(idp, NS.metadata, 'SingleLogoutService').find((e) => e.getAttribute('Binding') === BINDING_REDIRECT);
  const sloUrl = slo?.getAttribute('Location') || null;

  const certificates: IdpCertificate[] = [];
  const seen = new Set<string>();
  for (const kd of childElements(idp, NS.metadata, 'KeyDescriptor')) {
    const use = kd.getAttribute('use');
    if (use && use !== 'signing') continue;
    for (const el of allElements(kd)) {
      if (el.namespaceURI !== NS.dsig || el.localName !== 'X509Certificate') continue;
      const text = pureText(el);
      if (text === null) throw new MetadataError('a signing certificate element holds markup, not base64 text');
      const cert = certificateFromBase64(text);
      if (!seen.has(cert.fingerprint256)) {
        seen.add(cert.fingerprint256);
        certificates.push(cert);
      }
    }
  }
  const wantAuthnRequestsSigned = ['true', '1'].includes((idp.getAttribute('WantAuthnRequestsSigned') ?? '').trim());
  return { entityId, ssoUrl, ssoBinding: ssoRedirect ? 'redirect' : 'post', sloUrl, certificates, wantAuthnRequestsSigned };
}

/** Certificates usable at `at`: inside their validity period. */
export function usableCertificates(certs: IdpCertificate[], at = new Date()): IdpCertificate[] {
  const t = at.getTime();
  return certs.filter((c) => Date.parse(c.notBefore) <= t && t < Date.parse(c.notAfter));
}

/** Fetches metadata over HTTP(S), refusing slow servers, large documents and non-2xx answers. */
export async function fetchMetadata(url: string, opts: { timeoutMs?: number; maxBytes?: number } = {}): Promise<string> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MetadataError('the metadata URL is not a valid URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new MetadataError('the metadata URL must start with https:// or http://');
  const maxBytes = opts.maxBytes ?? METADATA_MAX_BYTES;
  let res: Response;
  try {
    res = await fetch(u, { signal: AbortSignal.timeout(opts.timeoutMs ?? METADATA_TIMEOUT_MS), redirect: 'follow', headers: { accept: 'application/samlmetadata+xml, application/xml, text/xml' } });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    if (e.name === 'TimeoutError' || e.name === 'AbortError') throw new MetadataError(`the metadata URL did not answer within ${Math.round((opts.timeoutMs ?? METADATA_TIMEOUT_MS) / 1000)} s`);
    throw new MetadataError(`the metadata URL is unreachable (${e.cause?.code ?? e.message})`);
  }
  if (!res.ok) throw new MetadataError(`the metadata URL answered HTTP ${res.status}`);
  const declared = Number(res.headers.get('content-length') ?? 0);
  if (declared > maxBytes) throw new MetadataError(`the metadata is larger than ${maxBytes} bytes`);
  const reader = res.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new MetadataError(`the metadata is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
