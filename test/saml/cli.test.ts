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
