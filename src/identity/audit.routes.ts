// Operations › Audit Log: filterable, newest first, cursor-paged.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { sql } from 'kysely';
import { ilike, likeEscape } from '../db/dialect.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';

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
  const { db } = app;
  app.get('/api/audit', { config: { access: { screen: 'audit-log' } }, schema: { querystring: Query } }, async (request) => {
    const q = request.query as { q?: string; source?: string; action?: string; targetType?: string; targetId?: string; from?: string; to?: string; limit?: number; cursor?: string };
    const limit = clampLimit(q.limit);
    const after = decodeCursor(q.cursor);
    let qb = db.selectFrom('audit_log').selectAll();
    if (q.q?.trim()) {
      const pat = `%${likeEscape(q.q.trim())}%`;
      qb = qb.where((eb) => eb.or([ilike(db, 'summary', pat), ilike(db, 'actor_name', pat), ilike(db, 'target_name', pat)]));
    }
    if (q.source) qb = qb.where('source', '=', q.source);
    // An explicit ESCAPE: SQLite has no default escape character, so `_` in an action name must be escaped.
    if (q.action) qb = qb.where(sql<boolean>`action like ${`${likeEscape(q.action)}%`} escape '\\'`);
    if (q.targetType) qb = qb.where('target_type', '=', q.targetType);
    if (q.targetId) qb = qb.where('target_id', '=', q.targetId);
    if (q.from) qb = qb.where('at', '>=', q.from);
    if (q.to) qb = qb.where('at', '<=', q.to);
    if (after) qb = qb.where((eb) => eb.or([eb('at', '<', String(after[0])), eb.and([eb('at', '=', String(after[0])), eb('id', '<', Number(after[1]))])]));
    const rows = await qb.orderBy('at', 'desc').orderBy('id', 'desc').limit(limit + 1).execute();
    const p = page(rows, limit, (r) => [r.at, r.id]);
    return {
      items: p.items.map((r) => ({
        id: r.id, at: r.at, actorId: r.actor_id, actorName: r.actor_name, source: r.source, action: r.action, targetType: r.target_type,
        targetId: r.target_id, targetName: r.target_name, summary: r.summary, details: r.details ? JSON.parse(r.details) : null, ip: r.ip, requestId: r.request_id,
      })),
      nextCursor: p.nextCursor,
    };
  });
}
