// The ACS refuses every attack family in the reference catalogue. Each test crafts the malicious
// response itself (signed with the test IdP's key, then mutated, or signed with another key),
// posts it like a browser would, and checks both the refusal the person sees and the exact reason
// recorded in the audit log. "admin@example.com" exists and is active, so any attack that got
// through would sign the attacker in as an administrator.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DOMParser, XMLSerializer, type Element } from '@xmldom/xmldom';
import { craftResponse, signResponse, signXml, HMAC_SHA1, RSA_SHA1, SHA1, type ResponseFields } from '../helpers/idp.ts';
import { updateSettings } from '../../src/saml/saml.settings.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { startSamlApp, sessionCookie, type SamlTestApp } from './setup.ts';

const DSIG = 'http://www.w3.org/2000/09/xmldsig#';
const SAML = 'urn:oasis:names:tc:SAML:2.0:assertion';
const VICTIM = 'admin@example.com';

let t: SamlTestApp;

before(async () => {
  t = await startSamlApp();
  await t.createUser('alice@example.com');
  await t.createUser(VICTIM);
  await t.createUser('dora@example.com', 'disabled');
  await t.createUser('sam@example.com', 'suspended');
});
after(async () => t?.close());
// Attack tests post far more than a person would; the rate limit has its own test.
beforeEach(async () => {
  await t.database.db.deleteFrom('rate_limits').execute();
});

async function expectRefused(res: Response, reason: string, extra?: (r: NonNullable<Awaited<ReturnType<SamlTestApp['lastRefusal']>>>) => void) {
  const body = await res.text();
  assert.equal(res.status, reason === 'rate_limited' ? 429 : 403, body);
  assert.equal(sessionCookie(res), null, 'no session cookie on a refusal');
  assert.match(res.headers.get('content-type') ?? '', /text\/html/);
  const refusal = await t.lastRefusal();
  assert.ok(refusal, 'an auth.sso_failed audit entry was written');
  assert.equal(refusal.reason, reason, `recorded reason (detail: ${refusal.detail})`);
  assert.ok(body.includes(refusal.referenceId), 'the page shows the reference id of the audit entry');
  // Nothing internal reaches the person: no technical detail, library message, XML or key material.
  for (const leak of [refusal.detail, 'node-saml', 'BEGIN CERTIFICATE', '<saml', 'reason']) assert.ok(!body.includes(leak), `page leaks "${leak}"`);
  extra?.(refusal);
}

const parse = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml');
const serialize = (node: any) => new XMLSerializer().serializeToString(node);
const el = (parent: any, ns: string, name: string): Element => parent.getElementsByTagNameNS(ns, name)[0];
const goodKey = () => ({ key: t.keys.idp.key, cert: t.keys.idp.cert });

/** A response for alice signed by the IdP, as the attacker would have captured it. */
function captured(where: 'response' | 'assertion' | 'both' = 'both', over: Partial<ResponseFields> = {}) {
  return signResponse(craftResponse(t.fields({ nameId: 'alice@example.com', ...over })), where, goodKey());
}

function setNameId(node: any, value: string) {
  const n = el(node, SAML, 'NameID');
  while (n.firstChild) n.removeChild(n.firstChild);
  n.appendChild(n.ownerDocument!.createTextNode(value));
}

