// The SAML service provider: SP metadata, SP-initiated login, the ACS, single logout, the public
// "is SSO on" probe, and the SAML Settings admin API. Registered by app.ts without a prefix.
// The ACS is outside /api, so no CSRF token applies (the IdP posts cross-site); it is rate-limited
// per address in the database instead. Form bodies are parsed only inside this plugin's scope.
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { recordAudit } from '../identity/audit.service.ts';
import { SESSION_COOKIE, clearSessionCookie, endSession, setSessionCookie } from '../identity/sessions.service.ts';
import { systemActor } from '../platform/actor.ts';
import { hit } from '../platform/rate-limit.ts';
import { pruneSamlCache } from './saml.cache.repo.ts';
import { acsInfoPage, refusalPage } from './saml.page.ts';
import { SamlRefusal, refusalFromLibrary } from './saml.refusal.ts';
import { SettingsBody, TestBody, type SettingsBodyT, type TestBodyT } from './saml.schema.ts';
import { getSettingsView, refreshDue, refreshMetadata, testSettings, updateSettings } from './saml.settings.service.ts';
import { AcsRefusal, consumeResponse, idpLogoutPost, idpLogoutRedirect, logout, ssoStatus, startLogin } from './saml.sso.service.ts';
import { spMetadataXml } from './saml.sp.ts';
import { ensureSpKey, spCommonName } from './saml.spkey.service.ts';

export const ACS_RATE_LIMIT = { limit: 60, windowSeconds: 60 };
const REFRESH_CHECK_MS = 60 * 60_000;

const referenceId = () => `SSO-${randomBytes(5).toString('hex').toUpperCase()}`;

