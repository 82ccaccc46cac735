// buildApp(deps): the whole HTTP application, without listening (tests and main.ts both use it).
// Order: platform plugins, auth, the feature routes, the UI with its SPA fallback.
import fs from 'node:fs';
import { STATUS_CODES } from 'node:http';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyServerOptions } from 'fastify';
import cookie from '@fastify/cookie';
import fastifyStatic from '@fastify/static';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import type { DB } from './db/schema.ts';
import { ping } from './db/database.ts';
import { apiErrorHandler, writeRawError } from './platform/http-errors.ts';
import { refuseUnstorableText } from './platform/nul-guard.ts';
import { securityHeaders } from './platform/security-headers.ts';
import { buildValidator } from './platform/validator.ts';
import authPlugin from './identity/auth.plugin.ts';
import identityRoutes from './identity/identity.routes.ts';
import searchRoutes from './search.routes.ts';
import scimPlugin, { SCIM_PREFIX, sendScimFrameworkError, writeScimClientError, writeScimRequestTimeout } from './scim/scim.plugin.ts';
import scimAdminRoutes from './scim/scim-admin.routes.ts';
import samlPlugin from './saml/saml.plugin.ts';
import billingPlugin from './billing/billing.plugin.ts';

declare module 'fastify' {
  interface FastifyInstance {
    db: Kysely<DB>;
    database: Database;
    config: Config;
  }
}

export interface AppDeps {
  database: Database;
  config: Config;
  logger?: FastifyServerOptions['logger'];
}

const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../web/dist');

export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const requestTimeout = deps.config.requestTimeoutSeconds * 1000;
  const app = Fastify({
    logger: deps.logger ?? false,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: 1024 * 1024,
    // A request that does not arrive in full within REQUEST_TIMEOUT_SECONDS is answered a 408 and its
    // connection closed. Node's server is given its limits when it is made: set only afterwards, as
    // Fastify sets its own requestTimeout, 1 s ended a stalled body after 60 s, not 1 s (tried). Fastify's
    // is set to the same value, or it would turn Node's off (its default is 0). Node checks the limits
    // every 30 s by default; a short timeout is checked more often.
    requestTimeout,
    http: requestTimeout
      ? { requestTimeout, headersTimeout: Math.min(60_000, requestTimeout), connectionsCheckingInterval: Math.min(30_000, Math.max(100, requestTimeout / 4)) }
      : { requestTimeout: 0 },
    // Nothing here sits behind a proxy by default; X-Forwarded-For is not trusted.
    trustProxy: false,
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: false } },
    // Bodies are validated without type coercion; query strings and params keep it (validator.ts).
    schemaController: { compilersFactory: { buildValidator } },
    // Errors raised before routing (a URL with bad percent-encoding): SCIM format for SCIM clients.
    frameworkErrors: (error, request, reply) => {
      if (sendScimFrameworkError(error, request, reply)) return;
      void (reply as FastifyReply).code(400).send({ error: { code: 'invalid', message: error.message, requestId: request.id } });
    },
    // Requests the HTTP parser refuses (headers over 16 KB, malformed HTTP).
    clientErrorHandler: (err, socket) => {
      if (err.code === 'ECONNRESET' || socket.destroyed) return;
      if (writeScimClientError(err, socket)) return;
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT' && writeScimRequestTimeout(socket, deps.config.requestTimeoutSeconds)) return;
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      writeRawError(socket, status, 'application/json', JSON.stringify({ error: { code: 'invalid', message: STATUS_CODES[status] } }));
    },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('db', deps.database.db);
  app.decorate('database', deps.database);
  app.decorate('config', deps.config);

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.setErrorHandler(apiErrorHandler);
  refuseUnstorableText(app);

  await app.register(cookie);
  securityHeaders(app, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        fontSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        upgradeInsecureRequests: null,
      },
    },
    // The ACS receives cross-site POSTs from the IdP and the app opens no popups.
    crossOriginOpenerPolicy: false,
    strictTransportSecurity: deps.config.secureCookies,
  });
  await app.register(authPlugin);

  app.get('/healthz', async (_req, reply) => {
    const ok = await ping(deps.database);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'database unavailable' });
  });

  await app.register(identityRoutes);
  await app.register(searchRoutes);
  await app.register(scimAdminRoutes);
  await app.register(scimPlugin, { prefix: SCIM_PREFIX });
  await app.register(scimPlugin, { prefix: `${SCIM_PREFIX}/v2` });
  await app.register(samlPlugin);
  await app.register(billingPlugin);

  const hasUi = fs.existsSync(path.join(WEB_DIST, 'index.html'));
  if (hasUi) await app.register(fastifyStatic, { root: WEB_DIST, wildcard: false, index: false });
  app.setNotFoundHandler(async (request, reply) => {
    const url = request.url;
    const isUiPath = !url.startsWith('/api/') && !url.startsWith('/ResourceServer/') && !url.startsWith('/AuthorizationServer/');
    if (request.method === 'GET' && isUiPath && !/\.[a-z0-9]+$/i.test(url.split('?')[0])) {
      if (hasUi) return reply.type('text/html').header('cache-control', 'no-cache').sendFile('index.html');
      return reply.type('text/html').send('<!doctype html><title>Ledgerline</title><p>The admin UI is not built. Run <code>npm run build:web</code>.</p>');
    }
    return reply.code(404).send({ error: { code: 'not_found', message: `No route ${request.method} ${url.split('?')[0]}`, requestId: request.id } });
  });

  return app;
}
