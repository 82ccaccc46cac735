// Local sign-in, sign-out and "who am I". Sign-in is Origin-checked and rate-limited per account
// and per address in the database; failures get one generic message and an audit entry.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { Forbidden, RateLimited, Unauthorized } from '../platform/errors.ts';
import { forgive, hit, reset } from '../platform/rate-limit.ts';
import { recordAudit } from './audit.service.ts';
import { verifyPassword } from './password.ts';
import { clearSessionCookie, createSession, endSession, setSessionCookie, SESSION_COOKIE } from './sessions.service.ts';
import { refuseOtherOrigin, requireAuth, sameToken } from './auth.plugin.ts';
import { getUserDetail } from './users.service.ts';

const PER_ACCOUNT = { limit: 10, windowSeconds: 15 * 60 };
const PER_ADDRESS = { limit: 50, windowSeconds: 15 * 60 };

export default async function authRoutes(app: FastifyInstance): Promise<void> {
  const { db, config } = app;

  app.post(
    '/api/auth/login',
    {
      config: { access: 'public' },
      schema: { body: Type.Object({ username: Type.String({ minLength: 1, maxLength: 256 }), password: Type.String({ minLength: 1, maxLength: 512 }) }) },
    },
    async (request, reply) => {
      refuseOtherOrigin(request, 'Sign-in must come from the Ledgerline page itself');
      const { username, password } = request.body as { username: string; password: string };
      const norm = username.trim().toLowerCase();
      const okAccount = await hit(db, `login:user:${norm}`, PER_ACCOUNT);
      const okAddress = await hit(db, `login:ip:${request.ip}`, PER_ADDRESS);
      const actor = { id: null, name: username.slice(0, 100), source: request.actor.source, ip: request.ip, requestId: request.id };
      if (!okAccount || !okAddress) {
        await recordAudit(db, actor, { action: 'auth.login_failed', targetType: 'user', targetName: norm, summary: `sign-in refused for ${norm}: too many attempts`, details: { reason: 'rate_limited' } });
        throw RateLimited('Too many sign-in attempts; wait 15 minutes and try again');
      }
      const user = await db.selectFrom('users').select(['id', 'user_name', 'status', 'source', 'password_hash']).where('user_name_norm', '=', norm).executeTakeFirst();
      const valid = await verifyPassword(password, user?.password_hash ?? null);
      let reason: string | null = null;
      if (!user) reason = 'unknown user';
      else if (!valid) reason = user.source === 'idp' ? 'provisioned user has no password (SSO only)' : 'wrong password';
      else if (user.status !== 'active') reason = `user is ${user.status}`;
      if (reason || !user) {
        await recordAudit(db, { ...actor, id: user?.id ?? null }, { action: 'auth.login_failed', targetType: 'user', targetId: user?.id, targetName: norm, summary: `sign-in failed for ${norm}: ${reason}`, details: { reason } });
        throw Unauthorized('The user name or password is not correct, or the account is not active');
      }
      const value = await db.transaction().execute(async (trx) => {
        const v = await createSession(trx, config, { userId: user.id, method: 'password', ip: request.ip, userAgent: request.headers['user-agent'] });
        await recordAudit(trx, { ...actor, id: user.id, name: user.user_name }, { action: 'auth.login', targetType: 'user', targetId: user.id, targetName: user.user_name, summary: `${user.user_name} signed in with a password` });
        return v;
      });
      await reset(db, `login:user:${norm}`);
      // Only failures count against an address: many people behind one NAT must all be able to sign in.
      await forgive(db, `login:ip:${request.ip}`, PER_ADDRESS);
      setSessionCookie(reply, config, value);
      return { user: await getUserDetail(db, user.id, { sessionIdleMinutes: config.sessionIdleMinutes }) };
    },
  );

  app.post('/api/auth/logout', { config: { access: 'public' } }, async (request, reply) => {
    const value = request.cookies[SESSION_COOKIE];
    if (request.auth) {
      const sent = request.headers['x-csrf-token'];
      if (typeof sent !== 'string' || !sameToken(sent, request.auth.csrfToken)) throw Forbidden('Missing or invalid CSRF token; reload the page and try again');
      await db.transaction().execute(async (trx) => {
        await endSession(trx, value);
        await recordAudit(trx, request.actor, { action: 'auth.logout', targetType: 'user', targetId: request.auth!.id, targetName: request.auth!.userName, summary: `${request.auth!.userName} signed out` });
      });
    }
    clearSessionCookie(reply, config);
    return reply.code(204).send();
  });

  app.get('/api/me', { config: { access: 'signedIn' } }, async (request) => {
    const me = requireAuth(request);
    const detail = await getUserDetail(db, me.id, { sessionIdleMinutes: config.sessionIdleMinutes });
    return {
      user: {
        id: me.id,
        userName: me.userName,
        displayName: me.displayName,
        email: me.email,
        source: me.source,
        status: me.status,
        timeZone: me.timeZone,
        locale: me.locale,
        role: detail?.role ?? null,
        signInMethod: me.method,
      },
      permissions: me.permissions,
      csrfToken: me.csrfToken,
    };
  });
}
