// The checks node-saml 5.1 leaves to the application (reference: "What the app must check itself"),
// in two passes around the library's signature verification:
//   inspectResponse — on the raw POSTed document, before verification: DOCTYPE, shape (one Response,
//     one Assertion, plain or encrypted, unique IDs, no comments / processing instructions),
//     algorithms (no SHA-1, no HMAC; AES and RSA-OAEP for encryption), Status Success, Response Issuer
//     and Destination. These only ever add refusals.
//   inspectDecryptedAssertion — an encrypted assertion, once node-saml has decrypted and verified it:
//     the checks above that concern the assertion.
//   checkVerifiedAssertion — on the assertion XML node-saml reports as signed: Issuer, bearer
//     SubjectConfirmation (Recipient, NotOnOrAfter, InResponseTo), NameID as pure text.
// Nothing here accepts a response on its own; acceptance needs node-saml's verification too.
import type { Document, Element } from '@xmldom/xmldom';
import { checkEncryptionAlgorithms } from './saml.encryption.ts';
import { SamlRefusal } from './saml.refusal.ts';
import { NS, XmlRejected, allElements, childElements, firstChild, parseXmlStrict, pureText } from './saml.xml.ts';

export const ALLOWED_SIGNATURE_ALGORITHMS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
export const ALLOWED_DIGEST_ALGORITHMS = new Set(['http://www.w3.org/2001/04/xmlenc#sha256', 'http://www.w3.org/2001/04/xmlenc#sha512']);

const STATUS_SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
/** Responses larger than this are refused before decoding (Okta's are a few kB). */
export const MAX_RESPONSE_BYTES = 256 * 1024;

export interface ResponseFacts {
  xml: string;
  responseId: string;
  /** Response/@InResponseTo, null when absent or empty (IdP-initiated). */
  inResponseTo: string | null;
  /** Response/Issuer text, null when the Response has none (the Assertion's Issuer is then decisive). */
  responseIssuer: string | null;
  /** The Assertion's ID; for an encrypted assertion, '' until inspectDecryptedAssertion has read it. */
  assertionId: string;
  /** The assertion is encrypted: node-saml decrypts it, then inspectDecryptedAssertion checks it. */
  encrypted: boolean;
  /** Raw (unverified) NameID and Issuer, only for the audit entry of a refusal. */
  claimedNameId: string | null;
  claimedIssuer: string | null;
}

export interface CheckContext {
  acsUrl: string;
  idpEntityId: string;
  clockSkewMs: number;
  now?: number;
}

export function decodeSamlResponse(b64: unknown): string {
  if (typeof b64 !== 'string' || b64.length === 0) throw new SamlRefusal('malformed', 'no SAMLResponse field in the POST');
  if (b64.length > (MAX_RESPONSE_BYTES * 4) / 3 + 4) throw new SamlRefusal('malformed', 'SAMLResponse is larger than 256 kB');
  const compact = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(compact)) throw new SamlRefusal('malformed', 'SAMLResponse is not base64');
  return Buffer.from(compact, 'base64').toString('utf8');
}

const attr = (el: Element, name: string): string | null => (el.hasAttribute(name) ? el.getAttribute(name) : null);

/**
 * Comments and processing instructions have no business in a SAML response; canonicalisation drops
 * or flattens them, which is how "admin@x.com<!---->.evil.com" attacks work. Refuses them anywhere.
 */
function refuseCommentsAndPIs(doc: Document): void {
  const walk = (n: { firstChild: any }): void => {
    for (let c = n.firstChild; c; c = c.nextSibling) {
      if (c.nodeType === 8) throw new SamlRefusal('comment_or_pi', 'the response contains an XML comment');
      if (c.nodeType === 7) throw new SamlRefusal('comment_or_pi', `the response contains a processing instruction <?${c.nodeName}?>`);
      if (c.nodeType === 1) walk(c);
    }
  };
  for (let c = doc.firstChild; c; c = c.nextSibling) {
    // The XML declaration is reported as a PI named "xml" before the root: the only one allowed.
    if (c.nodeType === 7 && c.nodeName === 'xml' && c === doc.firstChild) continue;
    if (c.nodeType === 8 || c.nodeType === 7) throw new SamlRefusal('comment_or_pi', 'the response contains a comment or processing instruction outside the root');
  }
  walk(doc.documentElement!);
}

