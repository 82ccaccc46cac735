// /api/usage: record usage (one record or {records:[…]}, idempotent per key), CSV uploads, listing.
// A single new record answers 201; a duplicate key answers 200 with the original record.
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IdParams, ListQuery, UploadQuery, UsageListQuery, singleOrBatchValidator } from './billing.schema.ts';
import { getUpload, ingestUsage, listUploads, listUsage, uploadUsageCsv, type UsageInput } from './usage.service.ts';
import { Invalid } from '../platform/errors.ts';

export const CSV_BODY_LIMIT = 50 * 1024 * 1024;

export default async function usageRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app;
  const config = { access: { screen: 'usage' as const } };

  // CSV arrives as the raw request body (text/csv), scoped to this plugin.
  app.addContentTypeParser(['text/csv', 'text/plain'], { parseAs: 'string', bodyLimit: CSV_BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.get('/api/usage', { config, schema: { querystring: UsageListQuery } }, async (req) => listUsage(db, req.query));
  app.post('/api/usage', {
    config,
    bodyLimit: 10 * 1024 * 1024,
    schema: { body: { type: 'object' } },
    validatorCompiler: (() => singleOrBatchValidator()) as never,
  }, async (req, reply) => {
    const body = req.body as UsageInput | { records: UsageInput[] };
    if ('records' in body) return reply.code(200).send(await ingestUsage(db, req.actor, body.records));
    const res = await ingestUsage(db, req.actor, [body], { prefix: '' });
    const { duplicate, ...record } = res.items[0];
    return reply.code(duplicate ? 200 : 201).send({ ...record, duplicate });
  });
  app.post('/api/usage/uploads', { config, bodyLimit: CSV_BODY_LIMIT, schema: { querystring: UploadQuery } }, async (req, reply) => {
    if (typeof req.body !== 'string') throw Invalid('Send the CSV file as the request body with Content-Type text/csv', { file: 'Choose a CSV file' });
    return reply.code(201).send(await uploadUsageCsv(db, req.actor, req.query.fileName || 'upload.csv', req.body));
  });
  app.get('/api/usage/uploads', { config, schema: { querystring: ListQuery } }, async (req) => listUploads(db, req.query));
  app.get('/api/usage/uploads/:id', { config, schema: { params: IdParams } }, async (req) => getUpload(db, req.params.id));
}
