// `ledgerline saml set-idp` and `ledgerline saml show --json`, run as an operator would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/app.ts';
import { idpMetadataXml } from '../helpers/idp.ts';
import { IDP_ENTITY_ID, IDP_SSO_URL, testKeys } from './setup.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const PUBLIC_URL = 'https://billing.example.test';
let database: TestDatabase;
let dir: string;

function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, DATABASE_URL: database.url, PUBLIC_URL, LOG_LEVEL: 'warn' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

before(async () => {
  database = await freshDatabaseUrl();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-saml-cli-'));
});
after(async () => {
  await database?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('saml show --json prints the SP values before anything is configured', async () => {
  const r = await cli('saml', 'show', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.sp.entityId, PUBLIC_URL);
  assert.equal(out.sp.acsUrl, `${PUBLIC_URL}/AuthorizationServer/Saml2/ACS`);
  assert.equal(out.sp.metadataUrl, `${PUBLIC_URL}/AuthorizationServer/Saml2/Metadata`);
  assert.equal(out.enabled, false);
  assert.equal(out.idp.entityId, null);
});

test('saml set-idp --enable without a usable certificate fails and says why', async () => {
  const file = path.join(dir, 'no-cert.xml');
  fs.writeFileSync(file, idpMetadataXml({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, certs: [] }));
  const r = await cli('saml', 'set-idp', '--metadata', file, '--enable');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no signing certificate/);
});

test('saml set-idp --metadata FILE --enable configures and enables SSO; show --json reports it', async () => {
  const { idp } = await testKeys();
  const file = path.join(dir, 'idp.xml');
  fs.writeFileSync(file, idpMetadataXml({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, certs: [idp.cert] }));
  const set = await cli('saml', 'set-idp', '--metadata', file, '--entity-id', IDP_ENTITY_ID, '--enable');
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /Single sign-on: enabled/);
  const show = await cli('saml', 'show', '--json');
  const out = JSON.parse(show.stdout);
  assert.equal(out.enabled, true);
  assert.equal(out.idp.entityId, IDP_ENTITY_ID);
  assert.equal(out.idp.ssoUrl, IDP_SSO_URL);
  assert.equal(out.idp.metadataSource, 'xml');
  assert.equal(out.idp.certificates.length, 1);
  assert.match(out.idp.certificates[0].subject, /Okta Test IdP/);
});

test('saml set-idp --sign-requests on|off|auto sets request signing alone; show reports it and the SP certificate; the SP metadata follows', async () => {
  const metadataSays = async () => {
    // The SP metadata as the server publishes it, from the same database.
    const { spMetadataXml } = await import('../../src/saml/saml.sp.ts');
    const { openDatabase } = await import('../../src/db/database.ts');
    const { loadConfig } = await import('../../src/config.ts');
    const db = openDatabase(database.url);
    try {
      return /AuthnRequestsSigned="(true|false)"/.exec(await spMetadataXml(db.db, loadConfig({ PUBLIC_URL })))![1];
    } finally {
      await db.close();
    }
  };
  const on = await cli('saml', 'set-idp', '--sign-requests', 'on');
  assert.equal(on.code, 0, on.stderr);
  assert.match(on.stdout, /Signed requests: on \(set by an administrator\)/);
  assert.match(on.stdout, /SP certificate \(signs requests; the IdP encrypts assertions for it\): .*valid until/);
  let out = JSON.parse((await cli('saml', 'show', '--json')).stdout);
  assert.deepEqual([out.signRequests, out.signRequestsSource, out.enabled], [true, 'admin', true], 'signing on, SSO left as it was');
  assert.match(out.spCertificate.fingerprint256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  assert.equal(await metadataSays(), 'true');

  assert.equal((await cli('saml', 'set-idp', '--sign-requests', 'off')).code, 0);
  out = JSON.parse((await cli('saml', 'show', '--json')).stdout);
  assert.deepEqual([out.signRequests, out.signRequestsSource], [false, 'admin']);
  assert.equal(await metadataSays(), 'false');

  // auto: as the IdP metadata's WantAuthnRequestsSigned (false in this metadata).
  const auto = await cli('saml', 'set-idp', '--sign-requests', 'auto');
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(auto.stdout, /Signed requests: off \(the IdP metadata does not ask for them\)/);
  out = JSON.parse((await cli('saml', 'show', '--json')).stdout);
  assert.deepEqual([out.signRequests, out.signRequestsSource, out.idp.entityId], [false, 'metadata', IDP_ENTITY_ID]);
});

test('saml set-idp refuses a --sign-requests value it does not know, and a call that sets nothing, changing nothing', async () => {
  const before = (await cli('saml', 'show', '--json')).stdout;
  for (const args of [['--sign-requests', 'maybe'], ['--sign-requests'], ['--sign-requests', 'toString'], []]) {
    const r = await cli('saml', 'set-idp', ...args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, args.length ? /--sign-requests takes on, off or auto/ : /nothing to set/);
    assert.match(r.stderr, /usage:/);
  }
  assert.equal((await cli('saml', 'show', '--json')).stdout, before);
});