/** Parses XML with parseXmlStrict, turning its rejections into refusals. */
export function parseOrRefuse(xml: string): Document {
  try {
    return parseXmlStrict(xml);
  } catch (err) {
    if (err instanceof XmlRejected) throw new SamlRefusal(err.kind, err.message);
    throw err;
  }
}

/** Refuses a document in which an ID is used twice. */
function refuseDuplicateIds(elements: Element[]): void {
  const ids = new Map<string, number>();
  for (const el of elements) {
    for (const name of ['ID', 'Id', 'AssertionID']) {
      const v = attr(el, name);
      if (v !== null) ids.set(v, (ids.get(v) ?? 0) + 1);
    }
  }
  const dup = [...ids].find(([, n]) => n > 1);
  if (dup) throw new SamlRefusal('duplicate_id', `ID "${dup[0].slice(0, 80)}" appears ${dup[1]} times`);
}

/**
 * The one assertion of the response, a direct child of it: the plain one, or null when it is
 * encrypted (after the encryption's algorithms are checked; node-saml decrypts it).
 */
function theAssertion(root: Element, elements: Element[]): Element | null {
  const assertions = elements.filter((e) => e.namespaceURI === NS.assertion && e.localName === 'Assertion');
  const encrypted = elements.filter((e) => e.namespaceURI === NS.assertion && e.localName === 'EncryptedAssertion');
  const count = assertions.length + encrypted.length;
  if (count === 0) throw new SamlRefusal('no_assertion', 'the response carries no assertion');
  if (count > 1) throw new SamlRefusal('multiple_assertions', `the response carries ${count} assertions`);
  const [one] = [...assertions, ...encrypted];
  if (one.parentNode !== root) throw new SamlRefusal('signature_wrapping', `the ${one.localName} is not a direct child of the Response`);
  if (encrypted.length === 0) return one;
  checkEncryptionAlgorithms(one);
  return null;
}

/** Signatures sit only on `signed` (the Response, the Assertion), each with one SignedInfo and accepted algorithms. */
function checkSignatures(elements: Element[], signed: (Element | null)[]): void {
  for (const sig of elements.filter((e) => e.namespaceURI === NS.dsig && e.localName === 'Signature')) {
    if (!signed.includes(sig.parentNode as Element)) throw new SamlRefusal('signature_wrapping', 'a signature sits outside the Response and the Assertion');
    const signedInfos = childElements(sig, NS.dsig, 'SignedInfo');
    if (signedInfos.length !== 1) throw new SamlRefusal('signature_wrapping', `a signature has ${signedInfos.length} SignedInfo elements`);
    if (allElements(sig).filter((e) => e.namespaceURI === NS.dsig && e.localName === 'SignedInfo').length !== 1) {
      throw new SamlRefusal('signature_wrapping', 'a signature contains a nested SignedInfo');
    }
    for (const m of allElements(sig).filter((e) => e.namespaceURI === NS.dsig && e.localName === 'SignatureMethod')) {
      const alg = m.getAttribute('Algorithm') ?? '';
      if (!ALLOWED_SIGNATURE_ALGORITHMS.has(alg)) throw new SamlRefusal('weak_algorithm', `signature algorithm ${alg || '(none)'} is not accepted (RSA-SHA256 or RSA-SHA512 only)`);
    }
    for (const m of allElements(sig).filter((e) => e.namespaceURI === NS.dsig && e.localName === 'DigestMethod')) {
      const alg = m.getAttribute('Algorithm') ?? '';
      if (!ALLOWED_DIGEST_ALGORITHMS.has(alg)) throw new SamlRefusal('weak_algorithm', `digest algorithm ${alg || '(none)'} is not accepted (SHA-256 or SHA-512 only)`);
    }
    for (const dv of allElements(sig).filter((e) => e.namespaceURI === NS.dsig && (e.localName === 'DigestValue' || e.localName === 'SignatureValue'))) {
      if (pureText(dv) === null) throw new SamlRefusal('signature', `${dv.localName} holds markup`);
    }
  }
}

