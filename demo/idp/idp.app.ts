// The demo IdP as a Fastify app on its own loopback port: admin pages mirroring the Okta console
// steps of the vendor guide, the IdP metadata, the SSO endpoint (SP-initiated) and an end-user
// dashboard (IdP-initiated). State lives in memory (idp.state.ts) and dies with the process.
// A development tool: it is never part of the Ledgerline server and must not listen beyond
// 127.0.0.1.
import fs from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { DemoSamlIdp, generateIdpKeys, type IdpKeys } from './idp.saml.ts';
import { DemoState, type ClientStyle } from './idp.state.ts';
import { Provisioner, type Outcome } from './idp.provisioning.ts';
import * as pages from './idp.pages.ts';

const PUBLIC_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), 'public');
const PENDING_TTL_MS = 10 * 60_000;

export interface DemoIdpOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  style?: ClientStyle;
  state?: DemoState;
  keys?: IdpKeys;
  logger?: boolean;
}

export interface DemoIdp {
  app: FastifyInstance;
  url: string;
  entityId: string;
  metadataUrl: string;
  ssoUrl: string;
  state: DemoState;
  provisioner: Provisioner;
  saml: DemoSamlIdp;
  close(): Promise<void>;
}

interface Pending {
  requestId: string;
  relayState: string | null;
  requester: string;
  createdAt: number;
}

type Form = Record<string, string | string[] | undefined>;
const str = (v: unknown): string => (Array.isArray(v) ? String(v[0] ?? '') : typeof v === 'string' ? v : '');
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : typeof v === 'string' && v ? [v] : []);
const isHttpUrl = (s: string) => {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
};

