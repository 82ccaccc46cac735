// Process entry: configuration, database, migrations, first administrator, listen, graceful shutdown.
import { buildApp } from './app.ts';
import { loadConfig } from './config.ts';
import { migrate, openDatabase } from './db/database.ts';
import { ensureFirstAdmin } from './identity/first-admin.ts';
import { pruneSessions } from './identity/sessions.service.ts';
import { pruneRateLimits } from './platform/rate-limit.ts';

const config = loadConfig();
const database = openDatabase(config.databaseUrl);
const applied = await migrate(database);

const app = await buildApp({
  database,
  config,
  logger: {
    level: config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', 'res.headers["set-cookie"]'], censor: '[redacted]' },
  },
});
if (applied.length) app.log.info({ migrations: applied }, 'database migrated');

const first = await ensureFirstAdmin(database.db);
if (first) {
  const line = '='.repeat(72);
  // Printed to stdout once, on the first start with an empty database: the only copy of this password.
  process.stdout.write(
    `\n${line}\n  Ledgerline first start: created the local administrator.\n    user name: ${first.userName}\n    password:  ${first.password}\n  Sign in at ${config.publicUrl}/login and keep this password safe; it is not shown again.\n${line}\n\n`,
  );
}

const timer = setInterval(() => {
  pruneSessions(database.db).catch((err) => app.log.warn({ err }, 'session prune failed'));
  pruneRateLimits(database.db).catch((err) => app.log.warn({ err }, 'rate-limit prune failed'));
}, 10 * 60_000);
timer.unref();

let closing = false;
async function shutdown(signal: string) {
  if (closing) return;
  closing = true;
  app.log.info({ signal }, 'shutting down');
  clearInterval(timer);
  await app.close();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));

await app.listen({ port: config.port, host: config.host });
app.log.info(`Ledgerline listening on ${config.publicUrl} (${database.describe})`);
