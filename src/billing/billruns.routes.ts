// /api/bill-runs (Invoices screen): start a run (it continues in the background on this node), watch
// its progress, resume an interrupted one.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BillRunAccountsQuery, BillRunCreate, IdParams, ListQuery } from './billing.schema.ts';
import { billRunAccounts, claimForResume, createBillRun, getBillRun, listBillRuns } from './billruns.service.ts';
import type { BillRunWorker } from './billruns.worker.ts';

export default async function billRunsRoutes(fastify: FastifyInstance, opts: { worker: BillRunWorker }): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app;
  const { worker } = opts;
  const config = { access: { screen: 'invoices' as const } };

  app.get('/api/bill-runs', { config, schema: { querystring: ListQuery } }, async (req) => listBillRuns(db, req.query));
  app.post('/api/bill-runs', { config, schema: { body: BillRunCreate } }, async (req, reply) => {
    const run = await createBillRun(db, req.actor, req.body);
    const done = worker.start(run.id, req.actor);
    if (req.body.wait) return reply.code(201).send(await done);
    return reply.code(202).send(run);
  });
  app.get('/api/bill-runs/:id', { config, schema: { params: IdParams } }, async (req) => getBillRun(db, req.params.id));
  app.get('/api/bill-runs/:id/accounts', { config, schema: { params: IdParams, querystring: BillRunAccountsQuery } }, async (req) => billRunAccounts(db, req.params.id, req.query));
  app.post('/api/bill-runs/:id/resume', { config, schema: { params: IdParams } }, async (req, reply) => {
    const run = await claimForResume(db, req.actor, req.params.id);
    worker.start(run.id, req.actor);
    return reply.code(202).send(run);
  });
}
