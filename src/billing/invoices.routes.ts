// /api/invoices (Invoices screen): list, view, draft edits, finalize, void, print view. An invoice
// names the payments applied to it only for callers who may read Payments (invoiceFor).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { IdParams, InvoiceAdjustment, InvoiceFinalize, InvoiceListQuery, InvoiceUpdate, InvoiceVoid, LineParams } from './billing.schema.ts';
import { invoiceHtml, PRINT_CSS } from './invoice.print.ts';
import { addAdjustment, finalizeInvoice, getInvoice, invoiceFor, listInvoices, removeLine, updateDraft, voidInvoice, type InvoiceDetail } from './invoices.service.ts';
import { canRead } from '../identity/auth.plugin.ts';

const shown = (req: FastifyRequest, inv: InvoiceDetail) => invoiceFor(inv, { payments: canRead(req, 'payments') });

export default async function invoicesRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app;
  const config = { access: { screen: 'invoices' as const } };

  app.get('/api/invoices', { config, schema: { querystring: InvoiceListQuery } }, async (req) => listInvoices(db, req.query));
  app.get('/api/invoices/print.css', { config }, async (_req, reply) => reply.type('text/css; charset=utf-8').header('cache-control', 'private, max-age=3600').send(PRINT_CSS));
  app.get('/api/invoices/:id', { config, schema: { params: IdParams } }, async (req) => shown(req, await getInvoice(db, req.params.id)));
  app.get('/api/invoices/:id/print', { config, schema: { params: IdParams } }, async (req, reply) => reply.type('text/html; charset=utf-8').send(invoiceHtml(await getInvoice(db, req.params.id))));
  app.patch('/api/invoices/:id', { config, schema: { params: IdParams, body: InvoiceUpdate } }, async (req) => shown(req, await updateDraft(db, req.actor, req.params.id, req.body)));
  app.post('/api/invoices/:id/lines', { config, schema: { params: IdParams, body: InvoiceAdjustment } }, async (req, reply) => reply.code(201).send(shown(req, await addAdjustment(db, req.actor, req.params.id, req.body))));
  app.delete('/api/invoices/:id/lines/:lineId', { config, schema: { params: LineParams } }, async (req) => shown(req, await removeLine(db, req.actor, req.params.id, req.params.lineId)));
  app.post('/api/invoices/:id/finalize', { config, schema: { params: IdParams, body: InvoiceFinalize } }, async (req) => shown(req, await finalizeInvoice(db, req.actor, req.params.id, req.body)));
  app.post('/api/invoices/:id/void', { config, schema: { params: IdParams, body: InvoiceVoid } }, async (req) => shown(req, await voidInvoice(db, req.actor, req.params.id, req.body.reason)));
}
