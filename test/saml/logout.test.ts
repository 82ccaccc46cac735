// Sign-out: the local session always ends; with Single Logout in the IdP metadata the browser goes
// on to the IdP with a LogoutRequest, and signed IdP-initiated LogoutRequests end our sessions.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSign, randomUUID } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { IDP_ENTITY_ID, IDP_SLO_URL, startSamlApp, sessionCookie, type SamlTestApp } from './setup.ts';
import { encryptXml, type KeyPair } from '../helpers/idp.ts';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

async function ssoSession(t: SamlTestApp, nameId = 'alice@example.com'): Promise<string> {
  const res = await t.post(t.signed({ nameId, sessionIndex: `si-${randomUUID()}` }));
  assert.equal(res.status, 302);
  return sessionCookie(res)!;
}
const me = (t: SamlTestApp, cookie: string) => fetch(`${t.baseUrl}/api/me`, { headers: { cookie } }).then((r) => r.status);

const nameIdXml = (nameId: string) => `<saml:NameID xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${nameId}</saml:NameID>`;

/** The SP certificate for encryption, from the SP metadata. */
async function spEncryptionCert(t: SamlTestApp): Promise<string> {
  const metadata = await (await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Metadata`)).text();
  const b64 = /<KeyDescriptor use="encryption">[\s\S]*?<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata)![1].replace(/\s+/g, '');
  return `-----BEGIN CERTIFICATE-----\n${b64}\n-----END CERTIFICATE-----\n`;
}

/** A LogoutRequest over HTTP-Redirect, signed on the query string as the binding prescribes; the NameID encrypted when `encryptedId` (an EncryptedData) is given. */
function logoutRequestQuery(t: SamlTestApp, o: { nameId: string; signer?: KeyPair | null; encryptedId?: string }): string {
  const now = new Date();
  const xml = `<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_${randomUUID()}" Version="2.0" IssueInstant="${now.toISOString()}" Destination="${t.baseUrl}/AuthorizationServer/Saml2/Logout" NotOnOrAfter="${new Date(now.getTime() + 300_000).toISOString()}"><saml:Issuer>${IDP_ENTITY_ID}</saml:Issuer>${o.encryptedId ? `<saml:EncryptedID>${o.encryptedId}</saml:EncryptedID>` : nameIdXml(o.nameId)}</samlp:LogoutRequest>`;
  let q = `SAMLRequest=${encodeURIComponent(deflateRawSync(xml).toString('base64'))}&RelayState=${encodeURIComponent('/')}`;
  if (o.signer === null) return q;
  q += `&SigAlg=${encodeURIComponent(RSA_SHA256)}`;
  const signature = createSign('RSA-SHA256').update(q).sign(o.signer ?? t.keys.idp.key, 'base64');
  return `${q}&Signature=${encodeURIComponent(signature)}`;
}

describe('with Single Logout in the IdP metadata', () => {
  let t: SamlTestApp;
  before(async () => {
    t = await startSamlApp({ slo: true });
    await t.createUser('alice@example.com');
    await t.createUser('bob@example.com');
  });
  after(async () => t?.close());

  test('signing out ends the session and sends a LogoutRequest for the SSO session to the IdP', async () => {
    const cookie = await ssoSession(t);
    assert.equal(await me(t, cookie), 200);
    const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(res.status, 302);
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, IDP_SLO_URL);
    const request = inflateRawSync(Buffer.from(location.searchParams.get('SAMLRequest')!, 'base64')).toString();
    assert.match(request, /<saml:NameID[^>]*>alice@example.com<\/saml:NameID>/);
    assert.match(request, /SessionIndex[^>]*>si-/);
    assert.equal(await me(t, cookie), 401);
  });

  test('a signed IdP-initiated LogoutRequest ends that person’s sessions only', async () => {
    const alice = await ssoSession(t, 'alice@example.com');
    const bob = await ssoSession(t, 'bob@example.com');
    const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout?${logoutRequestQuery(t, { nameId: 'alice@example.com' })}`, { redirect: 'manual' });
    assert.equal(res.status, 302, await res.text());
    const location = new URL(res.headers.get('location')!);
    assert.equal(`${location.origin}${location.pathname}`, IDP_SLO_URL);
    const response = inflateRawSync(Buffer.from(location.searchParams.get('SAMLResponse')!, 'base64')).toString();
    assert.match(response, /status:Success/);
    assert.equal(await me(t, alice), 401);
    assert.equal(await me(t, bob), 200);
    assert.equal(await t.auditCount('auth.sso_logout'), 1);
  });

  test('a signed LogoutRequest with the NameID encrypted for our certificate ends that person’s sessions; RSA PKCS#1 v1.5 key transport is refused', async () => {
    const cert = await spEncryptionCert(t);
    const alice = await ssoSession(t, 'alice@example.com');
    const weak = await encryptXml(nameIdXml('alice@example.com'), { cert, keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5' });
    const refused = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout?${logoutRequestQuery(t, { nameId: '', encryptedId: weak })}`, { redirect: 'manual' });
    assert.equal(refused.status, 403);
    assert.equal((await t.lastRefusal())?.reason, 'weak_algorithm');
    assert.equal(await me(t, alice), 200);

    const encryptedId = await encryptXml(nameIdXml('alice@example.com'), { cert });
    const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout?${logoutRequestQuery(t, { nameId: '', encryptedId })}`, { redirect: 'manual' });
    assert.equal(res.status, 302, await res.text());
    assert.match(inflateRawSync(Buffer.from(new URL(res.headers.get('location')!).searchParams.get('SAMLResponse')!, 'base64')).toString(), /status:Success/);
    assert.equal(await me(t, alice), 401);
  });

  test('an unsigned LogoutRequest is refused and ends nothing', async () => {
    const bob = await ssoSession(t, 'bob@example.com');
    const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout?${logoutRequestQuery(t, { nameId: 'bob@example.com', signer: null })}`, { redirect: 'manual' });
    assert.equal(res.status, 403);
    assert.equal((await t.lastRefusal())?.reason, 'signature');
    assert.equal(await me(t, bob), 200);
  });

  test('a LogoutRequest signed by another key is refused and ends nothing', async () => {
    const bob = await ssoSession(t, 'bob@example.com');
    const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout?${logoutRequestQuery(t, { nameId: 'bob@example.com', signer: t.keys.attacker })}`, { redirect: 'manual' });
    assert.equal(res.status, 403);
    assert.equal((await t.lastRefusal())?.reason, 'signature');
    assert.equal(await me(t, bob), 200);
  });
});

describe('without Single Logout in the IdP metadata', () => {
  let t: SamlTestApp;
  before(async () => {
    t = await startSamlApp({ slo: false });
    await t.createUser('alice@example.com');
  });
  after(async () => t?.close());

  test('signing out ends the session and lands on Home', async () => {
    const cookie = await ssoSession(t);
    const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(res.status, 302);
    assert.equal(res.headers.get('location'), '/');
    assert.match(res.headers.getSetCookie().join(';'), /ll_session=;/);
    assert.equal(await me(t, cookie), 401);
  });

  test('the sign-out address opened from another site ends nothing; from the app, or typed, it signs out', async () => {
    const cookie = await ssoSession(t);
    for (const site of ['cross-site', 'same-site']) {
      const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout`, { headers: { cookie, 'sec-fetch-site': site }, redirect: 'manual' });
      assert.equal(res.status, 302, site);
      assert.equal(res.headers.get('location'), '/');
      assert.doesNotMatch(res.headers.getSetCookie().join(';'), /ll_session=;/, site);
      assert.equal(await me(t, cookie), 200, site);
    }
    for (const site of ['same-origin', 'none']) {
      const own = await ssoSession(t);
      const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout`, { headers: { cookie: own, 'sec-fetch-site': site }, redirect: 'manual' });
      assert.equal(res.status, 302, site);
      assert.equal(await me(t, own), 401, site);
    }
  });
});
