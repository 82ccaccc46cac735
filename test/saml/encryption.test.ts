// Encrypted assertions: Okta's "Assertion Encryption" and Entra ID's token encryption encrypt the
// assertion for the certificate in our SP metadata. The ACS decrypts it, inspects it like a plain one
// and signs the person in; it refuses other keys, weak algorithms, and everything it refuses in a plain
// assertion. Responses are built by hand, signed with xml-crypto and encrypted with xml-encryption.
import { after, before, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { DOMParser } from '@xmldom/xmldom';
import { craftResponse, encryptAssertion, signXml, type EncryptOptions, type ResponseFields } from '../helpers/idp.ts';
import { DATA_ALGORITHMS, KEY_TRANSPORT_ALGORITHMS } from '../../src/saml/saml.encryption.ts';
import { startSamlApp, sessionCookie, type SamlTestApp } from './setup.ts';

let t: SamlTestApp;
let spCert: string;

before(async () => {
  t = await startSamlApp();
  await t.createUser('alice@example.com');
  await t.createUser('admin@example.com');
  // The admin reads the SP metadata (or downloads the certificate) to give Okta its encryption certificate.
  const metadata = await (await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Metadata`)).text();
  const doc = new DOMParser().parseFromString(metadata, 'text/xml');
  const descriptors = Array.from(doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'KeyDescriptor'));
  const encryption = descriptors.find((d) => d.getAttribute('use') === 'encryption')!;
  spCert = `-----BEGIN CERTIFICATE-----\n${encryption.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate')[0].textContent!.trim()}\n-----END CERTIFICATE-----\n`;
});
after(async () => t?.close());
beforeEach(async () => {
  await t.database.db.deleteFrom('rate_limits').execute();
});

const idpKey = () => ({ key: t.keys.idp.key, cert: t.keys.idp.cert });

/** A response for `over.nameId` (alice by default) with its assertion signed and encrypted, and the Response signed over that unless `signResponse` is false. */
async function encrypted(o: { over?: Partial<ResponseFields>; enc?: Partial<EncryptOptions>; signAssertion?: boolean; signResponse?: boolean; mutate?: (xml: string) => string } = {}) {
  let xml = craftResponse(t.fields(o.over));
  if (o.signAssertion !== false) xml = signXml(xml, 'assertion', idpKey());
  if (o.mutate) xml = o.mutate(xml);
  xml = await encryptAssertion(xml, { cert: spCert, ...o.enc });
  return o.signResponse === false ? xml : signXml(xml, 'response', idpKey());
}

async function signedInAs(res: Response): Promise<string> {
  assert.equal(res.status, 302, await res.clone().text());
  const cookie = sessionCookie(res);
  assert.ok(cookie, 'a session cookie');
  const me = await (await fetch(`${t.baseUrl}/api/me`, { headers: { cookie } })).json();
  return me.user.userName;
}

async function expectRefused(res: Response, reason: string) {
  const body = await res.text();
  assert.equal(res.status, 403, body);
  assert.equal(sessionCookie(res), null, 'no session cookie on a refusal');
  const refusal = await t.lastRefusal();
  assert.equal(refusal?.reason, reason, `recorded reason (detail: ${refusal?.detail})`);
  assert.ok(body.includes(refusal!.referenceId), 'the page shows the reference id');
  for (const leak of [refusal!.detail, 'BEGIN', '<saml', 'decrypt']) assert.ok(!body.includes(leak), `page leaks "${leak}"`);
}

test('the SP metadata offers its certificate for encryption too, with exactly the algorithms the ACS accepts', async () => {
  const metadata = await (await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Metadata`)).text();
  const doc = new DOMParser().parseFromString(metadata, 'text/xml');
  const descriptors = Array.from(doc.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'KeyDescriptor'));
  const cert = (use: string) => descriptors.find((d) => d.getAttribute('use') === use)?.getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'X509Certificate')[0].textContent;
  assert.ok(cert('encryption'));
  assert.equal(cert('encryption'), cert('signing'), 'one SP key pair signs and decrypts');
  const methods = Array.from(descriptors.find((d) => d.getAttribute('use') === 'encryption')!.getElementsByTagNameNS('urn:oasis:names:tc:SAML:2.0:metadata', 'EncryptionMethod')).map((m) => m.getAttribute('Algorithm'));
  assert.deepEqual(methods, [...DATA_ALGORITHMS, ...KEY_TRANSPORT_ALGORITHMS]);
});

test("Okta's way: the signed assertion encrypted, the Response signed over it: the person is signed in", async () => {
  assert.equal(await signedInAs(await t.post(await encrypted())), 'alice@example.com');
  const row = await t.database.db.selectFrom('audit_log').select(['source', 'target_name']).where('action', '=', 'auth.sso_login').orderBy('id', 'desc').limit(1).executeTakeFirst();
  assert.deepEqual(row, { source: 'saml', target_name: 'alice@example.com' });
});

test('every content algorithm offered (AES-128/256 in CBC and GCM mode) with RSA-OAEP signs in, with the assertion or only the Response signed', async () => {
  for (const encryptionAlgorithm of DATA_ALGORITHMS as EncryptOptions['encryptionAlgorithm'][]) {
    assert.equal(await signedInAs(await t.post(await encrypted({ enc: { encryptionAlgorithm } }))), 'alice@example.com', encryptionAlgorithm);
  }
  // Entra ID signs the assertion only; Okta can sign the Response only.
  assert.equal(await signedInAs(await t.post(await encrypted({ enc: { encryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#aes256-cbc' }, signResponse: false }))), 'alice@example.com');
  assert.equal(await signedInAs(await t.post(await encrypted({ signAssertion: false }))), 'alice@example.com');
});

test('an assertion encrypted for another certificate is refused, and the page tells nothing about why', async () => {
  await expectRefused(await t.post(await encrypted({ enc: { cert: t.keys.attacker.cert } })), 'encrypted_assertion');
});

test('RSA PKCS#1 v1.5 key transport and Triple DES are refused before anything is decrypted', async () => {
  await expectRefused(await t.post(await encrypted({ enc: { keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5' } })), 'weak_algorithm');
  await expectRefused(await t.post(await encrypted({ enc: { encryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#tripledes-cbc' } })), 'weak_algorithm');
  // The decryption finds its EncryptionMethod by local name: one in another namespace is checked too.
  const pkcs1 = await encrypted({ enc: { keyEncryptionAlgorithm: 'http://www.w3.org/2001/04/xmlenc#rsa-1_5' }, signResponse: false });
  const disguised = pkcs1.replace(/<e:EncryptionMethod( Algorithm="http:\/\/www\.w3\.org\/2001\/04\/xmlenc#rsa-1_5"[^>]*)>([\s\S]*?)<\/e:EncryptionMethod>/, '<x:EncryptionMethod xmlns:x="urn:example:not-xmlenc"$1>$2</x:EncryptionMethod>');
  assert.notEqual(disguised, pkcs1);
  await expectRefused(await t.post(disguised), 'weak_algorithm');
});

test('the decrypted assertion is inspected like a plain one: a comment in the NameID, no signature at all, a second assertion, a replay', async () => {
  // The comment attack inside the encryption: signed as "admin@example.com<!---->.evil.test".
  const comment = await encrypted({ over: { nameId: 'admin@example.com<!---->.evil.test' } });
  await expectRefused(await t.post(comment), 'comment_or_pi');
  // Nothing signed: encryption for our public certificate proves nothing about who sent it.
  await expectRefused(await t.post(await encrypted({ signAssertion: false, signResponse: false })), 'signature');
  // Signed by someone else.
  const forged = await encryptAssertion(signXml(craftResponse(t.fields({ nameId: 'admin@example.com' })), 'assertion', { key: t.keys.attacker.key, cert: t.keys.attacker.cert }), { cert: spCert });
  await expectRefused(await t.post(forged), 'signature');
  // A plain assertion next to the encrypted one.
  const plain = /<saml2:Assertion[\s\S]*<\/saml2:Assertion>/.exec(signXml(craftResponse(t.fields({ nameId: 'admin@example.com' })), 'assertion', idpKey()))![0];
  const both = (await encrypted({ signResponse: false })).replace('</saml2p:Response>', `${plain}</saml2p:Response>`);
  await expectRefused(await t.post(both), 'multiple_assertions');
  // The same encrypted response twice.
  const once = await encrypted();
  assert.equal(await signedInAs(await t.post(once)), 'alice@example.com');
  await expectRefused(await t.post(once), 'replay');
});

test('an EncryptedKey next to the EncryptedData, referenced by a RetrievalMethod (the other layout XML Encryption allows), decrypts too', async () => {
  const nested = await encrypted({ signResponse: false });
  const key = /<e:EncryptedKey[\s\S]*<\/e:EncryptedKey>/.exec(nested)![0];
  const sibling = nested
    .replace(key, '<RetrievalMethod URI="#_key1" Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey"/>')
    .replace('</xenc:EncryptedData>', `</xenc:EncryptedData>${key.replace('<e:EncryptedKey ', '<e:EncryptedKey Id="_key1" ')}`);
  assert.match(sibling, /<\/xenc:EncryptedData><e:EncryptedKey Id="_key1"/);
  assert.equal(await signedInAs(await t.post(sibling)), 'alice@example.com');
});
