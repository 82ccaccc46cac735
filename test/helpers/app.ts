// Test harness: a real Ledgerline app on a fresh database (a temp SQLite file, or a fresh
// PostgreSQL database when TEST_DATABASE=postgres), listening on a random loopback port.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { migrate, openDatabase, type Database } from '../../src/db/database.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { createLocalAdmin } from '../../src/identity/users.service.ts';

import { freePort, scratchDatabase, type ScratchDatabase } from './scratch.ts';

export { PG_ADMIN_URL, freePort } from './scratch.ts';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const usePostgres = () => process.env.TEST_DATABASE === 'postgres';

export type TestDatabase = ScratchDatabase;

/** A fresh, empty database URL (SQLite temp file or new PostgreSQL database). */
export const freshDatabaseUrl = (): Promise<TestDatabase> => scratchDatabase({ postgres: usePostgres(), prefix: 'll_test' });

export interface TestApp {
  app: FastifyInstance;
  baseUrl: string;
  database: Database;
  config: Config;
  databaseUrl: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Reuse an existing database (a second node on the same database). */
  databaseUrl?: string;
  env?: Record<string, string>;
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const fresh = opts.databaseUrl ? null : await freshDatabaseUrl();
  const databaseUrl = opts.databaseUrl ?? fresh!.url;
  const database = openDatabase(databaseUrl, { poolSize: 5 });
  await migrate(database);
  // PUBLIC_URL must name the port clients use, so pick the port before building the app.
  const probe = await freePort();
  const baseUrl = `http://127.0.0.1:${probe}`;
  const config = loadConfig({ PORT: String(probe), HOST: '127.0.0.1', PUBLIC_URL: baseUrl, DATABASE_URL: databaseUrl, ...opts.env });
  const app = await buildApp({ database, config, logger: process.env.TEST_LOG ? { level: 'info' } : false });
  await app.listen({ port: probe, host: '127.0.0.1' });
  return {
    app,
    baseUrl,
    database,
    config,
    databaseUrl,
    close: async () => {
      await app.close();
      await database.close();
      if (fresh) await fresh.drop();
    },
  };
}

/** Creates a local administrator directly in the database. */
export async function createLocalAdminUser(database: Database, username = `admin-${randomBytes(3).toString('hex')}`): Promise<{ username: string; password: string }> {
  const password = `Pw-${randomBytes(12).toString('base64url')}`;
  await createLocalAdmin(database.db, systemActor('test'), username, password);
  return { username, password };
}


export interface Client {
  cookie: string;
  csrfToken: string;
  /** fetch relative to baseUrl with the session cookie and CSRF header; JSON bodies are serialised. */
  fetch(pathname: string, init?: { method?: string; body?: unknown; headers?: Record<string, string>; csrf?: boolean }): Promise<Response>;
  json<T = any>(pathname: string, init?: { method?: string; body?: unknown }): Promise<{ status: number; body: T }>;
}

export function clientFor(baseUrl: string, cookie: string, csrfToken: string): Client {
  const doFetch: Client['fetch'] = (pathname, init = {}) => {
    const headers: Record<string, string> = { cookie, ...(init.headers ?? {}) };
    const method = init.method ?? 'GET';
    if (method !== 'GET' && init.csrf !== false) headers['x-csrf-token'] = csrfToken;
    let body: string | undefined;
    if (init.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
    }
    return fetch(baseUrl + pathname, { method, headers, body, redirect: 'manual' });
  };
  return {
    cookie,
    csrfToken,
    fetch: doFetch,
    json: async (pathname, init) => {
      const res = await doFetch(pathname, init);
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    },
  };
}