describe('XML signature wrapping (XSW1–XSW8)', () => {
  test('XSW1: a forged Response wrapping the signed original inside its Signature is refused', async () => {
    const doc = parse(captured('response'));
    const original = doc.documentElement!;
    const evil = original.cloneNode(true) as any;
    evil.setAttribute('ID', 'evil-response');
    setNameId(evil, VICTIM);
    const sig = el(evil, DSIG, 'Signature');
    const copy = original.cloneNode(true) as any;
    copy.removeChild(el(copy, DSIG, 'Signature'));
    sig.appendChild(copy);
    await expectRefused(await t.post(serialize(evil)), 'duplicate_id');
  });

  test('XSW2: a forged Response with the signed original placed before its Signature is refused', async () => {
    const doc = parse(captured('response'));
    const original = doc.documentElement!;
    const evil = original.cloneNode(true) as any;
    evil.setAttribute('ID', 'evil-response');
    setNameId(evil, VICTIM);
    const sig = el(evil, DSIG, 'Signature');
    const copy = original.cloneNode(true) as any;
    copy.removeChild(el(copy, DSIG, 'Signature'));
    evil.insertBefore(copy, sig);
    await expectRefused(await t.post(serialize(evil)), 'duplicate_id');
  });

  test('XSW3: a forged Assertion inserted before the signed one is refused', async () => {
    const doc = parse(captured('assertion'));
    const original = el(doc, SAML, 'Assertion');
    const evil = original.cloneNode(true) as any;
    evil.setAttribute('ID', 'evil-assertion');
    evil.removeChild(el(evil, DSIG, 'Signature'));
    setNameId(evil, VICTIM);
    doc.documentElement!.insertBefore(evil, original);
    await expectRefused(await t.post(serialize(doc)), 'multiple_assertions');
  });

  test('XSW4: a forged Assertion wrapping the signed one is refused', async () => {
    const doc = parse(captured('assertion'));
    const original = el(doc, SAML, 'Assertion');
    const evil = original.cloneNode(true) as any;
    evil.setAttribute('ID', 'evil-assertion');
    evil.removeChild(el(evil, DSIG, 'Signature'));
    setNameId(evil, VICTIM);
    doc.documentElement!.replaceChild(evil, original);
    evil.appendChild(original);
    await expectRefused(await t.post(serialize(doc)), 'multiple_assertions');
  });

  test('XSW5: a modified signed Assertion with an unsigned copy of the original appended is refused', async () => {
    const doc = parse(captured('assertion'));
    const original = el(doc, SAML, 'Assertion');
    const copy = original.cloneNode(true) as any;
    copy.removeChild(el(copy, DSIG, 'Signature'));
    setNameId(original, VICTIM);
    doc.documentElement!.appendChild(copy);
    await expectRefused(await t.post(serialize(doc)), 'duplicate_id');
  });

  test('XSW6: a modified Assertion whose Signature hides the original is refused', async () => {
    const doc = parse(captured('assertion'));
    const original = el(doc, SAML, 'Assertion');
    const copy = original.cloneNode(true) as any;
    copy.removeChild(el(copy, DSIG, 'Signature'));
    const evilId = 'evil-assertion';
    original.setAttribute('ID', evilId);
    setNameId(original, VICTIM);
    el(original, DSIG, 'Signature').appendChild(copy);
    await expectRefused(await t.post(serialize(doc)), 'multiple_assertions');
  });

  test('XSW7: a signed Assertion tucked into Extensions beside a forged one is refused', async () => {
    const doc = parse(captured('assertion'));
    const original = el(doc, SAML, 'Assertion');
    const evil = original.cloneNode(true) as any;
    evil.setAttribute('ID', 'evil-assertion');
    evil.removeChild(el(evil, DSIG, 'Signature'));
    setNameId(evil, VICTIM);
    const ext = doc.createElementNS('urn:oasis:names:tc:SAML:2.0:protocol', 'saml2p:Extensions');
    doc.documentElement!.replaceChild(evil, original);
    ext.appendChild(original);
    doc.documentElement!.insertBefore(ext, evil);
    await expectRefused(await t.post(serialize(doc)), 'multiple_assertions');
  });

  test('XSW8: a forged Assertion whose Signature carries the original inside ds:Object is refused', async () => {
    const doc = parse(captured('assertion'));
    const original = el(doc, SAML, 'Assertion');
    const copy = original.cloneNode(true) as any;
    copy.removeChild(el(copy, DSIG, 'Signature'));
    const obj = doc.createElementNS(DSIG, 'ds:Object');
    obj.appendChild(copy);
    setNameId(original, VICTIM);
    el(original, DSIG, 'Signature').appendChild(obj);
    await expectRefused(await t.post(serialize(doc)), 'duplicate_id');
  });
});

describe('ID confusion', () => {
  test('a response whose Assertion reuses the Response ID is refused', async () => {
    const xml = captured('both', { responseId: 'same-id', assertionId: 'same-id' });
    await expectRefused(await t.post(xml), 'duplicate_id');
  });

  test('a response carrying two separately signed assertions is refused', async () => {
    const a = parse(captured('assertion'));
    const b = parse(captured('assertion', { nameId: VICTIM }));
    a.documentElement!.appendChild(a.importNode(el(b, SAML, 'Assertion'), true));
    await expectRefused(await t.post(serialize(a)), 'multiple_assertions');
  });

  test('a document with two root elements is refused', async () => {
    const xml = captured('both');
    await expectRefused(await t.post(xml + craftResponse(t.fields({ nameId: VICTIM })).replace(/^<\?xml[^>]*\?>/, '')), 'malformed');
  });
});

