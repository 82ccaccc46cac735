// Authentication and authorisation at the edge of /api: loads the session behind the cookie,
// computes the user's effective permissions from the database (so changes apply on the next
// request on every node), enforces each route's declared access, and checks the CSRF token on
// cookie-authenticated writes. Registered with fastify-plugin semantics (hooks apply app-wide).
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { atLeast, isScreenKey, type Level, type Permissions, type ScreenKey } from './catalogue.ts';
import { effectivePermissions } from './permissions.repo.ts';
import { findSession, SESSION_COOKIE } from './sessions.service.ts';
import { Forbidden, Unauthorized } from '../platform/errors.ts';
import type { Actor } from '../platform/actor.ts';

export type Access = 'public' | 'signedIn' | { screen: ScreenKey; level?: Exclude<Level, 'none'> };

export interface SessionUser {
  id: string;
  userName: string;
  displayName: string | null;
  email: string | null;
  source: string;
  status: string;
  roleId: string | null;
  timeZone: string;
  locale: string;
  permissions: Permissions;
  sessionIdHash: string;
  csrfToken: string;
  method: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    auth: SessionUser | null;
    actor: Actor;
  }
  interface FastifyContextConfig {
    access?: Access;
  }
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

export function requireAuth(request: FastifyRequest): SessionUser {
  if (!request.auth) throw Unauthorized();
  return request.auth;
}

/** Throws Forbidden unless the signed-in user has at least `level` on `screen`. */
export function requireLevel(request: FastifyRequest, screen: ScreenKey, level: Exclude<Level, 'none'>): SessionUser {
  const user = requireAuth(request);
  if (!atLeast(user.permissions[screen], level)) throw Forbidden();
  return user;
}

/** True when the signed-in user may read `screen`: for a response that embeds another screen's data. */
export function canRead(request: FastifyRequest, screen: ScreenKey): boolean {
  return !!request.auth && atLeast(request.auth.permissions[screen], 'read');
}

/**
 * Refuses (403, `message`) a request whose browser names an Origin other than PUBLIC_URL's: sign-in
 * and every cookie-authenticated write come from Ledgerline's own page. Scripts send no Origin.
 */
export function refuseOtherOrigin(request: FastifyRequest, message: string): void {
  const origin = request.headers.origin;
  if (origin && origin !== new URL(request.server.config.publicUrl).origin) throw Forbidden(message);
}

async function authPlugin(app: FastifyInstance): Promise<void> {
  app.decorateRequest('auth', null);
  app.decorateRequest('actor', null as unknown as Actor);

  // Every /api route must say who may call it; a route without a declaration is a bug caught at start-up.
  app.addHook('onRoute', (route) => {
    if (!route.url.startsWith('/api/')) return;
    const access = route.config?.access;
    if (!access) throw new Error(`route ${route.method} ${route.url} declares no access (config.access)`);
    if (typeof access === 'object' && !isScreenKey(access.screen)) throw new Error(`route ${route.url}: unknown screen ${access.screen}`);
  });

  app.addHook('onRequest', async (request) => {
    const client = request.headers['x-ledgerline-client'] === 'ui' ? 'ui' : 'api';
    request.actor = { id: null, name: 'anonymous', source: client, ip: request.ip, requestId: request.id };
    // Decide by the matched route, never by the raw URL: `/%61pi/users` or an absolute-form request
    // target (`GET http://host/api/users`) reach the /api/users route while the URL string differs.
    const route = request.routeOptions.url ?? '';
    const access = request.routeOptions.config?.access;
    if (!access && !route.startsWith('/api/') && !route.startsWith('/AuthorizationServer/')) return;
    const session = await findSession(app.db, app.config, request.cookies[SESSION_COOKIE]);
    if (session) {
      const eff = await effectivePermissions(app.db, session.user);
      const u = session.user;
      request.auth = {
        id: u.id,
        userName: u.user_name,
        displayName: u.display_name,
        email: u.email,
        source: u.source,
        status: u.status,
        roleId: u.role_id,
        timeZone: u.time_zone,
        locale: u.locale,
        permissions: eff.permissions,
        sessionIdHash: session.idHash,
        csrfToken: session.csrfToken,
        method: session.method,
      };
      request.actor = { id: u.id, name: u.user_name, source: client, ip: request.ip, requestId: request.id };
    }
    if (!access || access === 'public') return;
    const user = requireAuth(request);
    if (!SAFE.has(request.method)) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameToken(sent, user.csrfToken)) throw Forbidden('Missing or invalid CSRF token; reload the page and try again');
      refuseOtherOrigin(request, 'Changes must come from the Ledgerline page itself');
    }
    if (access === 'signedIn') return;
    requireLevel(request, access.screen, access.level ?? (SAFE.has(request.method) ? 'read' : 'full'));
  });
}

export default fp(authPlugin, { name: 'ledgerline-auth' });
