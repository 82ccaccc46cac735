// /api/reports/* (Reports screen, JSON or ?format=csv) and /api/home (Home screen figures).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ReportQuery } from './billing.schema.ts';
import { agingCsv, agingReport, homeFigures, revenueCsv, revenueReport, usageCsv, usageReport } from './reports.service.ts';

function csv(reply: FastifyReply, name: string, body: string) {
  return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${name}"`).send(body);
}

export default async function reportsRoutes(fastify: FastifyInstance): Promise<void> {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const { db } = app;
  const config = { access: { screen: 'reports' as const } };
  app.get('/api/reports/aging', { config, schema: { querystring: ReportQuery } }, async (req, reply) => {
    const r = await agingReport(db, req.query);
    return req.query.format === 'csv' ? csv(reply, `aging-${r.asOf}.csv`, agingCsv(r)) : r;
  });
  app.get('/api/reports/revenue', { config, schema: { querystring: ReportQuery } }, async (req, reply) => {
    const r = await revenueReport(db, req.query);
    return req.query.format === 'csv' ? csv(reply, `revenue-${r.from}-${r.to}.csv`, revenueCsv(r)) : r;
  });
  app.get('/api/reports/usage', { config, schema: { querystring: ReportQuery } }, async (req, reply) => {
    const r = await usageReport(db, req.query);
    return req.query.format === 'csv' ? csv(reply, `usage-${r.from}-${r.to}.csv`, usageCsv(r)) : r;
  });
  app.get('/api/home', { config: { access: { screen: 'home' as const } }, schema: { querystring: Type.Object({}) } }, async () => homeFigures(db));
}
