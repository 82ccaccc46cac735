// Operations › Audit Log: filterable, newest first, cursor-paged (the reading is in audit.service.ts).
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { listAudit, type AuditQuery } from './audit.service.ts';

const Query = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  source: Type.Optional(Type.String({ maxLength: 20 })),
  action: Type.Optional(Type.String({ maxLength: 60 })),
  targetType: Type.Optional(Type.String({ maxLength: 40 })),
  targetId: Type.Optional(Type.String({ maxLength: 100 })),
  from: Type.Optional(Type.String({ maxLength: 40 })),
  to: Type.Optional(Type.String({ maxLength: 40 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  cursor: Type.Optional(Type.String({ maxLength: 200 })),
});

export default async function auditRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/audit', { config: { access: { screen: 'audit-log' } }, schema: { querystring: Query } }, (request) => listAudit(app.db, request.query as AuditQuery));
}
