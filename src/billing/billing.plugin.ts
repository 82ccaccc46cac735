// The billing feature: accounts, products, subscriptions, usage, bill runs, invoices, payments,
// reports. Registered by app.ts without a prefix (routes declare full /api/... paths). Depends only
// on the permission catalogue (via route access), the audit log and the platform helpers.
import type { FastifyInstance } from 'fastify';
import accountsRoutes from './accounts.routes.ts';
import billRunsRoutes from './billruns.routes.ts';
import { billRunWorker } from './billruns.worker.ts';
import { systemActor } from '../platform/actor.ts';
import invoicesRoutes from './invoices.routes.ts';
import paymentsRoutes from './payments.routes.ts';
import productsRoutes from './products.routes.ts';
import reportsRoutes from './reports.routes.ts';
import usageRoutes from './usage.routes.ts';

export default async function billingPlugin(app: FastifyInstance): Promise<void> {
  const worker = billRunWorker(app.db, app.log);
  app.addHook('onClose', async () => worker.stop());
  // Continue runs that a stopped or dead node left unfinished, in the background (start-up does not wait).
  app.addHook('onReady', async () => {
    void worker.resumeAbandoned(systemActor('bill-run-resume'));
  });
  await app.register(accountsRoutes);
  await app.register(productsRoutes);
  await app.register(usageRoutes);
  await app.register(billRunsRoutes, { worker });
  await app.register(invoicesRoutes);
  await app.register(paymentsRoutes);
  await app.register(reportsRoutes);
}