describe('comment and processing-instruction injection', () => {
  test('a comment inside NameID (CVE-2017-11428 shape) is refused, not truncated', async () => {
    // The IdP signed "admin@example.com.evil.test"; canonicalisation ignores the comment, so the
    // signature still verifies — a naive reader would take the first text node, "admin@example.com".
    const xml = captured('both', { nameId: 'admin@example.com.evil.test' }).replace('admin@example.com.evil.test', 'admin@example.com<!---->.evil.test');
    await expectRefused(await t.post(xml), 'comment_or_pi');
  });

  test('a processing instruction inside NameID is refused', async () => {
    const xml = captured('both', { nameId: 'admin@example.com.evil.test' }).replace('admin@example.com.evil.test', 'admin@example.com<?evil .test?>');
    await expectRefused(await t.post(xml), 'comment_or_pi');
  });
});

describe('signature exclusion and untrusted keys', () => {
  test('an unsigned response is refused', async () => {
    await expectRefused(await t.post(craftResponse(t.fields({ nameId: VICTIM }))), 'signature');
  });

  test('a response whose signatures were stripped is refused', async () => {
    const doc = parse(captured('both'));
    for (const s of Array.from(doc.getElementsByTagNameNS(DSIG, 'Signature'))) s.parentNode!.removeChild(s);
    setNameId(doc, VICTIM);
    await expectRefused(await t.post(serialize(doc)), 'signature');
  });

  test('a Response-signed message whose Response signature was stripped is refused', async () => {
    const doc = parse(captured('response'));
    const s = el(doc, DSIG, 'Signature');
    s.parentNode!.removeChild(s);
    await expectRefused(await t.post(serialize(doc)), 'signature');
  });

  test('a response signed by another key with its certificate embedded in KeyInfo is refused', async () => {
    const other = await import('../helpers/idp.ts').then((m) => m.generateKeyPair({ cn: 'Attacker' }));
    const xml = signResponse(craftResponse(t.fields({ nameId: VICTIM })), 'both', { key: other.key, cert: other.cert });
    await expectRefused(await t.post(xml), 'signature');
  });

  test('a response signed with a cloned certificate (same subject, new key) is refused', async () => {
    // t.keys.attacker carries the same subject CN as the IdP's certificate.
    const xml = signResponse(craftResponse(t.fields({ nameId: VICTIM })), 'both', { key: t.keys.attacker.key, cert: t.keys.attacker.cert });
    await expectRefused(await t.post(xml), 'signature');
  });

  test('an HMAC signature keyed with the IdP public certificate is refused', async () => {
    const xml = signResponse(craftResponse(t.fields({ nameId: VICTIM })), 'both', { key: t.keys.idp.cert, cert: null, signatureAlgorithm: HMAC_SHA1, digestAlgorithm: SHA1 });
    await expectRefused(await t.post(xml), 'weak_algorithm');
  });

  test('an RSA-SHA1 signature with SHA-1 digests is refused', async () => {
    const xml = signResponse(craftResponse(t.fields()), 'both', { ...goodKey(), signatureAlgorithm: RSA_SHA1, digestAlgorithm: SHA1 });
    await expectRefused(await t.post(xml), 'weak_algorithm');
  });

  test('an RSA-SHA256 signature over SHA-1 digests is refused', async () => {
    const xml = signResponse(craftResponse(t.fields()), 'assertion', { ...goodKey(), digestAlgorithm: SHA1 });
    await expectRefused(await t.post(xml), 'weak_algorithm');
  });
});

describe('xml-crypto 2025 bypass shapes', () => {
  test('a comment inside DigestValue (CVE-2025-29775) is refused', async () => {
    const xml = captured('assertion').replace(/(<ds:DigestValue>)([^<]+)/, '$1<!--x-->$2');
    await expectRefused(await t.post(xml), 'comment_or_pi');
  });

  test('a second SignedInfo inside the Signature (CVE-2025-29774) is refused', async () => {
    const doc = parse(captured('assertion'));
    const sig = el(doc, DSIG, 'Signature');
    const si = el(sig, DSIG, 'SignedInfo');
    sig.insertBefore(si.cloneNode(true), si);
    setNameId(doc, VICTIM);
    await expectRefused(await t.post(serialize(doc)), 'signature_wrapping');
  });

  test('a SignedInfo wrapped in another element inside the Signature is refused', async () => {
    const doc = parse(captured('assertion'));
    const sig = el(doc, DSIG, 'Signature');
    const si = el(sig, DSIG, 'SignedInfo');
    const wrapper = doc.createElementNS(DSIG, 'ds:Object');
    wrapper.appendChild(si.cloneNode(true));
    sig.appendChild(wrapper);
    setNameId(doc, VICTIM);
    await expectRefused(await t.post(serialize(doc)), 'signature_wrapping');
  });
});

