// Runs bill runs in the background of this process and stops them cleanly when the app closes
// (an interrupted run keeps its pending accounts and can be resumed on any node).
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { claimAbandonedRuns, processBillRun, type BillRun } from './billruns.service.ts';

export interface BillRunWorker {
  start(runId: string, actor: Actor): Promise<BillRun | null>;
  /** Claims interrupted and abandoned runs (see claimAbandonedRuns) and continues them here. */
  resumeAbandoned(actor: Actor): Promise<string[]>;
  stop(): Promise<void>;
}

export function billRunWorker(db: Kysely<DB>, log: { error(obj: unknown, msg: string): void }): BillRunWorker {
  const controller = new AbortController();
  const running = new Set<Promise<unknown>>();
  const worker: BillRunWorker = {
    start(runId, actor) {
      const p = processBillRun(db, actor, runId, { signal: controller.signal }).catch((err) => {
        log.error({ err, runId }, 'bill run failed');
        return null;
      });
      running.add(p);
      void p.finally(() => running.delete(p));
      return p;
    },
    resumeAbandoned(actor) {
      const p = (async () => {
        if (controller.signal.aborted) return [];
        const ids = await claimAbandonedRuns(db, actor);
        for (const id of ids) void worker.start(id, actor);
        return ids;
      })().catch((err) => {
        log.error({ err }, 'resuming interrupted bill runs failed');
        return [] as string[];
      });
      running.add(p);
      void p.finally(() => running.delete(p));
      return p;
    },
    async stop() {
      controller.abort();
      // A start-up resume may start runs while we wait (they stop at once, marked interrupted).
      while (running.size) await Promise.allSettled([...running]);
    },
  };
  return worker;
}
