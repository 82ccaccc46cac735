// A second app node in its own process: processes one bill run against the same database.
// Usage: node --import tsx test/billing/second-node.ts DATABASE_URL RUN_ID
import { openDatabase } from '../../src/db/database.ts';
import { processBillRun } from '../../src/billing/billruns.service.ts';
import { systemActor } from '../../src/platform/actor.ts';

const [url, runId] = process.argv.slice(2);
const database = openDatabase(url, { poolSize: 5 });
processBillRun(database.db, systemActor('node-2'), runId, { chunk: 5 })
  .then((run) => process.stdout.write(JSON.stringify(run)))
  .finally(() => database.close());