describe('DOCTYPE, external entities and entity expansion', () => {
  test('an external entity (XXE) is refused before parsing', async () => {
    const xml = captured('both').replace(/^<\?xml[^>]*\?>/, '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace('alice@example.com', '&xxe;');
    await expectRefused(await t.post(xml), 'doctype');
  });

  test('entity expansion ("billion laughs", bounded) is refused before parsing', async () => {
    const ents = ['<!ENTITY a0 "lol">', ...Array.from({ length: 6 }, (_, i) => `<!ENTITY a${i + 1} "${`&a${i};`.repeat(10)}">`)].join('');
    const xml = captured('both').replace(/^<\?xml[^>]*\?>/, `<?xml version="1.0"?><!DOCTYPE r [${ents}]>`).replace('alice@example.com', '&a6;');
    await expectRefused(await t.post(xml), 'doctype');
  });
});

describe('audience, destination, recipient and issuer', () => {
  test('a response for another audience is refused', async () => {
    await expectRefused(await t.post(t.signed({ audience: 'https://other-sp.example.test' })), 'audience');
  });
  test('a response without an AudienceRestriction is refused', async () => {
    await expectRefused(await t.post(t.signed({ audience: null })), 'audience');
  });
  test('a response addressed to another Destination is refused', async () => {
    await expectRefused(await t.post(t.signed({ destination: 'https://other-sp.example.test/acs' })), 'destination');
  });
  test('a response without a Destination is refused', async () => {
    await expectRefused(await t.post(t.signed({ destination: null })), 'destination');
  });
  test('an assertion confirmed for another Recipient is refused', async () => {
    await expectRefused(await t.post(t.signed({ recipient: 'https://other-sp.example.test/acs' })), 'recipient');
  });
  test('a response from another issuer signed with the trusted key is refused', async () => {
    await expectRefused(await t.post(t.signed({ issuer: 'http://www.okta.com/exkSomeoneElse' })), 'issuer', (r) => assert.equal(r.issuer, 'http://www.okta.com/exkSomeoneElse'));
  });
  test('an assertion from another issuer inside a response from ours is refused', async () => {
    await expectRefused(await t.post(t.signed({ assertionIssuer: 'http://www.okta.com/exkSomeoneElse' })), 'issuer');
  });
});

describe('validity window and status', () => {
  const past = (s: number) => new Date(Date.now() - s * 1000);
  const future = (s: number) => new Date(Date.now() + s * 1000);
  test('an expired assertion is refused', async () => {
    await expectRefused(await t.post(t.signed({ notBefore: past(900), notOnOrAfter: past(300), subjectNotOnOrAfter: future(300) })), 'expired');
  });
  test('an assertion whose subject confirmation expired is refused', async () => {
    await expectRefused(await t.post(t.signed({ subjectNotOnOrAfter: past(300) })), 'expired');
  });
  test('an assertion that is not valid yet is refused', async () => {
    await expectRefused(await t.post(t.signed({ notBefore: future(600), notOnOrAfter: future(900) })), 'not_yet_valid');
  });
  test('a signed assertion inside a non-Success status is refused', async () => {
    await expectRefused(await t.post(t.signed({ statusCode: 'urn:oasis:names:tc:SAML:2.0:status:Requester' })), 'status');
  });
  test('an assertion within the clock skew is accepted', async () => {
    const res = await t.post(t.signed({ notBefore: future(30) }));
    assert.equal(res.status, 302, await res.text());
  });
});

describe('replay and InResponseTo', () => {
  test('an IdP-initiated response posted twice is refused the second time', async () => {
    const xml = t.signed();
    const first = await t.post(xml);
    assert.equal(first.status, 302);
    assert.ok(sessionCookie(first));
    await expectRefused(await t.post(xml), 'replay');
  });

  test('an SP-initiated response posted twice is refused the second time', async () => {
    const { requestId } = await t.login('/invoices');
    const xml = t.signed({ inResponseTo: requestId });
    const first = await t.post(xml);
    assert.equal(first.status, 302);
    assert.equal(first.headers.get('location'), '/invoices');
    await expectRefused(await t.post(xml), 'replay');
  });

  test('a second response to an already answered request is refused', async () => {
    const { requestId } = await t.login('/');
    assert.equal((await t.post(t.signed({ inResponseTo: requestId }))).status, 302);
    await expectRefused(await t.post(t.signed({ inResponseTo: requestId })), 'in_response_to');
  });

  test('a response to a request we never issued is refused', async () => {
    await t.login('/');
    await expectRefused(await t.post(t.signed({ inResponseTo: 'id-we-never-issued' })), 'in_response_to');
  });

  test('a subject confirmation answering another request than the Response is refused', async () => {
    const { requestId } = await t.login('/');
    const other = await t.login('/');
    await expectRefused(await t.post(t.signed({ inResponseTo: requestId, subjectInResponseTo: other.requestId })), 'in_response_to');
  });

  test('an unsolicited response is refused when IdP-initiated sign-in is off, even with a request pending', async () => {
    await updateSettings(t.database.db, t.config, systemActor('test'), { allowIdpInitiated: false });
    try {
      await t.login('/invoices');
      await expectRefused(await t.post(t.signed()), 'unsolicited');
      const { requestId } = await t.login('/invoices');
      assert.equal((await t.post(t.signed({ inResponseTo: requestId }))).status, 302, 'SP-initiated still works');
    } finally {
      await updateSettings(t.database.db, t.config, systemActor('test'), { allowIdpInitiated: true });
    }
  });
});

describe('users and configuration', () => {
  test('an unknown user is refused with "your administrator has not given you access"', async () => {
    const res = await t.post(t.signed({ nameId: 'nobody@example.com' }));
    const body = await res.clone().text();
    assert.match(body, /Your administrator has not given you access to Ledgerline/);
    await expectRefused(res, 'unknown_user', (r) => {
      assert.equal(r.nameId, 'nobody@example.com');
      assert.equal(r.issuer, 'http://www.okta.com/exkTestIdp123');
    });
  });
  test('a disabled user is refused', async () => {
    await expectRefused(await t.post(t.signed({ nameId: 'dora@example.com' })), 'user_disabled');
  });
  test('a suspended user is refused', async () => {
    await expectRefused(await t.post(t.signed({ nameId: 'sam@example.com' })), 'user_suspended');
  });
  test('NameID is matched to the user name case-insensitively', async () => {
    const res = await t.post(t.signed({ nameId: 'Alice@Example.COM' }));
    assert.equal(res.status, 302);
    assert.ok(sessionCookie(res));
  });
  test('responses are refused while SSO is disabled', async () => {
    await updateSettings(t.database.db, t.config, systemActor('test'), { enabled: false });
    try {
      await expectRefused(await t.post(t.signed()), 'sso_disabled');
    } finally {
      await updateSettings(t.database.db, t.config, systemActor('test'), { enabled: true });
    }
  });
  test('once every trusted certificate has expired, responses are refused (fail closed)', async () => {
    const row = await t.database.db.selectFrom('saml_settings').select('metadata_parsed').executeTakeFirstOrThrow();
    const expired = JSON.parse(row.metadata_parsed!);
    for (const c of expired.certificates) c.notAfter = new Date(Date.now() - 1000).toISOString();
    await t.database.db.updateTable('saml_settings').set({ metadata_parsed: JSON.stringify(expired) }).execute();
    try {
      await expectRefused(await t.post(t.signed()), 'no_usable_certificate');
      assert.deepEqual(await (await fetch(`${t.baseUrl}/api/auth/sso`)).json(), { enabled: false, loginUrl: '/AuthorizationServer/Saml2/Login' });
    } finally {
      await t.database.db.updateTable('saml_settings').set({ metadata_parsed: row.metadata_parsed }).execute();
    }
  });
  test('the ACS is rate-limited per address', async () => {
    await t.database.db.insertInto('rate_limits').values({ key: 'saml-acs:ip:127.0.0.1', window_start: new Date(Math.floor(Date.now() / 60000) * 60000).toISOString(), count: 60 }).execute();
    await expectRefused(await t.post(t.signed()), 'rate_limited');
  });
  test('a garbage SAMLResponse is refused as malformed', async () => {
    const res = await fetch(t.acsUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'SAMLResponse=%%%not-base64', redirect: 'manual' });
    await expectRefused(res, 'malformed');
  });
});

describe('returnTo and RelayState', () => {
  test('an IdP-initiated response lands on Home, or on a same-origin RelayState path', async () => {
    const home = await t.post(t.signed());
    assert.equal(home.headers.get('location'), '/');
    const deep = await t.post(t.signed(), '/invoices?status=open');
    assert.equal(deep.headers.get('location'), '/invoices?status=open');
  });
  for (const evil of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/\t/evil.example', '/AuthorizationServer/Saml2/Login']) {
    test(`RelayState "${evil}" never redirects off-site`, async () => {
      const res = await t.post(t.signed(), evil);
      assert.equal(res.status, 302);
      const loc = res.headers.get('location')!;
      assert.equal(loc, '/');
    });
    test(`Login?returnTo="${evil}" stores Home instead`, async () => {
      const { requestId } = await t.login(evil);
      const res = await t.post(t.signed({ inResponseTo: requestId }));
      assert.equal(res.headers.get('location'), '/');
    });
  }
});
