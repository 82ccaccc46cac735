// Scratch resources for tests and benchmarks: a free loopback port, and a fresh empty database
// (a SQLite file in a temp dir, or a new PostgreSQL database) that is dropped afterwards.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const PG_ADMIN_URL = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

async function adminQuery(adminUrl: string, text: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

/** A fresh, empty database; `prefix` names it (ll_test, ll_bench…) so leftovers are recognisable. */
export async function scratchDatabase(opts: { postgres: boolean; prefix: string; adminUrl?: string }): Promise<ScratchDatabase> {
  if (opts.postgres) {
    const adminUrl = opts.adminUrl ?? PG_ADMIN_URL;
    const name = `${opts.prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
    await adminQuery(adminUrl, `create database ${name}`);
    const u = new URL(adminUrl);
    u.pathname = `/${name}`;
    return { url: u.toString(), drop: () => adminQuery(adminUrl, `drop database if exists ${name} with (force)`) };
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.prefix.replace(/_/g, '-')}-`));
  return { url: `sqlite:${path.join(dir, 'db.sqlite')}`, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
}