/** Signs in with a password over HTTP; returns a client carrying the session cookie and CSRF token. */
export async function signIn(baseUrl: string, username: string, password: string): Promise<Client> {
  const res = await fetch(`${baseUrl}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: baseUrl },
    body: JSON.stringify({ username, password }),
  });
  if (res.status !== 200) throw new Error(`sign-in as ${username} failed: ${res.status} ${await res.text()}`);
  const setCookie = res.headers.getSetCookie().find((c) => c.startsWith('ll_session='));
  if (!setCookie) throw new Error('no session cookie');
  const cookie = setCookie.split(';')[0];
  const me = await fetch(`${baseUrl}/api/me`, { headers: { cookie } });
  const body = (await me.json()) as { csrfToken: string };
  return clientFor(baseUrl, cookie, body.csrfToken);
}

/**
 * Creates a local user whose only role holds one new role group with the given levels
 * (screens not named are No Permission), through the admin API. Returns credentials.
 */
export async function createUserWithLevels(admin: Client, levels: Record<string, 'none' | 'read' | 'full'>, name = `u-${randomBytes(3).toString('hex')}`) {
  const rg = await admin.json('/api/role-groups', { method: 'POST', body: { name: `rg ${name}`, levels } });
  if (rg.status !== 201) throw new Error(`role group: ${rg.status} ${JSON.stringify(rg.body)}`);
  const role = await admin.json('/api/roles', { method: 'POST', body: { name: `role ${name}`, roleGroupIds: [rg.body.id] } });
  if (role.status !== 201) throw new Error(`role: ${role.status} ${JSON.stringify(role.body)}`);
  const password = `Pw-${randomBytes(12).toString('base64url')}`;
  const user = await admin.json('/api/users', { method: 'POST', body: { userName: name, password, roleId: role.body.id } });
  if (user.status !== 201) throw new Error(`user: ${user.status} ${JSON.stringify(user.body)}`);
  return { username: name, password, userId: user.body.id as string, roleGroupId: rg.body.id as string, roleId: role.body.id as string };
}
export { createLocalAdminUser as createLocalAdmin };

export interface ServeProcess {
  baseUrl: string;
  child: ChildProcess;
  /** Resolves with the exit code when the process has exited. */
  exited: Promise<number | null>;
  /** Everything it printed so far, stdout and stderr. */
  output(): string;
}

export const healthy = (baseUrl: string) => fetch(`${baseUrl}/healthz`).then((r) => r.status === 200, () => false);

/**
 * `ledgerline serve` as operators run it, in its own process, on `databaseUrl` and `port`; resolves
 * once `ready` says so (by default: /healthz answers), and throws with its output if it exits first.
 */
export async function spawnServe(
  databaseUrl: string,
  port: number,
  opts: { env?: Record<string, string>; ready?: (baseUrl: string, output: string) => Promise<boolean> } = {},
): Promise<ServeProcess> {
  const baseUrl = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, ['bin/ledgerline.mjs', 'serve'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: baseUrl, LOG_LEVEL: 'warn', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = opts.ready ?? healthy;
  // Generous: with WORKERS=2 three processes load the TypeScript sources, which takes 20-30 s on
  // this two-core machine when other test files run at the same time.
  const deadline = Date.now() + 90_000;
  while (!(await ready(baseUrl, output))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`serve did not start: ${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { baseUrl, child, exited, output: () => output };
}

/** A role made through the API by `admin`, holding `roleGroupIds`. */
export async function newRole(admin: Client, roleGroupIds: string[], name = `role-${randomBytes(4).toString('hex')}`): Promise<{ id: string; name: string }> {
  const r = await admin.json('/api/roles', { method: 'POST', body: { name, roleGroupIds } });
  if (r.status !== 201) throw new Error(`POST /api/roles: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as { id: string; name: string };
}

/** A local user with a password and role `roleId`, made through the API by `admin`. */
export async function newLocalUser(admin: Client, roleId: string): Promise<{ id: string; userName: string; password: string }> {
  const userName = `m-${randomBytes(4).toString('hex')}`;
  const password = `Pw-${randomBytes(12).toString('base64url')}`;
  const r = await admin.json('/api/users', { method: 'POST', body: { userName, password, roleId } });
  if (r.status !== 201) throw new Error(`POST /api/users: ${r.status} ${JSON.stringify(r.body)}`);
  return { id: r.body.id as string, userName, password };
}

/** A test app with a local administrator signed in through the API, and the administrator's id. */
export async function startWithAdmin(): Promise<{ t: TestApp; admin: Client; adminId: string }> {
  const t = await startTestApp();
  const a = await createLocalAdminUser(t.database);
  const admin = await signIn(t.baseUrl, a.username, a.password);
  return { t, admin, adminId: (await admin.json('/api/me')).body.user.id as string };
}
