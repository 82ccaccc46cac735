// What every benchmark shares: its options (command line, environment), the project root, starting
// the server and waiting for it, a filled database with a signed-in admin, and timing rounds of a request.
import { spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openDatabase } from '../src/db/database.ts';
import { createLocalAdminUser, signIn, type Client } from '../test/helpers/app.ts';
import { freePort, scratchDatabase } from '../test/helpers/scratch.ts';

/** The project's root, where the server is started from. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const args = process.argv.slice(2);

/** The value after `--name`, or `def` when it is not given. */
export const option = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? args[i + 1] : def;
};

/** Whether `--name` is given. */
export const flag = (name: string): boolean => args.includes(name);

/** The PostgreSQL server whose scratch databases `--pg` runs use. */
export const PG_URL = process.env.BENCH_PG_URL || process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Waits until the server at `base` answers its health check (at most a minute). */
export async function waitForServer(base: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no answer from ${base}/healthz`);
}

/** A number with thousands separators and `d` decimals. */
export const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

/** A Ledgerline server a benchmark started. */
export interface StartedServer {
  base: string;
  /** The server's process (the primary one with WORKERS), for its CPU time. */
  pid: number;
  stop(): Promise<void>;
}

/**
 * Starts Ledgerline (`src/main.ts`) on `databaseUrl` and a free loopback port, with `env` added to
 * its environment and `nodeArgs` before the script (`--cpu-prof`, say), and waits for it; its
 * stderr is passed on, each chunk marked `[server]`, and its stdout given to `onStdout` line by line
 * (dropped without one).
 */
export async function startServer(databaseUrl: string, o: { env?: Record<string, string>; nodeArgs?: string[]; onStdout?: (line: string) => void } = {}): Promise<StartedServer> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = spawn(process.execPath, [...(o.nodeArgs ?? []), '--import', 'tsx', 'src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', PUBLIC_URL: base, DATABASE_URL: databaseUrl, LOG_LEVEL: 'error', ...o.env },
    stdio: ['ignore', o.onStdout ? 'pipe' : 'ignore', 'pipe'],
  });
  server.stderr?.on('data', (d) => process.stderr.write(`[server] ${d}`));
  if (o.onStdout) readline.createInterface({ input: server.stdout! }).on('line', o.onStdout);
  const exited = new Promise((r) => server.once('exit', r));
  const stop = async () => {
    server.kill('SIGTERM');
    await exited;
  };
  try {
    await waitForServer(base);
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, pid: server.pid!, stop };
}

/** Runs `request` `rounds` times; the fastest and slowest time in ms, and the last round's answer. */
export async function timeRounds<T>(rounds: number, request: () => Promise<T>): Promise<{ fastest: number; slowest: number; last: T }> {
  const times: number[] = [];
  let last!: T;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    last = await request();
    times.push(performance.now() - t);
  }
  return { fastest: Math.min(...times), slowest: Math.max(...times), last };
}

/**
 * A fresh SQLite file (or PostgreSQL database with `postgres`) filled by `fill`, which says what it
 * inserted; a local admin; Ledgerline started on it; `run` with a client signed in as that admin.
 * The server is stopped and the database dropped afterwards.
 */
export async function withFilledServer(o: { prefix: string; postgres: boolean; fill(url: string): Promise<string> }, run: (client: Client) => Promise<void>): Promise<void> {
  const scratch = await scratchDatabase({ postgres: o.postgres, prefix: o.prefix, adminUrl: PG_URL });
  let server: StartedServer | null = null;
  try {
    const t0 = performance.now();
    const inserted = await o.fill(scratch.url);
    const database = openDatabase(scratch.url);
    const admin = await createLocalAdminUser(database);
    await database.close();
    console.log(`(set-up: ${inserted} inserted directly in ${fmt((performance.now() - t0) / 1000, 1)} s)`);
    server = await startServer(scratch.url);
    await run(await signIn(server.base, admin.username, admin.password));
  } finally {
    await server?.stop();
    await scratch.drop();
  }
}
