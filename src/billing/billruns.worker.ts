// Runs bill runs in the background of this process and stops them cleanly when the app closes
// (an interrupted run keeps its pending accounts and can be resumed on any node).
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { processBillRun, type BillRun } from './billruns.service.ts';

export interface BillRunWorker {
  start(runId: string, actor: Actor): Promise<BillRun | null>;
  stop(): Promise<void>;
}

export function billRunWorker(db: Kysely<DB>, log: { error(obj: unknown, msg: string): void }): BillRunWorker {
  const controller = new AbortController();
  const running = new Set<Promise<unknown>>();
  return {
    start(runId, actor) {
      const p = processBillRun(db, actor, runId, { signal: controller.signal }).catch((err) => {
        log.error({ err, runId }, 'bill run failed');
        return null;
      });
      running.add(p);
      void p.finally(() => running.delete(p));
      return p;
    },
    async stop() {
      controller.abort();
      await Promise.allSettled([...running]);
    },
  };
}
