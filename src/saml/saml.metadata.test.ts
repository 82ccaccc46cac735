import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPair, idpMetadataXml, type KeyPair } from '../../test/helpers/idp.ts';
import { MetadataError, fetchMetadata, parseIdpMetadata, usableCertificates } from './saml.metadata.ts';

let keys: KeyPair;
let rollover: KeyPair;
before(async () => {
  keys = await generateKeyPair({ cn: 'Okta Test IdP' });
  rollover = await generateKeyPair({ cn: 'Okta Next IdP' });
});

describe('parseIdpMetadata', () => {
  test('reads entity ID, SSO URL (Redirect preferred), SLO URL and every signing certificate', () => {
    const xml = idpMetadataXml({ entityId: 'http://www.okta.com/exk1', ssoUrl: 'https://org.okta.com/sso', sloUrl: 'https://org.okta.com/slo', certs: [keys.cert, rollover.cert] });
    const m = parseIdpMetadata(xml);
    assert.equal(m.entityId, 'http://www.okta.com/exk1');
    assert.equal(m.ssoUrl, 'https://org.okta.com/sso');
    assert.equal(m.ssoBinding, 'redirect');
    assert.equal(m.sloUrl, 'https://org.okta.com/slo');
    assert.deepEqual(m.certificates.map((c) => c.subject), ['CN=Okta Test IdP', 'CN=Okta Next IdP']);
    assert.equal(usableCertificates(m.certificates).length, 2);
  });

  test('falls back to the HTTP-POST sign-on binding', () => {
    const m = parseIdpMetadata(idpMetadataXml({ entityId: 'e', ssoUrl: 'https://idp/sso', certs: [keys.cert], postOnly: true }));
    assert.equal(m.ssoBinding, 'post');
  });

  test('picks the requested entity out of an EntitiesDescriptor', () => {
    const one = idpMetadataXml({ entityId: 'https://a', ssoUrl: 'https://a/sso', certs: [keys.cert] }).replace(/^<\?xml[^>]*\?>/, '');
    const two = idpMetadataXml({ entityId: 'https://b', ssoUrl: 'https://b/sso', certs: [rollover.cert] }).replace(/^<\?xml[^>]*\?>/, '');
    const xml = `<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">${one}${two}</md:EntitiesDescriptor>`;
    assert.equal(parseIdpMetadata(xml, 'https://b').ssoUrl, 'https://b/sso');
  });

  test('ignores encryption-only keys', () => {
    const xml = idpMetadataXml({ entityId: 'e', ssoUrl: 'https://idp/sso', certs: [keys.cert] }).replace('use="signing"', 'use="encryption"');
    assert.equal(parseIdpMetadata(xml).certificates.length, 0);
  });

  for (const [name, xml, message] of [
    ['a DOCTYPE', '<!DOCTYPE x><x/>', /DOCTYPE/],
    ['not XML', 'Sign in to Okta', /not well-formed/],
    ['an HTML page', '<html><body/></html>', /not SAML metadata/],
    ['an SP-only entity', '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="e"><md:SPSSODescriptor/></md:EntityDescriptor>', /no identity provider/],
  ] as const) {
    test(`refuses ${name}`, () => {
      assert.throws(() => parseIdpMetadata(xml), (e: unknown) => e instanceof MetadataError && message.test(e.message));
    });
  }
});

describe('fetchMetadata', () => {
  let server: http.Server;
  let base: string;
  before(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/slow') return; // never answers
      if (req.url === '/big') {
        res.writeHead(200);
        res.end('x'.repeat(5000));
        return;
      }
      res.writeHead(req.url === '/ok' ? 200 : 404);
      res.end('<ok/>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  test('returns the body of a 2xx answer', async () => {
    assert.equal(await fetchMetadata(`${base}/ok`), '<ok/>');
  });
  test('gives up on a server that does not answer within the timeout', async () => {
    await assert.rejects(fetchMetadata(`${base}/slow`, { timeoutMs: 200 }), /did not answer within/);
  });
  test('refuses a document larger than the size limit', async () => {
    await assert.rejects(fetchMetadata(`${base}/big`, { maxBytes: 1000 }), /larger than 1000 bytes/);
  });
  test('reports the HTTP status of a failed answer', async () => {
    await assert.rejects(fetchMetadata(`${base}/missing`), /HTTP 404/);
  });
  test('refuses non-HTTP URLs', async () => {
    await assert.rejects(fetchMetadata('file:///etc/passwd'), /must start with https/);
  });
});
