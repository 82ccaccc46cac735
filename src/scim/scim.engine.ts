// The SCIM protocol engine: a plain request in ({method, path, query, body, headers}), a plain
// response out ({status, body, headers}) plus what the provisioning log needs. No HTTP here, so the
// whole protocol is testable without a server. Each write is one database transaction.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { isUniqueViolation } from '../platform/errors.ts';
import { resourceTypesResponse, schemasResponse, serviceProviderConfig } from './scim.discovery.ts';
import { conflict, methodNotAllowed, notFound, ScimError, toScimError } from './scim.errors.ts';
import { createGroup, deleteGroup, getGroup, listGroups, patchGroup, patchGroupMembersInOneStatement, readGroupReplacement, replaceGroup } from './scim.groups.ts';
import { listParams } from './scim.list.ts';
import { parsePatchRequest } from './patch.engine.ts';
import { runWrite } from './scim.writes.ts';
import { confirmToken, TokenRejected, type PresentedToken } from './scim-tokens.service.ts';
import { isPostgres } from '../db/dialect.ts';
import { parseProjection, project, type Projection } from './scim.projection.ts';
import { createUser, createUserInOneStatement, deleteUser, getUser, listUsers, patchUser, patchUserInOneStatement, replaceUser, replaceUserInOneStatement, type ScimCtx } from './scim.users.ts';
import { noneMatch } from './scim.etags.ts';

export interface ScimRequest {
  method: string;
  /** Path below the SCIM base, e.g. "/Users/123". */
  path: string;
  query: Record<string, string | string[] | undefined>;
  body?: unknown;
  ifMatch?: string;
  ifNoneMatch?: string;
}

export interface ScimResponse {
  status: number;
  body?: unknown;
  headers: Record<string, string>;
  /** For the provisioning log. */
  summary: string;
  resourceType: string | null;
  resourceId: string | null;
  userName: string | null;
  error: string | null;
}

export interface EngineDeps {
  db: Kysely<DB>;
  baseUrl: string;
  actor: Actor;
  /** A token verified by an earlier request, to be checked again in this one (TokenRejected if unusable). */
  token?: PresentedToken;
}

function describeFilter(q: Record<string, unknown>): string {
  const f = q.filter;
  return typeof f === 'string' && f ? ` matching ${f}` : '';
}

/**
 * The methods a path takes (for a 405's Allow header and an OPTIONS answer), from its segments as
 * decoded; null where there is nothing (a 404 whatever the method) or where every method gets a 501.
 */
export function allowedMethods(segs: readonly string[]): string | null {
  const [a, b, c] = segs.map((s) => s.toLowerCase());
  if (c !== undefined) return null;
  if (a === 'serviceproviderconfig' || a === 'serviceconfiguration') return b === undefined ? 'GET, HEAD, OPTIONS' : null;
  if (a === 'resourcetypes' || a === 'schemas') return 'GET, HEAD, OPTIONS';
  if (a !== 'users' && a !== 'groups') return null;
  if (b === undefined) return 'GET, HEAD, POST, OPTIONS';
  if (b === '.search') return 'POST, OPTIONS';
  return 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS';
}

const WRITE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The path's segments below the SCIM base, each decoded once (the path comes as sent: scim.plugin.ts). */
export function pathSegments(path: string): string[] {
  return path.split('?')[0].split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s; // not valid percent-encoding (the router refuses such URLs before this)
    }
  });
}

export async function handleScim(deps: EngineDeps, req: ScimRequest): Promise<ScimResponse> {
  // HEAD is a GET whose body the HTTP layer leaves out (RFC 9110 §9.3.2): it was a 405.
  const asked = req.method.toUpperCase();
  const method = asked === 'HEAD' ? 'GET' : asked;
  const segs = pathSegments(req.path);
  const first = (segs[0] ?? '').toLowerCase();
  const resourceType = first === 'users' ? 'User' : first === 'groups' ? 'Group' : segs[0] ?? null;
  const out: ScimResponse = { status: 200, headers: {}, summary: '', resourceType, resourceId: segs[1] && segs[1] !== '.search' ? segs[1] : null, userName: null, error: null };
  const ctx: ScimCtx = { db: deps.db, baseUrl: deps.baseUrl, actor: deps.actor, token: deps.token };
  try {
    // A token verified by an earlier request is checked again. The plugin has already
    // done so for anything but a GET (before reading its body); this keeps a write from ever running
    // unchecked, whoever calls. A GET checks it in its own statement, or below, before it answers.
    if (method !== 'GET') await checkToken(ctx);
    await route(ctx, req, method, segs, out);
  } catch (err) {
    if (err instanceof TokenRejected) throw err;
    const e = toScimError(err);
    if (e.internal) await checkToken(ctx);
    out.status = e.status;
    out.body = e.body;
    out.headers = e.headers ?? {};
    out.error = e.body.scimType ? `${e.body.scimType}: ${e.body.detail}` : e.body.detail;
    const listed = method === 'GET' && (resourceType === 'User' || resourceType === 'Group') && segs.length === 1;
    const verb = listed ? 'list' : ({ POST: 'create', PUT: 'replace', PATCH: 'update', DELETE: 'delete', GET: 'read' }[method] ?? method.toLowerCase());
    const noun = (resourceType ?? 'resource').toLowerCase() + (listed ? 's' : '');
    out.summary = `failed to ${verb} ${noun}${out.userName ? ` ${out.userName}` : ''}: ${e.body.detail}`;
    if (e.internal) throw Object.assign(new Error('SCIM request failed'), { cause: err, scimResponse: out });
  }
  await checkToken(ctx);
  return out;
}

