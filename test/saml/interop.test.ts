// Interoperability with real, independently written IdP implementations: samlify's
// IdentityProvider (parses our AuthnRequest, answers it) and Auth0's samlp. Each signs the
// Response, the Assertion, or both; each answers with and without InResponseTo. Every variant must
// sign the person in and land them where they asked to go.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { samlifyIdp, samlpResponse, postToAcs } from '../helpers/idp.ts';
import { IDP_ENTITY_ID, IDP_SSO_URL, startSamlApp, sessionCookie, type SamlTestApp } from './setup.ts';

let t: SamlTestApp;
let spMetadata: string;

before(async () => {
  t = await startSamlApp();
  await t.createUser('alice@example.com');
  spMetadata = await (await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Metadata`)).text();
});
after(async () => t?.close());

async function expectSignedIn(res: Response, location: string) {
  const body = await res.text();
  assert.equal(res.status, 302, `${body.slice(0, 300)} ${JSON.stringify(await t.lastRefusal())}`);
  assert.equal(res.headers.get('location'), location);
  const cookie = sessionCookie(res);
  assert.ok(cookie, 'a session cookie is set');
  const me = await fetch(`${t.baseUrl}/api/me`, { headers: { cookie: cookie! } });
  assert.equal(me.status, 200);
  const who = (await me.json()) as { user?: { userName: string }; userName?: string };
  assert.equal(who.user?.userName ?? who.userName, 'alice@example.com');
}

const SIGNINGS = ['response', 'assertion', 'both'] as const;

describe("samlify's IdentityProvider", () => {
  for (const sign of SIGNINGS) {
    test(`answers our AuthnRequest with a ${sign}-signed response that signs the person in (SP-initiated)`, async () => {
      const idp = samlifyIdp({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, keys: t.keys.idp });
      const { location } = await t.login('/invoices');
      assert.ok(location.startsWith(IDP_SSO_URL + '?'), 'redirects to the IdP sign-on URL');
      const samlResponse = await idp.respond({ spMetadataXml: spMetadata, nameId: 'alice@example.com', sign, requestUrl: location });
      assert.match(Buffer.from(samlResponse, 'base64').toString(), /InResponseTo="[^"]+"/);
      await expectSignedIn(await postToAcs(t.baseUrl, samlResponse), '/invoices');
    });
    test(`sends an unsolicited ${sign}-signed response that signs the person in (IdP-initiated)`, async () => {
      const idp = samlifyIdp({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, keys: t.keys.idp });
      const samlResponse = await idp.respond({ spMetadataXml: spMetadata, nameId: 'alice@example.com', sign });
      await expectSignedIn(await postToAcs(t.baseUrl, samlResponse), '/');
    });
  }
});

describe("samlify's IdentityProvider with assertion encryption on", () => {
  for (const sign of SIGNINGS) {
    test(`encrypts the assertion of a ${sign}-signed response for the certificate in our SP metadata, and the person is signed in`, async () => {
      const idp = samlifyIdp({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, keys: t.keys.idp, encryptAssertion: true });
      const { location } = await t.login('/usage');
      const samlResponse = await idp.respond({ spMetadataXml: spMetadata, nameId: 'alice@example.com', sign, requestUrl: location });
      const xml = Buffer.from(samlResponse, 'base64').toString();
      assert.match(xml, /EncryptedAssertion/);
      assert.doesNotMatch(xml, /alice@example\.com/, 'the NameID travels encrypted');
      await expectSignedIn(await postToAcs(t.baseUrl, samlResponse), '/usage');
    });
  }
});

describe("Auth0's samlp", () => {
  for (const sign of SIGNINGS) {
    test(`signs the ${sign} of a response to our request and the person is signed in`, async () => {
      const { requestId } = await t.login('/reports');
      const samlResponse = await samlpResponse({ issuer: IDP_ENTITY_ID, keys: t.keys.idp, audience: t.spEntityId, acsUrl: t.acsUrl, nameId: 'alice@example.com', inResponseTo: requestId, sign });
      await expectSignedIn(await postToAcs(t.baseUrl, samlResponse), '/reports');
    });
    test(`signs the ${sign} of an unsolicited response and the person is signed in`, async () => {
      const samlResponse = await samlpResponse({ issuer: IDP_ENTITY_ID, keys: t.keys.idp, audience: t.spEntityId, acsUrl: t.acsUrl, nameId: 'alice@example.com', sign });
      await expectSignedIn(await postToAcs(t.baseUrl, samlResponse), '/');
    });
  }
});
