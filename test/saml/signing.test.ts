// Signed requests: the SP's own key pair (generated on first need, stored, published in the SP
// metadata), AuthnRequests and LogoutRequests signed over HTTP-Redirect when the setting is on,
// verified here the way an IdP does (SAML bindings §3.4.4.1: RSA-SHA256 over the exact
// "SAMLRequest=…&RelayState=…&SigAlg=…" octets of the URL), and a private key that never leaves
// the server.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createVerify } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import { createLocalAdmin, signIn, type Client } from '../helpers/app.ts';
import { idpMetadataXml, postToAcs, redirectOctets, samlifyIdp } from '../helpers/idp.ts';
import { updateSettings } from '../../src/saml/saml.settings.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { IDP_ENTITY_ID, IDP_SLO_URL, IDP_SSO_URL, sessionCookie, startSamlApp, testKeys, type SamlTestApp } from './setup.ts';

const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';

async function spMetadata(t: SamlTestApp): Promise<string> {
  const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Metadata`);
  assert.equal(res.status, 200);
  return res.text();
}

/** The certificate published in the SP metadata (KeyDescriptor use="signing"). */
function publishedCertificate(metadata: string): X509Certificate {
  const m = /<KeyDescriptor use="signing">[\s\S]*?<ds:X509Certificate>([^<]+)<\/ds:X509Certificate>/.exec(metadata);
  assert.ok(m, 'the SP metadata has a signing KeyDescriptor with an X509Certificate');
  const b64 = m[1].replace(/\s+/g, '');
  return new X509Certificate(`-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`);
}

/** Verifies an HTTP-Redirect signature as the IdP would; returns the signed parameter names in order. */
function verifyRedirect(url: string, cert: X509Certificate): string[] {
  const u = new URL(url);
  assert.equal(u.searchParams.get('SigAlg'), RSA_SHA256);
  const signature = u.searchParams.get('Signature');
  assert.ok(signature, 'the URL carries a Signature');
  const octets = redirectOctets(url);
  const ok = createVerify('RSA-SHA256').update(octets, 'utf8').verify(cert.publicKey, signature, 'base64');
  assert.equal(ok, true, `the signature verifies over "${octets.slice(0, 40)}…" with the published certificate`);
  // A changed octet (another RelayState) must not verify: the check above is not vacuous.
  const tampered = octets.replace(/RelayState=[^&]*/, 'RelayState=%2Fother');
  assert.equal(createVerify('RSA-SHA256').update(tampered, 'utf8').verify(cert.publicKey, signature, 'base64'), false);
  return octets.split('&').map((p) => p.split('=')[0]);
}

async function spKeyPem(t: SamlTestApp): Promise<string> {
  const row = await t.database.db.selectFrom('saml_sp_keys').select(['private_key']).executeTakeFirstOrThrow();
  return row.private_key;
}

describe('the SP signing key', () => {
  let t: SamlTestApp;
  let admin: Client;
  before(async () => {
    t = await startSamlApp({ slo: true });
    await t.createUser('alice@example.com');
    const cred = await createLocalAdmin(t.database);
    admin = await signIn(t.baseUrl, cred.username, cred.password);
  });
  after(async () => t?.close());

  test('is generated on first need and published in the SP metadata as a signing certificate valid for 10 years', async () => {
    const before = await admin.json('/api/saml/settings');
    assert.equal(before.body.spCertificate, null, 'no key exists before anything needs one');
    const metadata = await spMetadata(t);
    const cert = publishedCertificate(metadata);
    assert.equal(cert.publicKey.asymmetricKeyDetails?.modulusLength, 2048);
    assert.equal(cert.publicKey.asymmetricKeyType, 'rsa');
    const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
    assert.ok(years > 9.99 && years < 10.01, `valid ${years.toFixed(2)} years`);
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.match(metadata, /AuthnRequestsSigned="false"/, 'the IdP metadata does not ask for signed requests and the admin has not turned signing on');
    // Stable: the same certificate on every read, and the downloadable file is the same certificate.
    assert.equal(publishedCertificate(await spMetadata(t)).fingerprint256, cert.fingerprint256);
    const download = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Certificate`);
    assert.equal(new X509Certificate(await download.text()).fingerprint256, cert.fingerprint256);
    const after = await admin.json('/api/saml/settings');
    assert.equal(after.body.spCertificate.fingerprint256, cert.fingerprint256);
  });

  test('with signing off, the AuthnRequest redirect carries no signature', async () => {
    const { body } = await admin.json('/api/saml/settings');
    assert.equal(body.signRequests, false);
    const { location } = await t.login('/invoices');
    const u = new URL(location);
    assert.equal(u.searchParams.get('Signature'), null);
    assert.equal(u.searchParams.get('SigAlg'), null);
  });

  test('with signing on, the AuthnRequest redirect is signed with RSA-SHA256 and verifies against the published certificate', async () => {
    const put = await admin.json('/api/saml/settings', { method: 'PUT', body: { signRequests: true } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.signRequests, true);
    assert.equal(put.body.signRequestsSource, 'admin');
    const metadata = await spMetadata(t);
    assert.match(metadata, /AuthnRequestsSigned="true"/);
    const cert = publishedCertificate(metadata);
    // Characters URLSearchParams and querystring escape differently must still verify.
    const { location } = await t.login("/invoices?q=o'brien (2)!~*");
    assert.deepEqual(verifyRedirect(location, cert), ['SAMLRequest', 'RelayState', 'SigAlg']);
    // RelayState is the normalised same-origin path; it keeps ( ) ! ~ * that the two encoders treat differently.
    assert.equal(new URL(location).searchParams.get('RelayState'), "/invoices?q=o%27brien%20(2)!~*");
    assert.match(location, /RelayState=[^&]*\(2\)/, 'the URL carries the querystring-escaped octets that were signed');
  });

  test('with signing on, the LogoutRequest sent to the IdP is signed and verifies against the published certificate', async () => {
    const res = await t.post(t.signed({ nameId: 'alice@example.com', sessionIndex: 'si-signed-logout' }));
    assert.equal(res.status, 302);
    const cookie = sessionCookie(res)!;
    const out = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Logout`, { headers: { cookie }, redirect: 'manual' });
    assert.equal(out.status, 302);
    const location = out.headers.get('location')!;
    assert.ok(location.startsWith(IDP_SLO_URL + '?'), location);
    assert.deepEqual(verifyRedirect(location, publishedCertificate(await spMetadata(t))), ['SAMLRequest', 'RelayState', 'SigAlg']);
    const xml = inflateRawSync(Buffer.from(new URL(location).searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    assert.match(xml, /<samlp:LogoutRequest/);
    assert.match(xml, /alice@example\.com/);
  });

  test('turning signing off again stops signing', async () => {
    const put = await admin.json('/api/saml/settings', { method: 'PUT', body: { signRequests: false } });
    assert.equal(put.body.signRequests, false);
    assert.match(await spMetadata(t), /AuthnRequestsSigned="false"/);
    const { location } = await t.login('/');
    assert.equal(new URL(location).searchParams.get('Signature'), null);
  });

  test('the private key never appears in the settings API, the metadata, the certificate download or the audit log', async () => {
    await admin.json('/api/saml/settings', { method: 'PUT', body: { signRequests: true } });
    const pem = await spKeyPem(t);
    assert.match(pem, /BEGIN PRIVATE KEY/);
    // Any 40-character run of the key's base64 body would betray it.
    const body = pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
    const probes = [body.slice(0, 40), body.slice(600, 640), body.slice(-60, -20)];
    const texts: Record<string, string> = {
      'GET /api/saml/settings': JSON.stringify((await admin.json('/api/saml/settings')).body),
      'PUT /api/saml/settings': JSON.stringify((await admin.json('/api/saml/settings', { method: 'PUT', body: { signRequests: true } })).body),
      metadata: await spMetadata(t),
      certificate: await (await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Certificate`)).text(),
      'GET /api/audit': JSON.stringify((await admin.json('/api/audit?limit=200')).body),
    };
    const audit = await t.database.db.selectFrom('audit_log').selectAll().execute();
    assert.ok(audit.some((r) => r.action === 'saml.settings_update'), 'the settings changes were audited');
    texts['audit_log table'] = JSON.stringify(audit);
    for (const [where, text] of Object.entries(texts)) {
      assert.ok(text.length > 0, where);
      assert.ok(!/PRIVATE KEY/.test(text), `${where} mentions a private key`);
      for (const p of probes) assert.ok(!text.includes(p), `${where} contains part of the private key`);
    }
  });
});

