// The demo IdP's SAML side, built on samlify's IdentityProvider (a third-party implementation:
// we never sign XML by hand here). Keys come from selfsigned at start-up; nothing is persisted.
// It answers SP-initiated requests (HTTP-Redirect AuthnRequest → signed Response with
// InResponseTo) and makes unsolicited IdP-initiated responses, both signed on the Response and
// on the Assertion with RSA-SHA256, as Okta's defaults do.
import { randomBytes } from 'node:crypto';
import { DOMParser } from '@xmldom/xmldom';
import selfsigned from 'selfsigned';
import * as samlify from 'samlify';

const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const NAMEID_UNSPECIFIED = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
const SAML_NAMESPACES = new Set(['urn:oasis:names:tc:SAML:2.0:protocol', 'urn:oasis:names:tc:SAML:2.0:assertion', 'urn:oasis:names:tc:SAML:2.0:metadata']);

let validatorInstalled = false;
/**
 * samlify refuses to parse anything without a schema validator. The usual one shells out to Java;
 * ours parses with @xmldom/xmldom (fatal on any error), refuses DTDs, and wants a SAML root element.
 * Enough for a development IdP that only reads AuthnRequests from the SP it is configured for.
 */
export function installSchemaValidator(): void {
  if (validatorInstalled) return;
  samlify.setSchemaValidator({
    validate: async (xml: string) => {
      if (/<!DOCTYPE/i.test(xml)) throw new Error('ERR_DTD_NOT_ALLOWED');
      const errors: string[] = [];
      const doc = new DOMParser({
        onError: (level, msg) => {
          if (level !== 'warning') errors.push(msg);
        },
      }).parseFromString(xml, 'text/xml');
      const root = doc.documentElement;
      if (errors.length || !root) throw new Error(`ERR_INVALID_XML: ${errors[0] ?? 'no root element'}`);
      if (!SAML_NAMESPACES.has(root.namespaceURI ?? '')) throw new Error(`ERR_NOT_SAML: root element {${root.namespaceURI}}${root.localName}`);
      return 'valid';
    },
  });
  validatorInstalled = true;
}

export interface IdpKeys {
  key: string;
  cert: string;
}

