// /api/accounts and /api/subscriptions (both on the Accounts screen). Thin: schema, access, one call.
// The account list and overview embed other screens' data only for callers who may read those screens.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { canRead } from '../identity/auth.plugin.ts';
import { accountOverview, createAccount, listAccounts, updateAccount, type EmbeddedReads } from './accounts.service.ts';
import { AccountCreate, AccountListQuery, AccountUpdate, IdParams, SubscriptionCancel, SubscriptionCreate, SubscriptionListQuery, SubscriptionUpdate } from './billing.schema.ts';
import { cancelSubscription, createSubscription, getSubscription, listSubscriptions, updateSubscription } from './subscriptions.service.ts';

const embeddedReads = (req: FastifyRequest): EmbeddedReads => ({ invoices: canRead(req, 'invoices'), payments: canRead(req, 'payments'), usage: canRead(req, 'usage') });

export default async function accountsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app;
  const config = { access: { screen: 'accounts' as const } };

  app.get('/api/accounts', { config, schema: { querystring: AccountListQuery } }, async (req) => listAccounts(db, req.query, embeddedReads(req)));
  app.post('/api/accounts', { config, schema: { body: AccountCreate } }, async (req, reply) => reply.code(201).send(await createAccount(db, req.actor, req.body)));
  app.get('/api/accounts/:id', { config, schema: { params: IdParams } }, async (req) => accountOverview(db, req.params.id, embeddedReads(req)));
  app.patch('/api/accounts/:id', { config, schema: { params: IdParams, body: AccountUpdate } }, async (req) => updateAccount(db, req.actor, req.params.id, req.body));

  app.get('/api/subscriptions', { config, schema: { querystring: SubscriptionListQuery } }, async (req) => listSubscriptions(db, req.query));
  app.post('/api/subscriptions', { config, schema: { body: SubscriptionCreate } }, async (req, reply) => reply.code(201).send(await createSubscription(db, req.actor, req.body)));
  app.get('/api/subscriptions/:id', { config, schema: { params: IdParams } }, async (req) => getSubscription(db, req.params.id));
  app.patch('/api/subscriptions/:id', { config, schema: { params: IdParams, body: SubscriptionUpdate } }, async (req) => updateSubscription(db, req.actor, req.params.id, req.body));
  app.post('/api/subscriptions/:id/cancel', { config, schema: { params: IdParams, body: SubscriptionCancel } }, async (req) => cancelSubscription(db, req.actor, req.params.id, req.body.endDate));
}
