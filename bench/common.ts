// What every benchmark shares: its options (command line, environment), the project root, and waiting
// for the server it started.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

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