export default async function samlPlugin(app: FastifyInstance): Promise<void> {
  const { db, config } = app;
  await app.register(formbody, { bodyLimit: 512 * 1024 });

  /** Refusal → audit entry with the exact reason + a page with a plain sentence and a reference id. */
  async function refuse(request: FastifyRequest, reply: FastifyReply, err: unknown, phase: string) {
    const refusal = err instanceof SamlRefusal ? err : refusalFromLibrary(err);
    if (!(err instanceof SamlRefusal)) request.log.warn({ err }, 'SAML message refused after an unexpected error');
    else if (err.cause) request.log.warn({ err: err.cause }, 'SAML response refused after an unexpected error');
    const ctx = err instanceof AcsRefusal ? err.context : { issuer: null, nameId: null, userId: null };
    const ref = referenceId();
    await recordAudit(db, { id: ctx.userId, name: ctx.nameId?.slice(0, 200) ?? 'unknown (SSO)', source: 'saml', ip: request.ip, requestId: request.id }, {
      action: 'auth.sso_failed',
      targetType: 'user',
      targetId: ctx.userId,
      targetName: ctx.nameId?.slice(0, 200) ?? null,
      // The reference is in the summary so that the Audit Log's search finds it (docs/okta.md §5).
      summary: `SSO ${phase} refused (${refusal.reason}), reference ${ref}: ${refusal.detail.slice(0, 300)}`,
      details: { reason: refusal.reason, detail: refusal.detail, issuer: ctx.issuer, nameId: ctx.nameId, referenceId: ref, phase },
    });
    return reply.code(refusal.httpStatus).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(refusalPage(refusal.userMessage, ref));
  }

  app.get('/AuthorizationServer/Saml2/Metadata', async (_request, reply) => {
    return reply.type('application/samlmetadata+xml; charset=utf-8').send(await spMetadataXml(db, config));
  });

  // The SP signing certificate as a file, for IdPs (Okta's "Signature Certificate") that want an
  // upload rather than the metadata. Public: it is in the metadata anyway. Never the key.
  app.get('/AuthorizationServer/Saml2/Certificate', async (_request, reply) => {
    const key = await ensureSpKey(db, spCommonName(config.publicUrl));
    return reply
      .type('application/x-pem-file')
      .header('content-disposition', 'attachment; filename="ledgerline-saml-sp.pem"')
      .send(key.certificate);
  });

  app.get('/AuthorizationServer/Saml2/Login', async (request, reply) => {
    const { returnTo } = request.query as { returnTo?: string };
    try {
      const out = await startLogin(db, config, returnTo);
      reply.header('cache-control', 'no-store');
      if ('redirect' in out) return reply.redirect(out.redirect, 302);
      // HTTP-POST binding: node-saml's auto-submitting form needs its inline script.
      return reply.header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; form-action https: http:").type('text/html; charset=utf-8').send(out.form);
    } catch (err) {
      return refuse(request, reply, err, 'login');
    }
  });

  app.post('/AuthorizationServer/Saml2/ACS', async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    try {
      if (!(await hit(db, `saml-acs:ip:${request.ip}`, ACS_RATE_LIMIT))) throw new SamlRefusal('rate_limited', `more than ${ACS_RATE_LIMIT.limit} ACS posts a minute from ${request.ip}`);
      const result = await consumeResponse(db, config, {
        samlResponse: body.SAMLResponse,
        relayState: body.RelayState,
        ip: request.ip,
        userAgent: request.headers['user-agent'] ?? null,
        requestId: request.id,
      });
      // Whoever was signed in on this browser before is replaced, not left with a live session.
      await endSession(db, request.cookies[SESSION_COOKIE]);
      setSessionCookie(reply, config, result.sessionValue);
      return reply.header('cache-control', 'no-store').redirect(result.returnTo, 302);
    } catch (err) {
      return refuse(request, reply, err, 'sign-in');
    }
  });

  // The ACS takes POSTs only (HTTP-POST binding). A browser opening the address gets a page saying what
  // it is (405, Allow: POST); a response sent in the URL (an IdP set to HTTP-Redirect, which the SAML
  // profile does not allow for responses) is refused like any other, with a reference id, and audited.
  app.get('/AuthorizationServer/Saml2/ACS', async (request, reply) => {
    const query = request.query as Record<string, unknown>;
    if (query.SAMLResponse === undefined) {
      return reply.code(405).header('allow', 'POST').header('cache-control', 'no-store').type('text/html; charset=utf-8').send(acsInfoPage());
    }
    const refusal = (await hit(db, `saml-acs:ip:${request.ip}`, ACS_RATE_LIMIT))
      ? new SamlRefusal('wrong_binding', 'the SAML response came in the URL of a GET (HTTP-Redirect binding); Ledgerline takes it posted (HTTP-POST binding, which Okta and Entra ID use for the Single sign-on / Reply URL)')
      : new SamlRefusal('rate_limited', `more than ${ACS_RATE_LIMIT.limit} ACS posts a minute from ${request.ip}`);
    return refuse(request, reply, refusal, 'sign-in');
  });

  // SP-initiated sign-out (the UI's Sign out), and the IdP's LogoutRequest / LogoutResponse (Redirect).
  app.get('/AuthorizationServer/Saml2/Logout', async (request, reply) => {
    const query = request.query as Record<string, string>;
    reply.header('cache-control', 'no-store');
    if (query.SAMLRequest || query.SAMLResponse) {
      try {
        const rawQuery = request.url.split('?')[1] ?? '';
        const out = await idpLogoutRedirect(db, config, query, rawQuery);
        if (query.SAMLRequest) {
          await recordAudit(db, { id: null, name: out.nameId ?? 'IdP', source: 'saml', ip: request.ip, requestId: request.id }, {
            action: 'auth.sso_logout',
            targetType: 'user',
            targetName: out.nameId,
            summary: `IdP-initiated single logout ended ${out.endedSessions} session(s)`,
            details: { nameId: out.nameId, endedSessions: out.endedSessions },
          });
        } else clearSessionCookie(reply, config);
        return reply.redirect(out.redirect, 302);
      } catch (err) {
        return refuse(request, reply, err, 'logout');
      }
    }
    // A sign-out is the UI's own navigation (Sec-Fetch-Site same-origin) or an address typed (none). A
    // link or form on another site (cross-site, same-site) ends nothing. Without the header (scripts,
    // and browsers that do not send it: Chrome before 76, Firefox before 90, Safari before 16.4) it
    // signs out as before; a sign-out by POST with the CSRF token would close that too.
    const site = request.headers['sec-fetch-site'];
    if (site === 'cross-site' || site === 'same-site') return reply.redirect('/', 302);
    const target = await logout(db, config, request.cookies[SESSION_COOKIE]);
    clearSessionCookie(reply, config);
    return reply.redirect(target, 302);
  });

  app.post('/AuthorizationServer/Saml2/Logout', async (request, reply) => {
    try {
      const out = await idpLogoutPost(db, config, (request.body ?? {}) as Record<string, string>);
      await recordAudit(db, { id: null, name: out.nameId ?? 'IdP', source: 'saml', ip: request.ip, requestId: request.id }, {
        action: 'auth.sso_logout',
        targetType: 'user',
        targetName: out.nameId,
        summary: `IdP-initiated single logout ended ${out.endedSessions} session(s)`,
        details: { nameId: out.nameId, endedSessions: out.endedSessions },
      });
      return reply.header('cache-control', 'no-store').redirect(out.redirect, 302);
    } catch (err) {
      return refuse(request, reply, err, 'logout');
    }
  });

  app.get('/api/auth/sso', { config: { access: 'public' } }, async () => ssoStatus(db));

  // ---- admin API (Setup › Users & Accounts › SAML Settings) ----------------------------------
  const access = { screen: 'saml-settings' as const };
  app.get('/api/saml/settings', { config: { access } }, async () => getSettingsView(db, config));
  app.put('/api/saml/settings', { config: { access }, schema: { body: SettingsBody } }, async (request) =>
    updateSettings(db, config, request.actor, request.body as SettingsBodyT),
  );
  // Full Permission, not Read Only: Test Settings makes the server fetch a URL of the caller's choosing.
  app.post('/api/saml/settings/test', { config: { access }, schema: { body: TestBody } }, async (request) => testSettings(db, (request.body ?? {}) as TestBodyT));
  app.post('/api/saml/settings/refresh', { config: { access } }, async (request) => {
    const outcome = await refreshMetadata(db, request.actor);
    return { ...outcome, settings: await getSettingsView(db, config) };
  });

  // Daily metadata refresh (Okta certificate rollover) and cache pruning. Every node may do it;
  // doing it twice is harmless. Timers never keep the process alive.
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      await pruneSamlCache(db);
      if (await refreshDue(db)) await refreshMetadata(db, systemActor('saml metadata refresh'));
    } catch (err) {
      app.log.warn({ err }, 'SAML metadata refresh failed');
    } finally {
      running = false;
    }
  };
  const timer = setInterval(tick, REFRESH_CHECK_MS);
  timer.unref();
  const first = setTimeout(tick, 60_000);
  first.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    clearTimeout(first);
  });
}
