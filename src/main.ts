// Process entry: configuration, database, migrations, first administrator, listen, graceful shutdown.
// With WORKERS=N (N > 1) this process becomes a supervisor: it migrates the database and creates the
// first administrator once, then starts N worker processes that each run the whole app and share the
// listening port (node:cluster). All shared state lives in the database, so the workers behave as
// one server, as several app nodes behind a load balancer do.
import cluster from 'node:cluster';
import { buildApp } from './app.ts';
import { loadConfig, type Config } from './config.ts';
import { migrate, openDatabase } from './db/database.ts';
import { ensureFirstAdmin } from './identity/first-admin.ts';
import { pruneSessions } from './identity/sessions.service.ts';
import { recordPublicUrl } from './platform/public-url.ts';
import { pruneRateLimits } from './platform/rate-limit.ts';

const config = loadConfig();

/** Prints the first administrator's one-time password, once, on the first start with an empty database. */
async function firstStart(database: ReturnType<typeof openDatabase>): Promise<void> {
  const first = await ensureFirstAdmin(database.db);
  if (!first) return;
  const line = '='.repeat(72);
  // Printed to stdout once: the only copy of this password.
  process.stdout.write(
    `\n${line}\n  Ledgerline first start: created the local administrator.\n    user name: ${first.userName}\n    password:  ${first.password}\n  Sign in at ${config.publicUrl}/login and keep this password safe; it is not shown again.\n${line}\n\n`,
  );
}

async function serve(cfg: Config, opts: { prepare: boolean }): Promise<void> {
  const database = openDatabase(cfg.databaseUrl);
  const applied = opts.prepare ? await migrate(database) : [];
  const app = await buildApp({
    database,
    config: cfg,
    logger: {
      level: cfg.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'], censor: '[redacted]' },
    },
  });
  if (applied.length) app.log.info({ migrations: applied }, 'database migrated');
  await recordPublicUrl(database.db, cfg.publicUrl);
  if (opts.prepare) await firstStart(database);

  const timer = setInterval(() => {
    pruneSessions(database.db).catch((err) => app.log.warn({ err }, 'session prune failed'));
    pruneRateLimits(database.db).catch((err) => app.log.warn({ err }, 'rate-limit prune failed'));
  }, 10 * 60_000);
  timer.unref();

  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down');
    clearInterval(timer);
    await app.close();
    await database.close();
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  await app.listen({ port: cfg.port, host: cfg.host });
  const who = cluster.isWorker ? `worker ${cluster.worker!.id} ` : '';
  app.log.info(`Ledgerline ${who}listening on ${cfg.publicUrl} (${database.describe})`);
}

async function supervise(cfg: Config): Promise<void> {
  const say = (msg: string) => process.stderr.write(`ledgerline: ${msg}\n`);
  const database = openDatabase(cfg.databaseUrl, { poolSize: 1 });
  const applied = await migrate(database);
  if (applied.length) say(`database migrated (${applied.join(', ')})`);
  await firstStart(database);
  await database.close();

  let stopping = false;
  const recentCrashes: number[] = [];
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      // 0 after a requested stop; 1 (set below) when the workers kept crashing. A worker that has
      // exited can still be listed in cluster.workers (until its IPC channel closes, which may come
      // after 'exit'), so count the ones still running rather than the list.
      if (!Object.values(cluster.workers ?? {}).some((w) => w && !w.isDead())) process.exit(process.exitCode ?? 0);
      return;
    }
    say(`worker ${worker.id} exited (${signal ?? `code ${code}`}); starting another`);
    const now = Date.now();
    recentCrashes.push(now);
    while (recentCrashes.length && now - recentCrashes[0] > 60_000) recentCrashes.shift();
    if (recentCrashes.length > cfg.workers * 3) {
      say('workers keep exiting; stopping');
      stopping = true;
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
      process.exitCode = 1;
      return;
    }
    cluster.fork();
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    say(`${signal}: stopping ${cfg.workers} workers`);
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(signal);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  for (let i = 0; i < cfg.workers; i++) cluster.fork();
  say(`started ${cfg.workers} workers on ${cfg.publicUrl}`);
}

if (config.workers > 1 && cluster.isPrimary) await supervise(config);
else await serve(config, { prepare: !cluster.isWorker });
