// Admin JSON API for SCIM: access tokens (buttons on Setup › SAML Settings) and the provisioning
// log (Setup › Provisioning Log). Thin: access declaration, one service call.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { noBodyIsEmpty } from '../platform/validator.ts';
import { listProvisioningLog, type LogAnswer } from './provisioning-log.service.ts';
import { clearTokens, createToken, listTokens, refreshTokens, revokeToken } from './scim-tokens.service.ts';

/** The Provisioning Log's filters, one value each: a repeated parameter is a 400, as on the other lists. */
const LogListQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: 200 })),
  status: Type.Optional(Type.String({ maxLength: 40 })),
  resource: Type.Optional(Type.String({ maxLength: 100 })),
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
  cursor: Type.Optional(Type.String({ maxLength: 500 })),
});

/**
 * The token buttons' bodies, checked as sent (src/platform/validator.ts): a name that is not text, or
 * hours that are not a JSON number, are a 400 naming the field rather than left out of the token. So
 * is a field these calls do not take, as on the other admin calls: a mistyped "gracehours" would
 * otherwise end the other tokens after the default 24 hours, not the hours asked for. A POST without
 * a body asks for the defaults (noBodyIsEmpty).
 */
const TokenCreateBody = Type.Object({ name: Type.Optional(Type.String()) }, { additionalProperties: false });
const TokenRefreshBody = Type.Object({ name: Type.Optional(Type.String()), graceHours: Type.Optional(Type.Number()) }, { additionalProperties: false });

export default async function scimAdminRoutes(app: FastifyInstance): Promise<void> {
  const tokens = { access: { screen: 'saml-settings' as const } };

  app.get('/api/scim/tokens', { config: tokens }, async () => ({ items: await listTokens(app.db), nextCursor: null }));

  app.post('/api/scim/tokens', { config: tokens, preValidation: noBodyIsEmpty, schema: { body: TokenCreateBody } }, async (request, reply) => {
    const body = request.body as { name?: string };
    const { token, item } = await createToken(app.db, request.actor, body.name);
    return reply.code(201).send({ token, item });
  });

  app.post('/api/scim/tokens/refresh', { config: tokens, preValidation: noBodyIsEmpty, schema: { body: TokenRefreshBody } }, async (request, reply) => {
    const body = request.body as { graceHours?: number; name?: string };
    const { token, item } = await refreshTokens(app.db, request.actor, body.graceHours ?? 24, body.name);
    return reply.code(201).send({ token, item });
  });

  app.delete('/api/scim/tokens/:id', { config: tokens }, async (request) => {
    const { id } = request.params as { id: string };
    return { item: await revokeToken(app.db, request.actor, id) };
  });

  app.delete('/api/scim/tokens', { config: tokens }, async (request) => ({ revoked: await clearTokens(app.db, request.actor) }));

  app.get('/api/provisioning-log', { config: { access: { screen: 'provisioning-log' as const } }, schema: { querystring: LogListQuery } }, async (request) => {
    const q = request.query as { q?: string; status?: string; resource?: string; limit?: number; cursor?: string };
    const page = await listProvisioningLog(app.db, { q: q.q, status: q.status, resource: q.resource, limit: q.limit, cursor: q.cursor });
    return { ...page, retentionDays: app.config.provisioningLogDays } satisfies LogAnswer;
  });
}