/** The NameID's text, unverified (for the audit entry of a refusal). */
function claimedNameIdOf(assertion: Element | null): string | null {
  const subject = assertion ? firstChild(assertion, NS.assertion, 'Subject') : null;
  const nameIdEl = subject ? firstChild(subject, NS.assertion, 'NameID') : null;
  return nameIdEl ? pureText(nameIdEl)?.trim() ?? null : null;
}

export function inspectResponse(xml: string, ctx: CheckContext): ResponseFacts {
  const doc = parseOrRefuse(xml);
  const root = doc.documentElement!;
  if (root.namespaceURI !== NS.protocol || root.localName !== 'Response') {
    throw new SamlRefusal('malformed', `root element is ${root.namespaceURI ?? ''}:${root.localName}, not samlp:Response`);
  }

  refuseCommentsAndPIs(doc);

  const elements = allElements(root);
  refuseDuplicateIds(elements);

  const responses = elements.filter((e) => e.namespaceURI === NS.protocol && e.localName === 'Response');
  if (responses.length !== 1) throw new SamlRefusal('signature_wrapping', `the document holds ${responses.length} Response elements`);

  // Status before the assertion count: an error response usually carries no assertion.
  const status = firstChild(root, NS.protocol, 'Status');
  const code = status ? firstChild(status, NS.protocol, 'StatusCode') : null;
  const codeValue = code?.getAttribute('Value') ?? '';
  if (codeValue !== STATUS_SUCCESS) {
    const sub = code ? firstChild(code, NS.protocol, 'StatusCode')?.getAttribute('Value') : null;
    const msgEl = status ? firstChild(status, NS.protocol, 'StatusMessage') : null;
    throw new SamlRefusal('status', `status is ${codeValue || 'missing'}${sub ? ` / ${sub}` : ''}${msgEl ? `: ${(pureText(msgEl) ?? '').slice(0, 200)}` : ''}`);
  }

  const assertion = theAssertion(root, elements);
  checkSignatures(elements, [root, assertion]);

  const issuerEl = firstChild(root, NS.assertion, 'Issuer');
  const responseIssuer = issuerEl ? pureText(issuerEl)?.trim() ?? null : null;
  const assertionIssuerEl = assertion ? firstChild(assertion, NS.assertion, 'Issuer') : null;
  const claimedIssuer = responseIssuer ?? (assertionIssuerEl ? pureText(assertionIssuerEl)?.trim() ?? null : null);
  const facts: ResponseFacts = {
    xml,
    responseId: root.getAttribute('ID') ?? '',
    inResponseTo: root.getAttribute('InResponseTo') || null,
    responseIssuer,
    assertionId: assertion?.getAttribute('ID') ?? '',
    encrypted: assertion === null,
    claimedNameId: claimedNameIdOf(assertion),
    claimedIssuer,
  };
  if (!facts.responseId || (assertion && !facts.assertionId)) throw new SamlRefusal('malformed', 'the Response or the Assertion has no ID');

  if (issuerEl && responseIssuer !== ctx.idpEntityId) {
    throw new SamlRefusal('issuer', `Response Issuer "${(responseIssuer ?? '').slice(0, 200)}" is not the configured IdP entity ID "${ctx.idpEntityId}"`);
  }
  const destination = root.getAttribute('Destination') ?? '';
  if (destination !== ctx.acsUrl) {
    throw new SamlRefusal('destination', destination ? `Destination "${destination.slice(0, 200)}" is not our ACS URL ${ctx.acsUrl}` : `the Response has no Destination (expected ${ctx.acsUrl})`);
  }
  return facts;
}

