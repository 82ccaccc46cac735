// The ledgerline command as operators run it: `node bin/ledgerline.mjs …` against DATABASE_URL.
// Each run starts a Node process, so the file keeps the number of runs small.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openDatabase, sqliteConnectionOf } from '../../src/db/database.ts';
import { freePort, freshDatabaseUrl, healthy, signIn, spawnServe, startTestApp, type TestDatabase } from '../helpers/app.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let fresh: TestDatabase;

function cli(args: string[], opts: { stdin?: string; databaseUrl?: string; env?: Record<string, string> } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/ledgerline.mjs', ...args], {
      cwd: root,
      env: { ...process.env, DATABASE_URL: opts.databaseUrl ?? fresh.url, LOG_LEVEL: 'warn', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(opts.stdin ?? '');
  });
}

/** True when nothing has been created in the database behind `url`. */
async function untouched(url: string): Promise<boolean> {
  if (url.startsWith('sqlite:')) return !fs.existsSync(url.slice('sqlite:'.length));
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query(`select count(*)::int as n from information_schema.tables where table_schema = 'public'`);
    return r.rows[0].n === 0;
  } finally {
    await c.end();
  }
}

before(async () => {
  fresh = await freshDatabaseUrl();
});
after(() => fresh.drop());

test('migrate applies every migration to an empty database, then reports it up to date', async () => {
  const first = await cli(['migrate', '--json']);
  assert.equal(first.code, 0, first.stderr);
  const applied = JSON.parse(first.stdout).applied as string[];
  assert.equal(applied[0], '001_identity', first.stdout);
  assert.deepEqual(applied, [...applied].sort());
  const second = await cli(['migrate']);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout.trim(), 'database is up to date');
});

test('admin create makes administrators who sign in over HTTP: with --password-stdin, or printing a generated password once', async () => {
  const chosen = 'Cli-chosen-password-42';
  const withStdin = await cli(['admin', 'create', '--username', 'ops-admin', '--password-stdin'], { stdin: `${chosen}\n` });
  assert.equal(withStdin.code, 0, withStdin.stderr);
  assert.match(withStdin.stdout, /created local administrator ops-admin/);
  assert.ok(!withStdin.stdout.includes(chosen), 'a password given on stdin is not echoed');
  assert.doesNotMatch(withStdin.stdout, /shown once/);

  const generatedRun = await cli(['admin', 'create', '--username', 'second-admin']);
  assert.equal(generatedRun.code, 0, generatedRun.stderr);
  const generated = /password \(shown once\): (\S+)/.exec(generatedRun.stdout)?.[1];
  assert.match(generated ?? '', /^[A-Za-z0-9]{20}$/, generatedRun.stdout);

  const app = await startTestApp({ databaseUrl: fresh.url });
  try {
    const ops = await signIn(app.baseUrl, 'ops-admin', chosen);
    const me = await ops.json('/api/me');
    assert.equal(me.body.user.role.name, 'Admin');
    assert.equal(me.body.permissions.users, 'full');
    assert.equal((await (await signIn(app.baseUrl, 'second-admin', generated!)).fetch('/api/me')).status, 200);
    const audit = await ops.json('/api/audit?action=user.create&source=cli');
    assert.deepEqual(audit.body.items.map((i: { targetName: string }) => i.targetName).sort(), ['ops-admin', 'second-admin']);
    assert.ok(!JSON.stringify(audit.body).includes(generated!), 'the generated password is not audited');
  } finally {
    await app.close();
  }
});

test('admin create refuses a taken name and a weak password with exit code 1', async () => {
  const taken = await cli(['admin', 'create', '--username', 'OPS-ADMIN']);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /already exists/);
  const weak = await cli(['admin', 'create', '--username', 'weak-one', '--password-stdin'], { stdin: 'short\n' });
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /12 characters/);
});

test('an unknown command exits with code 2, prints the usage and leaves the database untouched', async () => {
  const other = await freshDatabaseUrl();
  try {
    const res = await cli(['frobnicate'], { databaseUrl: other.url });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown command "frobnicate"/);
    assert.match(res.stderr, /usage: ledgerline/);
    assert.ok(await untouched(other.url), 'a mistyped command creates no database');
  } finally {
    await other.drop();
  }
});

test('a DATABASE_URL of another kind is refused with exit code 1 and its credentials are not echoed', async () => {
  const res = await cli(['migrate'], { databaseUrl: 'mysql://root:hunter2@localhost/x' });
  assert.equal(res.code, 1);
  assert.match(res.stderr, /DATABASE_URL must start with sqlite: or postgres:/);
  assert.ok(!res.stderr.includes('hunter2'));
});

test('SQLite reads through a memory map unless SQLITE_MMAP_SIZE says otherwise; a value that is not a number of bytes stops the command with exit code 1', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'll-mmap-'));
  try {
    const url = `sqlite:${path.join(dir, 'db.sqlite')}`;
    // What SQLite reports for a database opened with SQLITE_MMAP_SIZE set to `setting` (or unset).
    const mmapOf = async (setting: string | undefined) => {
      const saved = process.env.SQLITE_MMAP_SIZE;
      if (setting === undefined) delete process.env.SQLITE_MMAP_SIZE;
      else process.env.SQLITE_MMAP_SIZE = setting;
      try {
        const database = openDatabase(url);
        try {
          return sqliteConnectionOf(database.db)!.pragma('mmap_size', { simple: true });
        } finally {
          await database.close();
        }
      } finally {
        if (saved === undefined) delete process.env.SQLITE_MMAP_SIZE;
        else process.env.SQLITE_MMAP_SIZE = saved;
      }
    };
    assert.equal(await mmapOf(undefined), 2_147_418_112, 'default: as much as SQLite maps');
    assert.equal(await mmapOf('0'), 0);
    assert.equal(await mmapOf('268435456'), 268_435_456);

    const bad = await cli(['migrate'], { databaseUrl: `sqlite:${path.join(dir, 'other.sqlite')}`, env: { SQLITE_MMAP_SIZE: '2GB' } });
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /SQLITE_MMAP_SIZE must be a number of bytes \(0 turns memory-mapped reads off\), got "2GB"/);
    assert.ok(!fs.existsSync(path.join(dir, 'other.sqlite')), 'nothing was created');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * `ledgerline serve` on a fresh database with `env`; waits until `ready`, runs `body`, then sends
 * SIGTERM and asserts exit code 0. Returns everything the process printed.
 */