/** Throws TokenRejected when the request's token (if it still needs checking) is no longer usable. */
async function checkToken(ctx: ScimCtx): Promise<void> {
  if (ctx.token && !(await confirmToken(ctx.db, ctx.token))) throw new TokenRejected();
}

async function inTrx<T>(ctx: ScimCtx, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  try {
    return await runWrite(ctx.db, fn);
  } catch (err) {
    // A unique violation that slipped past the pre-check (two POSTs racing) is still a 409.
    if (isUniqueViolation(err)) throw conflict('The resource already exists (uniqueness)');
    throw err;
  }
}

async function route(ctx: ScimCtx, req: ScimRequest, method: string, segs: string[], out: ScimResponse): Promise<void> {
  const [a, b, c] = segs;
  const A = (a ?? '').toLowerCase();
  if (c !== undefined) throw notFound(`No such endpoint ${req.path}`);
  const query = req.query as Record<string, unknown>;
  // Which methods a path takes (RFC 9110 §9.3.7), before anything else about the path is looked up.
  const allow = method === 'OPTIONS' ? allowedMethods(segs) : null;
  if (allow !== null) {
    out.status = 204;
    out.headers = { allow };
    out.summary = `asked which methods ${req.path} takes`;
    return;
  }
  const refuse = () => methodNotAllowed(method, req.path, allowedMethods(segs) ?? '');
  // RFC 7644 §4: a filter on a discovery endpoint SHOULD be a 403, "to ensure that clients cannot
  // incorrectly assume that any matching conditions specified in a filter are true" (it was ignored).
  const refuseFilter = (what: string) => {
    if (query.filter !== undefined) throw new ScimError(403, `${what} cannot be filtered: ask for it whole (RFC 7644 §4)`);
  };
  const bodyObj = (req.body && typeof req.body === 'object' ? req.body : {}) as Record<string, unknown>;

  // Discovery (read-only; serviceConfiguration is the path Microsoft's test collection uses)
  if (A === 'serviceproviderconfig' || A === 'serviceconfiguration') {
    if (b !== undefined) throw notFound(`No such endpoint ${req.path}`);
    if (method !== 'GET') throw refuse();
    refuseFilter('The service provider configuration');
    out.body = serviceProviderConfig(ctx.baseUrl);
    out.summary = 'read the service provider configuration';
    return;
  }
  if (A === 'resourcetypes' || A === 'schemas') {
    if (method !== 'GET') throw refuse();
    refuseFilter(A === 'schemas' ? '/Schemas' : '/ResourceTypes');
    out.body = A === 'schemas' ? schemasResponse(ctx.baseUrl, b) : resourceTypesResponse(ctx.baseUrl, b);
    out.summary = `read ${A === 'schemas' ? 'schemas' : 'resource types'}`;
    return;
  }
  if (A === 'bulk') throw new ScimError(501, 'Bulk operations are not supported');
  if (A === 'me') throw new ScimError(501, '/Me is not supported');
  if (A === '.search') throw new ScimError(501, 'Search across resource types is not supported; use /Users/.search or /Groups/.search');
  if (A !== 'users' && A !== 'groups') throw notFound(`No such endpoint ${req.path}`);
  const kind = A === 'users' ? 'User' : 'Group';
  const noun = A === 'users' ? 'user' : 'group';

  // Collection
  if (b === undefined || b === '.search') {
    if ((b === undefined && method === 'GET') || (b === '.search' && method === 'POST')) {
      const src = b === '.search' ? bodyObj : query;
      const p = listParams(kind, src);
      const { body, found } = kind === 'User' ? await listUsers(ctx, p) : await listGroups(ctx, p);
      out.body = body;
      out.summary = `listed ${noun}s${describeFilter(src)}: ${found} returned`;
      return;
    }
    if (b === undefined && method === 'POST') {
      if (kind === 'User') {
        const un = bodyObj.userName;
        if (typeof un === 'string') out.userName = un;
      }
      // `attributes` / `excludedAttributes` apply to any answer that returns a resource (RFC 7644 §3.9).
      const projection = parseProjection(kind, query.attributes as string | undefined, query.excludedAttributes as string | undefined);
      // On PostgreSQL a user is created by one statement, shared with the creates that arrive with it
      // (createUserInOneStatement).
      const r =
        kind === 'Group'
          ? await inTrx(ctx, (trx) => createGroup(ctx, trx, req.body, projection))
          : await (async () => {
              const u = isPostgres(ctx.db) ? await createUserInOneStatement(ctx, req.body) : await inTrx(ctx, (trx) => createUser(ctx, trx, req.body));
              return { ...u, resource: projectIf(u.resource, projection), etag: String((u.resource.meta as Record<string, unknown>).version) };
            })();
      out.status = 201;
      out.body = r.resource;
      out.headers = { location: `${ctx.baseUrl}/${kind}s/${r.outcome.resourceId}`, etag: r.etag };
      out.summary = r.outcome.summary;
      out.resourceId = r.outcome.resourceId ?? null;
      out.userName = r.outcome.userName ?? null;
      return;
    }
    throw refuse();
  }

  // One resource
  const id = b;
  const projection = parseProjection(kind, query.attributes as string | undefined, query.excludedAttributes as string | undefined);
  if (method === 'GET') {
    const r = kind === 'User' ? await getUser(ctx, id, projection) : await getGroup(ctx, id, projection);
    let what: string;
    if ('userName' in r) {
      out.userName = r.userName;
      what = `user ${r.userName}`;
    } else what = `group ${r.name}`;
    out.headers = { etag: r.etag };
    if (noneMatch(req.ifNoneMatch, r.etag)) {
      out.status = 304;
      out.summary = `read ${what} (not modified)`;
      return;
    }
    out.body = r.resource;
    out.summary = `read ${what}`;
    return;
  }
  if (!WRITE.has(method)) throw refuse();
  const pre = { ifMatch: req.ifMatch, ifNoneMatch: req.ifNoneMatch };
  if (method === 'DELETE') {
    const o = await inTrx(ctx, (trx) => (kind === 'User' ? deleteUser(ctx, trx, id, pre) : deleteGroup(ctx, trx, id, pre)));
    out.status = 204;
    out.summary = o.summary;
    out.userName = o.userName ?? null;
    return;
  }
  if (method === 'POST') throw refuse();
  const wantsBody = query.attributes !== undefined || query.excludedAttributes !== undefined;
  if (method === 'PUT') {
    if (kind === 'Group') {
      // The answer comes projected (its members read only when wanted), its ETag beside it:
      // `attributes` may leave meta out. On PostgreSQL it is made after the COMMIT from what the
      // transaction read; on SQLite it is read after the COMMIT, as a GET reads it (one state of the
      // group, with that state's ETag).
      const put = await readGroupReplacement(ctx.db, id, req.body);
      const r = await inTrx(ctx, (trx) => replaceGroup(ctx, trx, id, put, pre, projection));
      const answer = r.answer ? { resource: await r.answer(), etag: r.etag } : await getGroup(ctx, id, projection);
      out.body = answer.resource;
      out.headers = { etag: answer.etag };
      out.summary = r.outcome.summary;
      return;
    }
    // On PostgreSQL a user is replaced by one statement that applies only to the version it read
    // (updateUserInOneStatement); Okta sends a PUT for every change.
    const r = isPostgres(ctx.db) ? await replaceUserInOneStatement(ctx, id, req.body, pre) : await inTrx(ctx, (trx) => replaceUser(ctx, trx, id, req.body, pre));
    out.body = projectIf(r.resource, projection);
    out.headers = { etag: String((r.resource.meta as Record<string, unknown>).version) };
    out.summary = r.outcome.summary;
    out.userName = r.outcome.userName ?? null;
    return;
  }
  // PATCH: 204 unless the client asked for attributes (RFC 7644 §3.5.2; Entra expects 204). The
  // operations are parsed once, before any transaction (a group PATCH may try two ways).
  const ops = parsePatchRequest(req.body);
  if (kind === 'User') {
    const r = isPostgres(ctx.db) ? await patchUserInOneStatement(ctx, id, ops, pre) : await inTrx(ctx, (trx) => patchUser(ctx, trx, id, ops, pre));
    out.summary = r.outcome.summary;
    out.userName = r.outcome.userName ?? null;
    out.headers = { etag: String((r.resource.meta as Record<string, unknown>).version) };
    if (wantsBody) out.body = projectIf(r.resource, projection);
    else out.status = 204;
  } else {
    const r = (isPostgres(ctx.db) && (await patchGroupMembersInOneStatement(ctx, id, ops, pre))) || (await inTrx(ctx, (trx) => patchGroup(ctx, trx, id, ops, pre)));
    out.summary = r.outcome.summary;
    out.headers = { etag: r.etag };
    if (wantsBody) {
      // Read after the commit as a GET reads it (one state of the group), with that state's ETag.
      const g = await getGroup(ctx, id, projection);
      out.body = g.resource;
      out.headers = { etag: g.etag };
    } else out.status = 204;
  }
}

function projectIf(res: Record<string, unknown>, p: Projection) {
  return project(res as never, p);
}
