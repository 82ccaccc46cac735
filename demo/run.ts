// `npm run demo`: Ledgerline on a fresh SQLite database in a temp directory, plus the demo
// identity provider, both on loopback. Prints both URLs, the administrator's one-time password
// and the five-minute walkthrough of the vendor guide. Ctrl-C stops both and removes the data.
//   npm run demo                 Okta-style IdP (custom app: GET then PUT)
//   npm run demo -- --entra      Microsoft Entra ID-style SCIM client (PATCH)
//   npm run demo -- --build      rebuild the web UI first even when web/dist exists
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildApp } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { migrate, openDatabase } from '../src/db/database.ts';
import { ensureFirstAdmin } from '../src/identity/first-admin.ts';
import { startDemoIdp } from './idp/idp.app.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));
const style = args.has('--entra') ? 'entra' : 'okta';

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

async function firstFreePort(from: number, avoid: number[] = []): Promise<number> {
  for (let p = from; p < from + 100; p++) if (!avoid.includes(p) && (await portIsFree(p))) return p;
  throw new Error(`no free port between ${from} and ${from + 99}`);
}

function ensureWebBuild(): void {
  const dist = path.join(ROOT, 'web/dist/index.html');
  if (fs.existsSync(dist) && !args.has('--build')) return;
  process.stdout.write('Building the admin UI (vite)…\n');
  const r = spawnSync('npx', ['vite', 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('the web build failed; see above');
}

ensureWebBuild();

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ledgerline-demo-'));
const port = await firstFreePort(Number(process.env.PORT) || 3000);
const config = loadConfig({ PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: `sqlite:${path.join(dataDir, 'demo.db')}`, LOG_LEVEL: process.env.LOG_LEVEL || 'warn' });
const database = openDatabase(config.databaseUrl);
await migrate(database);
const app = await buildApp({ database, config, logger: { level: config.logLevel } });
const first = await ensureFirstAdmin(database.db);
await app.listen({ port, host: '127.0.0.1' });

const idpPort = await firstFreePort(port + 100, [port]);
const idp = await startDemoIdp({ port: idpPort, style });

const L = config.publicUrl;
const I = idp.url;
const line = '─'.repeat(78);
process.stdout.write(`
${line}
  Ledgerline demo — single sign-on and provisioning on one machine
${line}
  Ledgerline          ${L}
    sign in as        ${first?.userName ?? 'admin'} / ${first?.password ?? '(already created)'}   (shown once)
  Demo IdP            ${I}   (${style === 'entra' ? 'Microsoft Entra ID-style SCIM' : 'Okta-style: custom SAML app'})
    Entity ID         ${idp.entityId}
    Metadata URL      ${idp.metadataUrl}
  Data                ${dataDir} (deleted when you stop the demo)
${line}
  Five minutes, following the vendor guide:
   1. Sign in to Ledgerline, open Setup › SAML Settings. Copy "Single sign-on URL" and
      "Audience URI" into the IdP: ${I}/admin/app/sign-on → Save.
   2. In Ledgerline paste the IdP's Entity ID and Metadata URL (above), press Test Settings,
      tick Enabled, Save. Press Get Token, name it if you like, press Get Token in the
      dialog and copy the SCIM access token (shown once).
   3. In the IdP: General → Enable SCIM provisioning → Save. Provisioning: SCIM connector
      base URL ${L}/ResourceServer/api/SCIM, Bearer = the token,
      Test Connector Configuration, then Save.
   4. IdP Assignments: assign Fiona Finance and Sam Support → Ledgerline Setup › Users lists
      them, read-only. IdP Push Groups: push Finance and Support → Setup › Role Groups.
   5. In Ledgerline give the Finance role group Full Permission on Invoices and Payments and
      Read Only on Accounts.
   6. Sign out; press "Log in with SSO"; choose Fiona at the IdP. She sees Home, Accounts,
      Invoices and Payments. Move her to Support at ${I}/admin/people, deactivate her, unlink a group:
      Ledgerline follows on her next click. Every SCIM request is at ${I}/admin/log.
${line}
  Ctrl-C to stop.
`);

let closing = false;
async function shutdown() {
  if (closing) return;
  closing = true;
  await idp.close().catch(() => undefined);
  await app.close().catch(() => undefined);
  await database.close().catch(() => undefined);
  fs.rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