async function withServe(
  env: Record<string, string>,
  ready: (baseUrl: string, output: string) => Promise<boolean>,
  body: (baseUrl: string, output: string) => Promise<void>,
): Promise<string> {
  const db = await freshDatabaseUrl();
  try {
    const served = await spawnServe(db.url, await freePort(), { env, ready });
    try {
      await body(served.baseUrl, served.output());
    } finally {
      served.child.kill('SIGTERM');
      assert.equal(await served.exited, 0, served.output());
    }
    return served.output();
  } finally {
    await db.drop();
  }
}

test('serve on an empty database creates the administrator admin, prints its password once, and stops cleanly on SIGTERM', async () => {
  await withServe({}, healthy, async (baseUrl, output) => {
    assert.match(output, /created the local administrator/);
    const password = /password:\s+(\S+)/.exec(output)?.[1];
    assert.match(password ?? '', /^[A-Za-z0-9]{20}$/, output);
    const c = await signIn(baseUrl, 'admin', password!);
    assert.equal((await c.json('/api/me')).body.permissions['role-groups'], 'full');
  });
});

test('serve with WORKERS=2 runs two worker processes on one port that act as one server, prints the first password once, and all stop on SIGTERM', async () => {
  const twoListening = async (_: string, output: string) => (output.match(/worker \d+ listening/g) ?? []).length >= 2;
  const output = await withServe({ WORKERS: '2', LOG_LEVEL: 'info' }, twoListening, async (baseUrl, output) => {
    assert.equal(output.match(/created the local administrator/g)?.length, 1, 'the first password is printed once, not once per worker');
    const password = /password:\s+(\S+)/.exec(output)?.[1];
    // Sign in, then use the session on many new connections: the workers share it through the database.
    const c = await signIn(baseUrl, 'admin', password!);
    for (let i = 0; i < 8; i++) {
      const res = await fetch(`${baseUrl}/api/me`, { headers: { cookie: c.cookie, connection: 'close' } });
      assert.equal(res.status, 200);
    }
  });
  assert.match(output, /stopping 2 workers/);
});

test('serve with WORKERS=2 gives up with exit code 1 when its workers keep failing (port taken), instead of restarting them forever', async () => {
  const db = await freshDatabaseUrl();
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  const port = (blocker.address() as net.AddressInfo).port;
  const child = spawn(process.execPath, ['bin/ledgerline.mjs', 'serve'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: db.url, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: `http://127.0.0.1:${port}`, LOG_LEVEL: 'warn', WORKERS: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  try {
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    assert.equal(code, 1, output);
    assert.match(output, /workers keep exiting; stopping/);
    assert.match(output, /EADDRINUSE/);
  } finally {
    child.kill('SIGKILL');
    blocker.close();
    await db.drop();
  }
});

test('saml show and scim-token create print the addresses of the server that ran on the database when the shell has no PUBLIC_URL, and say so', async () => {
  const db = await freshDatabaseUrl();
  const NO_URL = { PUBLIC_URL: '' };
  try {
    // Before any start: the default, said to be one.
    const early = await cli(['saml', 'show', '--json'], { databaseUrl: db.url, env: NO_URL });
    assert.equal(early.code, 0, early.stderr);
    assert.match(early.stderr, /server has not started on this database yet/);

    const served = await spawnServe(db.url, await freePort(), { env: { PUBLIC_URL: 'https://billing.example.test' } });
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0, served.output());

    // Before: http://127.0.0.1:3000/…, addresses an admin would have pasted into Okta to no avail.
    const shown = await cli(['saml', 'show', '--json'], { databaseUrl: db.url, env: NO_URL });
    assert.equal(shown.code, 0, shown.stderr);
    const sp = JSON.parse(shown.stdout).sp;
    assert.equal(sp.entityId, 'https://billing.example.test');
    assert.equal(sp.acsUrl, 'https://billing.example.test/AuthorizationServer/Saml2/ACS');
    assert.match(shown.stderr, /PUBLIC_URL is not set here; using https:\/\/billing\.example\.test, which the server last started with/);

    const created = await cli(['scim-token', 'create', '--name', 'shell'], { databaseUrl: db.url, env: NO_URL });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stderr, /SCIM base URL: https:\/\/billing\.example\.test\/ResourceServer\/api\/SCIM/);
    assert.match(created.stdout.trim().split('\n').at(-1)!, /^\S{20,}$/, 'the token alone on the last line, as before');

    // PUBLIC_URL in the shell wins, with a word when it is not the server's.
    const other = await cli(['saml', 'show', '--json'], { databaseUrl: db.url, env: { PUBLIC_URL: 'https://staging.example.test' } });
    assert.equal(JSON.parse(other.stdout).sp.entityId, 'https://staging.example.test');
    assert.match(other.stderr, /the server last started with https:\/\/billing\.example\.test/);
    // Commands that print no address say nothing about it.
    assert.doesNotMatch((await cli(['scim-token', 'list'], { databaseUrl: db.url, env: NO_URL })).stderr, /PUBLIC_URL/);
  } finally {
    await db.drop();
  }
});