/**
 * An encrypted assertion as node-saml decrypted and verified it (its own signature, or the
 * Response's, which covers the encrypted form): the checks inspectResponse makes on a plain
 * assertion. Returns the facts with its ID and NameID.
 */
export function inspectDecryptedAssertion(assertionXml: string, facts: ResponseFacts): ResponseFacts {
  const doc = parseOrRefuse(assertionXml);
  refuseCommentsAndPIs(doc);
  const assertion = doc.documentElement!;
  if (assertion.namespaceURI !== NS.assertion || assertion.localName !== 'Assertion') throw new SamlRefusal('encrypted_assertion', `the encrypted assertion holds ${assertion.localName}, not an Assertion`);
  const elements = allElements(assertion);
  refuseDuplicateIds(elements);
  checkSignatures(elements, [assertion]);
  const assertionId = assertion.getAttribute('ID') ?? '';
  if (!assertionId) throw new SamlRefusal('malformed', 'the Assertion has no ID');
  return { ...facts, assertionId, claimedNameId: claimedNameIdOf(assertion) };
}

export interface VerifiedAssertion {
  assertionId: string;
  issuer: string;
  nameId: string;
  nameIdFormat: string | null;
  sessionIndex: string | null;
  /** Latest instant the assertion may be used: the replay cache keeps its id until then (+ skew). */
  notOnOrAfter: number;
}

