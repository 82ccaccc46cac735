// /api/payments and /api/credits (Payments screen).
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { CreditCreate, IdParams, PaymentCreate, PaymentListQuery } from './billing.schema.ts';
import { getPayment, issueCredit, listCredits, listPayments, recordPayment } from './payments.service.ts';

export default async function paymentsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app;
  const config = { access: { screen: 'payments' as const } };
  app.get('/api/payments', { config, schema: { querystring: PaymentListQuery } }, async (req) => listPayments(db, req.query));
  app.post('/api/payments', { config, schema: { body: PaymentCreate } }, async (req, reply) => reply.code(201).send(await recordPayment(db, req.actor, req.body as never)));
  app.get('/api/payments/:id', { config, schema: { params: IdParams } }, async (req) => getPayment(db, req.params.id));
  app.get('/api/credits', { config, schema: { querystring: PaymentListQuery } }, async (req) => listCredits(db, req.query));
  app.post('/api/credits', { config, schema: { body: CreditCreate } }, async (req, reply) => reply.code(201).send(await issueCredit(db, req.actor, req.body)));
}