export async function generateIdpKeys(cn = 'Ledgerline demo IdP'): Promise<IdpKeys> {
  const r = await selfsigned.generate([{ name: 'commonName', value: cn }], { keySize: 2048, algorithm: 'sha256' });
  return { key: r.private, cert: r.cert };
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const newId = () => `id${randomBytes(16).toString('hex')}`;
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface SpConfig {
  /** "Single sign-on URL" in the app's Sign On settings: where responses are posted (the ACS). */
  ssoUrl: string;
  /** "Audience URI (SP Entity ID)". */
  audience: string;
}

export interface ParsedAuthnRequest {
  id: string;
  issuer: string;
  acsUrl: string | null;
}

export interface SignedResponse {
  /** base64 SAMLResponse, ready for the auto-submitting form. */
  samlResponse: string;
  /** Where the browser must post it (the configured Single sign-on URL). */
  acsUrl: string;
  responseId: string;
}

export class DemoSamlIdp {
  readonly entityId: string;
  readonly ssoUrl: string;
  readonly cert: string;
  private readonly idp: samlify.IdentityProviderInstance;

  constructor(o: { entityId: string; ssoUrl: string; keys: IdpKeys }) {
    installSchemaValidator();
    this.entityId = o.entityId;
    this.ssoUrl = o.ssoUrl;
    this.cert = o.keys.cert;
    // samlify warns on stdout that there is no SingleLogoutService; the demo has no SLO on purpose.
    const warn = console.warn;
    console.warn = () => undefined;
    try {
      this.idp = this.makeIdp(o);
    } finally {
      console.warn = warn;
    }
  }

  private makeIdp(o: { entityId: string; ssoUrl: string; keys: IdpKeys }): samlify.IdentityProviderInstance {
    return samlify.IdentityProvider({
      entityID: o.entityId,
      signingCert: o.keys.cert,
      privateKey: o.keys.key,
      wantAuthnRequestsSigned: false,
      requestSignatureAlgorithm: RSA_SHA256,
      nameIDFormat: [NAMEID_UNSPECIFIED],
      singleSignOnService: [
        { Binding: REDIRECT_BINDING, Location: o.ssoUrl },
        { Binding: POST_BINDING, Location: o.ssoUrl },
      ],
    } as any);
  }

  /** The IdP metadata XML, as Okta's "View IdP metadata" page shows it. */
  metadataXml(): string {
    return this.idp.getMetadata();
  }

  private sp(cfg: SpConfig): samlify.ServiceProviderInstance {
    return samlify.ServiceProvider({
      entityID: cfg.audience,
      assertionConsumerService: [{ Binding: POST_BINDING, Location: cfg.ssoUrl }],
      wantAssertionsSigned: true,
      wantMessageSigned: true,
      authnRequestsSigned: false,
    } as any);
  }

  /** Reads an AuthnRequest: HTTP-Redirect (the query Ledgerline's /Login redirected to) or HTTP-POST (its form). */
  async parseRequest(cfg: SpConfig, binding: 'redirect' | 'post', params: Record<string, string>): Promise<ParsedAuthnRequest> {
    const req = binding === 'redirect' ? { query: params, octetString: '' } : { body: params };
    const parsed: any = await this.idp.parseLoginRequest(this.sp(cfg), binding, req as any);
    const request = parsed?.extract?.request ?? {};
    const issuer = typeof parsed?.extract?.issuer === 'string' ? parsed.extract.issuer : '';
    if (!request.id) throw new Error('the AuthnRequest has no ID');
    return { id: String(request.id), issuer, acsUrl: request.assertionConsumerServiceUrl ? String(request.assertionConsumerServiceUrl) : null };
  }

  /**
   * A Response signed by samlify (Response and Assertion). `inResponseTo` null makes an unsolicited
   * (IdP-initiated) response, which carries no InResponseTo at all rather than an empty one.
   */
  async signResponse(cfg: SpConfig, nameId: string, inResponseTo: string | null, attributes: Record<string, string> = {}): Promise<SignedResponse> {
    const responseId = newId();
    const assertionId = newId();
    const now = Date.now();
    const irt = inResponseTo ? ` InResponseTo="${xmlEscape(inResponseTo)}"` : '';
    const attrs = Object.entries(attributes)
      .map(
        ([k, v]) =>
          `<saml:Attribute Name="${xmlEscape(k)}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"><saml:AttributeValue xsi:type="xs:string">${xmlEscape(v)}</saml:AttributeValue></saml:Attribute>`,
      )
      .join('');
    const xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${responseId}" Version="2.0" IssueInstant="${isoSeconds(now)}" Destination="${xmlEscape(cfg.ssoUrl)}"${irt}>` +
      `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${xmlEscape(this.entityId)}</saml:Issuer>` +
      `<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
      `<saml:Assertion xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xs="http://www.w3.org/2001/XMLSchema" ID="${assertionId}" Version="2.0" IssueInstant="${isoSeconds(now)}">` +
      `<saml:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${xmlEscape(this.entityId)}</saml:Issuer>` +
      `<saml:Subject><saml:NameID Format="${NAMEID_UNSPECIFIED}">${xmlEscape(nameId)}</saml:NameID>` +
      `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${isoSeconds(now + 5 * 60_000)}" Recipient="${xmlEscape(cfg.ssoUrl)}"${irt}/></saml:SubjectConfirmation></saml:Subject>` +
      `<saml:Conditions NotBefore="${isoSeconds(now - 30_000)}" NotOnOrAfter="${isoSeconds(now + 5 * 60_000)}"><saml:AudienceRestriction><saml:Audience>${xmlEscape(cfg.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
      `<saml:AuthnStatement AuthnInstant="${isoSeconds(now)}" SessionIndex="${assertionId}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
      (attrs ? `<saml:AttributeStatement>${attrs}</saml:AttributeStatement>` : '') +
      `</saml:Assertion></samlp:Response>`;
    // customTagReplacement hands samlify our finished template; samlify then signs the Assertion
    // and the Response (the SP entity says it wants both) with the IdP key.
    const out: any = await this.idp.createLoginResponse(this.sp(cfg), {} as any, 'post', { email: nameId }, {
      customTagReplacement: () => ({ id: responseId, context: xml }),
    } as any);
    return { samlResponse: String(out.context), acsUrl: cfg.ssoUrl, responseId };
  }
}