/** Checks node-saml's verified assertion XML; `requestId` is the AuthnRequest id for solicited responses. */
export function checkVerifiedAssertion(assertionXml: string, facts: ResponseFacts, ctx: CheckContext, requestId: string | null): VerifiedAssertion {
  const now = ctx.now ?? Date.now();
  let doc;
  try {
    doc = parseXmlStrict(assertionXml);
  } catch (err) {
    throw new SamlRefusal('malformed', `the signed assertion does not parse: ${(err as Error).message}`);
  }
  const a = doc.documentElement!;
  if (a.namespaceURI !== NS.assertion || a.localName !== 'Assertion') throw new SamlRefusal('signature', 'the signed content is not an Assertion');
  const assertionId = a.getAttribute('ID') ?? '';
  // The assertion that was verified must be the one we inspected; anything else is a wrapping attempt.
  if (assertionId !== facts.assertionId) throw new SamlRefusal('signature_wrapping', `the signed assertion (${assertionId.slice(0, 80)}) is not the assertion in the response (${facts.assertionId.slice(0, 80)})`);

  const issuerEl = firstChild(a, NS.assertion, 'Issuer');
  const issuer = issuerEl ? pureText(issuerEl)?.trim() ?? '' : '';
  if (issuer !== ctx.idpEntityId) throw new SamlRefusal('issuer', `Assertion Issuer "${issuer.slice(0, 200)}" is not the configured IdP entity ID "${ctx.idpEntityId}"`);

  const subject = firstChild(a, NS.assertion, 'Subject');
  const nameIdEl = subject ? firstChild(subject, NS.assertion, 'NameID') : null;
  if (!subject || !nameIdEl) throw new SamlRefusal('no_name_id', 'the assertion has no Subject/NameID');
  const nameIdText = pureText(nameIdEl);
  if (nameIdText === null) throw new SamlRefusal('comment_or_pi', 'NameID holds markup instead of text');
  const nameId = nameIdText.trim();
  if (!nameId) throw new SamlRefusal('no_name_id', 'NameID is empty');

  // Bearer confirmation (profiles §4.1.4.2): Recipient = ACS, unexpired, InResponseTo = our request.
  const problems: string[] = [];
  let confirmedUntil: number | null = null;
  for (const sc of childElements(subject, NS.assertion, 'SubjectConfirmation')) {
    if (sc.getAttribute('Method') !== BEARER) {
      problems.push(`method ${sc.getAttribute('Method')}`);
      continue;
    }
    const data = firstChild(sc, NS.assertion, 'SubjectConfirmationData');
    if (!data) {
      problems.push('no SubjectConfirmationData');
      continue;
    }
    const recipient = data.getAttribute('Recipient') ?? '';
    const notOnOrAfter = data.getAttribute('NotOnOrAfter') ?? '';
    const notBefore = data.getAttribute('NotBefore') ?? '';
    const irt = data.getAttribute('InResponseTo') || null;
    if (recipient !== ctx.acsUrl) {
      problems.push(recipient ? `Recipient "${recipient.slice(0, 200)}" is not our ACS URL ${ctx.acsUrl}` : 'no Recipient');
      continue;
    }
    const noa = Date.parse(notOnOrAfter);
    if (!notOnOrAfter || Number.isNaN(noa)) {
      problems.push('no NotOnOrAfter on the subject confirmation');
      continue;
    }
    if (now - ctx.clockSkewMs >= noa) {
      problems.push(`subject confirmation expired at ${notOnOrAfter}`);
      continue;
    }
    if (notBefore && now + ctx.clockSkewMs < Date.parse(notBefore)) {
      problems.push(`subject confirmation not valid before ${notBefore}`);
      continue;
    }
    if (requestId ? irt !== null && irt !== requestId : irt !== null) {
      problems.push(`subject confirmation InResponseTo "${(irt ?? '').slice(0, 80)}" does not match ${requestId ? `request ${requestId}` : 'an IdP-initiated response'}`);
      continue;
    }
    confirmedUntil = noa;
    break;
  }
  if (confirmedUntil === null) {
    const text = problems.join('; ') || 'no bearer SubjectConfirmation';
    const reason = problems.some((p) => p.startsWith('Recipient') || p === 'no Recipient')
      ? 'recipient'
      : problems.some((p) => p.includes('expired'))
        ? 'expired'
        : problems.some((p) => p.includes('not valid before'))
          ? 'not_yet_valid'
          : problems.some((p) => p.includes('InResponseTo'))
            ? 'in_response_to'
            : 'invalid_response';
    throw new SamlRefusal(reason, text);
  }

  const conditions = firstChild(a, NS.assertion, 'Conditions');
  const condNoa = conditions?.getAttribute('NotOnOrAfter');
  const notOnOrAfter = condNoa ? Math.min(Date.parse(condNoa), confirmedUntil) : confirmedUntil;
  const authn = firstChild(a, NS.assertion, 'AuthnStatement');
  return {
    assertionId,
    issuer,
    nameId,
    nameIdFormat: nameIdEl.getAttribute('Format') || null,
    sessionIndex: authn?.getAttribute('SessionIndex') || null,
    notOnOrAfter,
  };
}

/** Single text value of an assertion attribute from the verified XML, for userNameSource ≠ nameId. */
export function attributeValue(assertionXml: string, name: string): string | null {
  const doc = parseXmlStrict(assertionXml);
  for (const el of allElements(doc.documentElement!)) {
    if (el.namespaceURI !== NS.assertion || el.localName !== 'Attribute') continue;
    if (el.getAttribute('Name') !== name && el.getAttribute('FriendlyName') !== name) continue;
    const values = childElements(el, NS.assertion, 'AttributeValue');
    if (values.length !== 1) throw new SamlRefusal('no_name_id', `attribute ${name} has ${values.length} values; exactly one is needed`);
    const text = pureText(values[0]);
    if (text === null) throw new SamlRefusal('comment_or_pi', `attribute ${name} holds markup instead of text`);
    return text.trim() || null;
  }
  return null;
}