describe("SP-initiated sign-in with samlify's IdP in both modes", () => {
  test('an IdP that wants signed AuthnRequests turns signing on by default, verifies our signature and signs the person in', async () => {
    const t = await startSamlApp({ configure: false });
    try {
      const keys = await testKeys();
      const view = await updateSettings(t.database.db, t.config, systemActor('test'), {
        idpEntityId: IDP_ENTITY_ID,
        metadataXml: idpMetadataXml({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, certs: [keys.idp.cert], wantAuthnRequestsSigned: true }),
        enabled: true,
      });
      assert.equal(view.signRequests, true);
      assert.equal(view.signRequestsSource, 'metadata');
      assert.equal(view.idpWantsSignedRequests, true);
      await t.createUser('alice@example.com');
      const metadata = await spMetadata(t);
      assert.match(metadata, /AuthnRequestsSigned="true"/);
      const idp = samlifyIdp({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, keys: keys.idp, wantAuthnRequestsSigned: true });
      const { location } = await t.login('/invoices');
      const samlResponse = await idp.respond({ spMetadataXml: metadata, nameId: 'alice@example.com', sign: 'both', requestUrl: location });
      const res = await postToAcs(t.baseUrl, samlResponse);
      assert.equal(res.status, 302, JSON.stringify(await t.lastRefusal()));
      assert.equal(res.headers.get('location'), '/invoices');
      assert.ok(sessionCookie(res));

      // The same IdP refuses a request whose signature does not match (tampered RelayState).
      const { location: again } = await t.login('/invoices');
      const tampered = again.replace(/RelayState=[^&]*/, 'RelayState=%2Freports');
      await assert.rejects(idp.respond({ spMetadataXml: metadata, nameId: 'alice@example.com', sign: 'both', requestUrl: tampered }), /SIGNATURE/);
    } finally {
      await t.close();
    }
  });

  test('with signing off, unsigned AuthnRequests still sign the person in, and an IdP that insists on signatures refuses them', async () => {
    const t = await startSamlApp();
    try {
      const keys = await testKeys();
      await t.createUser('alice@example.com');
      const metadata = await spMetadata(t);
      assert.match(metadata, /AuthnRequestsSigned="false"/);
      const { location } = await t.login('/reports');
      assert.equal(new URL(location).searchParams.get('Signature'), null);
      const idp = samlifyIdp({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, keys: keys.idp });
      const res = await postToAcs(t.baseUrl, await idp.respond({ spMetadataXml: metadata, nameId: 'alice@example.com', sign: 'both', requestUrl: location }));
      assert.equal(res.status, 302, JSON.stringify(await t.lastRefusal()));
      assert.equal(res.headers.get('location'), '/reports');
      const strict = samlifyIdp({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, keys: keys.idp, wantAuthnRequestsSigned: true });
      const { location: unsigned } = await t.login('/reports');
      await assert.rejects(strict.respond({ spMetadataXml: metadata, nameId: 'alice@example.com', sign: 'both', requestUrl: unsigned }), /SIG/);
    } finally {
      await t.close();
    }
  });
});