export async function startDemoIdp(opts: DemoIdpOptions = {}): Promise<DemoIdp> {
  const state = opts.state ?? DemoState.seeded(opts.style ?? 'okta');
  const provisioner = new Provisioner(state);
  const keys = opts.keys ?? (await generateIdpKeys());
  const pending = new Map<string, Pending>();
  const app = Fastify({ logger: opts.logger ?? false });
  await app.register(formbody);

  // Known once listening (the entity ID and URLs carry the port).
  const rt = { baseUrl: '', entityId: '', metadataUrl: '', ssoUrl: '', saml: null as DemoSamlIdp | null };

  app.addHook('onSend', async (_request, reply) => {
    const acs = state.app.sso.ssoUrl;
    const acsOrigin = isHttpUrl(acs) ? ` ${new URL(acs).origin}` : '';
    reply.header('content-security-policy', `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'${acsOrigin}`);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('cache-control', 'no-store');
  });

  const ctx = (request: FastifyRequest): pages.Ctx => {
    const q = request.query as Record<string, string>;
    return {
      state,
      baseUrl: rt.baseUrl,
      entityId: rt.entityId,
      metadataUrl: rt.metadataUrl,
      ssoUrl: rt.ssoUrl,
      path: request.url.split('?')[0],
      notice: q.msg ? { ok: q.ok === '1', message: q.msg } : null,
    };
  };
  const html = (reply: FastifyReply, body: string, status = 200) => reply.code(status).type('text/html; charset=utf-8').send(body);
  const back = (reply: FastifyReply, to: string, o: Outcome) => reply.redirect(`${to}?ok=${o.ok ? 1 : 0}&msg=${encodeURIComponent(o.message)}`, 303);
  const attempt = async (reply: FastifyReply, to: string, fn: () => Promise<Outcome> | Outcome) => {
    try {
      return back(reply, to, await fn());
    } catch (err) {
      return back(reply, to, { ok: false, message: (err as Error).message });
    }
  };

  for (const file of ['idp.css', 'autosubmit.js']) {
    const body = fs.readFileSync(path.join(PUBLIC_DIR, file), 'utf8');
    const type = file.endsWith('.css') ? 'text/css; charset=utf-8' : 'text/javascript; charset=utf-8';
    app.get(`/static/${file}`, async (_request, reply) => reply.type(type).send(body));
  }

  app.get('/', async (request, reply) => html(reply, pages.overviewPage(ctx(request))));
  app.get('/metadata', async (_request, reply) => reply.type('application/samlmetadata+xml; charset=utf-8').send(rt.saml!.metadataXml()));

  // ---- directory ----
  app.get('/admin/people', async (request, reply) => html(reply, pages.peoplePage(ctx(request))));
  app.post('/admin/people', async (request, reply) =>
    attempt(reply, '/admin/people', () => {
      const f = request.body as Form;
      const p = state.addPerson({ userName: str(f.userName), givenName: str(f.givenName), familyName: str(f.familyName) });
      return { ok: true, message: `${p.userName} is added to the directory.` };
    }),
  );
  app.get('/admin/people/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const p = state.people.find((x) => x.id === id);
    if (!p) {
      const e = pages.errorPage(ctx(request), 'Not found', 'No such person.', 404);
      return html(reply, e.html, e.status);
    }
    return html(reply, pages.personPage(ctx(request), p));
  });
  app.post('/admin/people/:id/deactivate', async (request, reply) => {
    const { id } = request.params as { id: string };
    return attempt(reply, `/admin/people/${id}`, () => provisioner.setPersonStatus(id, 'deactivated'));
  });
  app.post('/admin/people/:id/activate', async (request, reply) => {
    const { id } = request.params as { id: string };
    return attempt(reply, `/admin/people/${id}`, () => provisioner.setPersonStatus(id, 'active'));
  });
  app.post('/admin/people/:id/groups', async (request, reply) => {
    const { id } = request.params as { id: string };
    return attempt(reply, `/admin/people/${id}`, () => provisioner.setGroupsOf(id, list((request.body as Form).groupId)));
  });
  app.post('/admin/people/:id/profile', async (request, reply) => {
    const { id } = request.params as { id: string };
    const f = request.body as Form;
    return attempt(reply, `/admin/people/${id}`, () => provisioner.updateProfile(id, { givenName: str(f.givenName), familyName: str(f.familyName) }));
  });

  app.get('/admin/groups', async (request, reply) => html(reply, pages.groupsPage(ctx(request))));
  app.post('/admin/groups', async (request, reply) =>
    attempt(reply, '/admin/groups', () => {
      const g = state.addGroup(str((request.body as Form).name));
      return { ok: true, message: `Group ${g.name} is added.` };
    }),
  );
  app.get('/admin/groups/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    if (!state.groups.some((g) => g.id === id)) {
      const e = pages.errorPage(ctx(request), 'Not found', 'No such group.', 404);
      return html(reply, e.html, e.status);
    }
    return html(reply, pages.groupPage(ctx(request), id));
  });
  app.post('/admin/groups/:id/rename', async (request, reply) => {
    const { id } = request.params as { id: string };
    return attempt(reply, `/admin/groups/${id}`, () => provisioner.renameGroup(id, str((request.body as Form).name)));
  });
  app.post('/admin/groups/:id/members', async (request, reply) => {
    const { id } = request.params as { id: string };
    return attempt(reply, `/admin/groups/${id}`, () => provisioner.setMembership(id, str((request.body as Form).personId), true));
  });
  app.post('/admin/groups/:id/members/:pid/remove', async (request, reply) => {
    const { id, pid } = request.params as { id: string; pid: string };
    return attempt(reply, `/admin/groups/${id}`, () => provisioner.setMembership(id, pid, false));
  });

  // ---- the application ----
  app.get('/admin/app', async (_request, reply) => reply.redirect('/admin/app/general', 302));
  app.get('/admin/app/general', async (request, reply) => html(reply, pages.generalPage(ctx(request))));
  app.post('/admin/app/general', async (request, reply) =>
    attempt(reply, '/admin/app/general', () => {
      const f = request.body as Form;
      const p = state.app.provisioning;
      p.scimEnabled = str(f.scimEnabled) === 'on';
      const style = str(f.style);
      if (style === 'okta' || style === 'entra') p.style = style;
      return { ok: true, message: p.scimEnabled ? 'Saved. SCIM provisioning is enabled: open the Provisioning tab.' : 'Saved. SCIM provisioning is off.' };
    }),
  );
  app.get('/admin/app/sign-on', async (request, reply) => html(reply, pages.signOnPage(ctx(request))));
  app.post('/admin/app/sign-on', async (request, reply) =>
    attempt(reply, '/admin/app/sign-on', () => {
      const f = request.body as Form;
      const ssoUrl = str(f.ssoUrl).trim();
      const audience = str(f.audience).trim();
      if (!isHttpUrl(ssoUrl)) return { ok: false, message: 'Single sign-on URL must be an http(s) URL.' };
      if (!audience) return { ok: false, message: 'Audience URI is required.' };
      state.app.sso = { ssoUrl, audience };
      return { ok: true, message: 'Sign On settings saved.' };
    }),
  );
  app.get('/admin/app/provisioning', async (request, reply) => html(reply, pages.provisioningPage(ctx(request))));
  app.post('/admin/app/provisioning', async (request, reply) => {
    const f = request.body as Form;
    const p = state.app.provisioning;
    const baseUrl = str(f.baseUrl).trim();
    if (baseUrl && !isHttpUrl(baseUrl)) return back(reply, '/admin/app/provisioning', { ok: false, message: 'SCIM connector base URL must be an http(s) URL.' });
    p.baseUrl = baseUrl;
    p.uniqueIdentifierField = str(f.uniqueIdentifierField).trim() || 'userName';
    p.pushNewUsers = str(f.pushNewUsers) === 'on';
    p.pushProfileUpdates = str(f.pushProfileUpdates) === 'on';
    p.pushGroups = str(f.pushGroups) === 'on';
    p.token = str(f.token).trim();
    if (str(f.action) === 'test') return back(reply, '/admin/app/provisioning', await provisioner.testConnector());
    return back(reply, '/admin/app/provisioning', { ok: true, message: 'Provisioning settings saved.' });
  });
  app.post('/admin/app/provisioning/to-app', async (request, reply) =>
    attempt(reply, '/admin/app/provisioning', () => {
      const f = request.body as Form;
      state.app.provisioning.createUsers = str(f.createUsers) === 'on';
      state.app.provisioning.deactivateUsers = str(f.deactivateUsers) === 'on';
      return { ok: true, message: 'To App settings saved.' };
    }),
  );
  app.get('/admin/app/assignments', async (request, reply) => html(reply, pages.assignmentsPage(ctx(request))));
  app.post('/admin/app/assignments', async (request, reply) => attempt(reply, '/admin/app/assignments', () => provisioner.assign(str((request.body as Form).personId))));
  app.post('/admin/app/assignments/:pid/unassign', async (request, reply) => {
    const { pid } = request.params as { pid: string };
    return attempt(reply, '/admin/app/assignments', () => provisioner.unassign(pid));
  });
  app.get('/admin/app/push-groups', async (request, reply) => html(reply, pages.pushGroupsPage(ctx(request))));
  app.post('/admin/app/push-groups', async (request, reply) => attempt(reply, '/admin/app/push-groups', () => provisioner.pushGroup(str((request.body as Form).groupId))));
  app.post('/admin/app/push-groups/:gid/unlink', async (request, reply) => {
    const { gid } = request.params as { gid: string };
    return attempt(reply, '/admin/app/push-groups', () => provisioner.unlink(gid, str((request.body as Form).mode) === 'delete'));
  });
  app.get('/admin/log', async (request, reply) => html(reply, pages.logPage(ctx(request))));

  // ---- single sign-on ----
  const spConfig = () => {
    const sso = state.app.sso;
    if (!sso.ssoUrl || !sso.audience) throw new Error('The Ledgerline app has no Sign On settings yet: fill in Single sign-on URL and Audience URI.');
    return sso;
  };

  async function receiveAuthnRequest(request: FastifyRequest, reply: FastifyReply, binding: 'redirect' | 'post', params: Record<string, string>) {
    try {
      const sp = spConfig();
      if (!params.SAMLRequest) throw new Error('No SAMLRequest: this endpoint receives AuthnRequests from Ledgerline.');
      const parsed = await rt.saml!.parseRequest(sp, binding, params);
      // Okta answers only the app whose Audience URI matches, and only at its configured ACS.
      if (parsed.issuer && parsed.issuer !== sp.audience) throw new Error(`The AuthnRequest comes from "${parsed.issuer}", but the app's Audience URI is "${sp.audience}".`);
      if (parsed.acsUrl && parsed.acsUrl !== sp.ssoUrl) throw new Error(`The AuthnRequest asks for the ACS "${parsed.acsUrl}", but the app's Single sign-on URL is "${sp.ssoUrl}".`);
      const id = randomBytes(12).toString('base64url');
      const now = Date.now();
      for (const [k, v] of pending) if (now - v.createdAt > PENDING_TTL_MS) pending.delete(k);
      pending.set(id, { requestId: parsed.id, relayState: params.RelayState ?? null, requester: parsed.issuer || sp.audience, createdAt: now });
      return html(reply, pages.chooserPage(ctx(request), id, parsed.issuer || sp.audience));
    } catch (err) {
      const e = pages.errorPage(ctx(request), 'Sign-in request refused', (err as Error).message);
      return html(reply, e.html, e.status);
    }
  }
  app.get('/sso', async (request, reply) => receiveAuthnRequest(request, reply, 'redirect', request.query as Record<string, string>));
  app.post('/sso', async (request, reply) => {
    const f = request.body as Form;
    return receiveAuthnRequest(request, reply, 'post', { SAMLRequest: str(f.SAMLRequest), ...(f.RelayState !== undefined ? { RelayState: str(f.RelayState) } : {}) });
  });

  const signInAllowed = (personId: string) => {
    const person = state.person(personId);
    if (!state.assignment(personId)) throw new Error(`${person.userName} is not assigned to Ledgerline.`);
    return person;
  };

  app.post('/sso/respond', async (request, reply) => {
    const f = request.body as Form;
    try {
      const p = pending.get(str(f.pending));
      if (!p || Date.now() - p.createdAt > PENDING_TTL_MS) throw new Error('This sign-in request has expired; start again from Ledgerline.');
      const person = signInAllowed(str(f.personId));
      pending.delete(str(f.pending));
      const r = await rt.saml!.signResponse(spConfig(), person.userName, p.requestId);
      return html(reply, pages.postBindingPage(r.acsUrl, r.samlResponse, p.relayState));
    } catch (err) {
      const e = pages.errorPage(ctx(request), 'Cannot sign in', (err as Error).message);
      return html(reply, e.html, e.status);
    }
  });

  app.get('/home', async (request, reply) => html(reply, pages.homePage(ctx(request))));
  app.post('/home/launch', async (request, reply) => {
    try {
      const person = signInAllowed(str((request.body as Form).personId));
      const r = await rt.saml!.signResponse(spConfig(), person.userName, null);
      return html(reply, pages.postBindingPage(r.acsUrl, r.samlResponse, null));
    } catch (err) {
      const e = pages.errorPage(ctx(request), 'Cannot sign in', (err as Error).message);
      return html(reply, e.html, e.status);
    }
  });

  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const port = (app.server.address() as { port: number }).port;
  rt.baseUrl = `http://127.0.0.1:${port}`;
  rt.entityId = `${rt.baseUrl}/app/ledgerline/exk${randomBytes(6).toString('hex')}`;
  rt.metadataUrl = `${rt.baseUrl}/metadata`;
  rt.ssoUrl = `${rt.baseUrl}/sso`;
  rt.saml = new DemoSamlIdp({ entityId: rt.entityId, ssoUrl: rt.ssoUrl, keys });

  return {
    app,
    url: rt.baseUrl,
    entityId: rt.entityId,
    metadataUrl: rt.metadataUrl,
    ssoUrl: rt.ssoUrl,
    state,
    provisioner,
    saml: rt.saml,
    close: () => app.close(),
  };
}
