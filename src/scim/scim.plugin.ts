// The SCIM 2.0 service provider at /ResourceServer/api/SCIM (and /v2): HTTP edge only. It owns its
// own content types (application/scim+json and application/json), body limit (413 as a SCIM error),
// bearer-token authentication (401 as a SCIM error), error format, and the provisioning log row
// written for every request. The protocol itself is scim.engine.ts.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Actor } from '../platform/actor.ts';
import { writeRawError } from '../platform/http-errors.ts';
import { hasEncodedNul, loneSurrogatePath, nulPath } from '../platform/nul-guard.ts';
import { nowIso } from '../platform/time.ts';
import { maskedJson, maskedRaw, type Json } from './scim.attributes.ts';
import { responsePieces, stringifyResponse as stringify } from './json-text.ts';
import { nextTurn } from '../platform/next-turn.ts';
import { parseInSlices, scanJson } from './large-json.ts';
import { allowedMethods, handleScim, pathSegments, type ScimResponse } from './scim.engine.ts';
import { badRequest, bodyTooLarge, errorBody, methodNotAllowed, notFound, ScimError, toScimError } from './scim.errors.ts';
import { MAX_FILTER_LENGTH } from './filter.parser.ts';
import { BODY_LIMIT, boundedBody, logWriter } from './provisioning-log.service.ts';
import { confirmToken, TokenRejected, verifyToken, type PresentedToken } from './scim-tokens.service.ts';

const SCIM_TYPE = 'application/scim+json; charset=utf-8';
/** On every SCIM response (the browser security headers are skipped here: see the routes below). */
const API_HEADERS = { 'content-type': SCIM_TYPE, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' };

interface ScimRequestState {
  started: number;
  actor: Actor | null;
  /** Set when the token was verified by an earlier request and must be checked again. */
  token?: PresentedToken;
  rawBody?: string;
  /** The body's length in characters as sent. */
  bodyLength?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    scim?: ScimRequestState;
  }
}

/** Deepest nesting a SCIM body may have. The schemas allow 6: {Operations: [{value: {extension: {manager: {…}}}}]}. */
export const SCIM_MAX_DEPTH = 64;

/** True when the JSON text nests arrays/objects deeper than `max` (see scanJson): such a body is refused before it is parsed. */
export const nestedDeeperThan = (text: string, max: number): boolean => scanJson(text, max).tooDeep;

const NUL_DETAIL = 'SCIM values may not contain the NUL character (U+0000)';
/** A JSON escape of a UTF-16 surrogate: only then can a parsed body hold a lone one. */
const ESCAPED_SURROGATE = /\\u[dD][89abcdefABCDEF]/;
/**
 * Characters above which a request body is scanned for its depth in one turn of the event loop and
 * parsed in later ones, and an answer is sent in pieces.
 */
const LARGE_BODY = 1024 * 1024;

/** The pieces as UTF-8, each encoded when it is asked for. */
function* encodedOneByOne(pieces: readonly string[]): Generator<Buffer> {
  for (const p of pieces) yield Buffer.from(p, 'utf8');
}

/** The first `n` characters of the text made of `pieces` (all of it when shorter), without joining them all. */
function beginning(pieces: readonly string[], n: number): string {
  let out = '';
  for (const p of pieces) {
    if (out.length >= n) break;
    out += p.length > n - out.length ? p.slice(0, n - out.length) : p;
  }
  return out;
}

/** Where the SCIM service lives (and /v2 below it). */
export const SCIM_PREFIX = '/ResourceServer/api/SCIM';
const isScimPath = (url: string) => url === SCIM_PREFIX || url.startsWith(`${SCIM_PREFIX}/`) || url.startsWith(`${SCIM_PREFIX}?`);

/**
 * Errors Fastify raises before any route runs (a URL that is not valid percent-encoding): SCIM
 * clients get them in the SCIM error format; everyone else in the API's. Returns false when the
 * request is not a SCIM one.
 */
export function sendScimFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): boolean {
  if (!isScimPath(request.raw.url ?? '')) return false;
  const detail = error.code === 'FST_ERR_BAD_URL' ? 'The request URL is not valid (bad percent-encoding)' : error.message;
  void reply.code(400).headers(API_HEADERS).send(stringify(errorBody(400, detail, 'invalidSyntax')));
  return true;
}

/**
 * Requests Node's HTTP parser refuses before Fastify sees them (request line and headers over
 * 16 KB, usually a long filter in the URL; malformed HTTP). For a SCIM path the answer is a SCIM
 * error with the limits in words; false otherwise, or when the path cannot be told.
 */
export function writeScimClientError(err: { code?: string; rawPacket?: unknown }, socket: Socket): boolean {
  const head = Buffer.isBuffer(err.rawPacket) ? err.rawPacket.subarray(0, 200).toString('latin1') : '';
  // Any method, "get" too: the parser refuses a method it does not know, and the client is still a SCIM one.
  const m = /^\S+ (\S+)/.exec(head);
  if (!m || !isScimPath(m[1])) return false;
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
  const detail =
    status === 431
      ? `The request line and headers are larger than 16 KB (a filter may have at most ${MAX_FILTER_LENGTH.toLocaleString('en-US')} characters)`
      : 'The request is not valid HTTP';
  writeRawError(socket, status, SCIM_TYPE, stringify(errorBody(status, detail, status === 400 ? 'invalidSyntax' : undefined)));
  return true;
}

/** The SCIM request each connection last brought (a request that times out has no other trace on its socket). */
const scimRequests = new WeakMap<Socket, IncomingMessage>();
/** Connections answered a 408 because their request did not arrive in time. */
const timedOut = new WeakSet<Socket>();
const timeoutDetail = (seconds: number) => `The request did not arrive in full within ${seconds} s (REQUEST_TIMEOUT_SECONDS); the connection was closed`;

/**
 * Node's request timeout (REQUEST_TIMEOUT_SECONDS) on a connection whose SCIM request is still
 * arriving: a 408 in the SCIM error format (it was the API's JSON), and the provisioning log records
 * it (bodyCut below). False when the request is not a SCIM one.
 */
export function writeScimRequestTimeout(socket: Socket, seconds: number): boolean {
  const req = scimRequests.get(socket);
  if (!req || req.complete) return false;
  timedOut.add(socket);
  writeRawError(socket, 408, SCIM_TYPE, stringify(errorBody(408, timeoutDetail(seconds))));
  return true;
}

/**
 * Why a body cannot be read as it was sent, or null: it is read as UTF-8 text, so a content coding
 * (gzip: a 400 "not valid JSON" before; JSON labelled gzip was read as plain) or another charset
 * (Latin-1 letters were stored as U+FFFD) is a 415 that says what to send (RFC 7231 §3.1.2.2, §6.5.13).
 */
function unreadableBody(headers: FastifyRequest['headers']): string | null {
  const coding = String(headers['content-encoding'] ?? '').trim().toLowerCase();
  if (coding && coding !== 'identity') return `Content-Encoding "${coding}" is not supported: send the body uncompressed`;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(String(headers['content-type'] ?? ''))?.[1].toLowerCase();
  if (charset && !['utf-8', 'utf8', 'us-ascii'].includes(charset)) return `charset "${charset}" is not supported: send the body as UTF-8`;
  return null;
}

/**
 * The request's path below the service's prefix, still percent-encoded: the engine splits it at its
 * slashes and decodes each segment once. The router's wildcard is decoded already, so an encoded
 * slash in it split an id (DELETE /Users%2F<id> deleted the user) and a segment was decoded twice
 * (/Users/%2525 looked up the id "%").
 */
function scimPath(rawUrl: string, prefix: string, wildcard: string | undefined): string {
  const path = rawUrl.split('?')[0];
  return path.startsWith(prefix) ? path.slice(prefix.length) || '/' : '/' + (wildcard ?? '');
}

export default async function scimPlugin(app: FastifyInstance): Promise<void> {
  const baseUrl = `${app.config.publicUrl}${app.prefix}`;
  const log = logWriter(app.db, () => app.config.provisioningLogDays);
  app.addHook('onClose', async () => {
    await log.close();
  });

  app.removeAllContentTypeParsers();
  const parseJson = (request: FastifyRequest, body: string, done: (err: Error | null, body?: unknown) => void) => {
    if (request.scim) {
      request.scim.rawBody = body.length > BODY_LIMIT ? body.slice(0, BODY_LIMIT) : body;
      request.scim.bodyLength = body.length;
    }
    const unreadable = unreadableBody(request.headers);
    if (unreadable) return done(new ScimError(415, unreadable));
    // A byte order mark before the JSON (RFC 8259 §8.1 lets a parser ignore it): was a 400.
    if (body.charCodeAt(0) === 0xfeff) body = body.slice(1);
    if (body === '' || body.trim() === '') return done(null, undefined);
    const large = body.length > LARGE_BODY;
    // One pass: the depth, and in a large body (a group PUT's whole member list) where its `members` lie.
    const scanned = scanJson(body, SCIM_MAX_DEPTH, large ? 'members' : undefined);
    if (scanned.tooDeep) {
      return done(badRequest(`The request body nests arrays or objects more than ${SCIM_MAX_DEPTH} levels deep`, 'invalidSyntax'));
    }
    const parse = async () => {
      let parsed: unknown;
      try {
        // A large body's `members` a slice at a time, other requests in between.
        parsed = large ? await parseInSlices(body, 'members', scanned.array) : JSON.parse(body);
      } catch {
        return done(badRequest('The request body is not valid JSON', 'invalidSyntax'));
      }
      // PostgreSQL cannot store U+0000 in text, and no SCIM value has a use for it: refused on both
      // databases alike. (JSON can only carry it escaped, so only bodies with that escape are walked.)
      if (body.includes('\\u0000') && nulPath(parsed) !== null) {
        return done(badRequest(NUL_DETAIL, 'invalidValue'));
      }
      // A lone surrogate, likewise, can only arrive escaped (\uD800-\uDFFF without its pair). Most
      // bodies hold no escape at all: looking for one is 0.3 ms in 8 MB, the expression 6-21 ms.
      if (body.includes('\\u') && ESCAPED_SURROGATE.test(body)) {
        const at = loneSurrogatePath(parsed);
        if (at !== null) return done(badRequest(`${at === 'body' ? 'The body' : `"${at}"`} is not valid Unicode text: it holds half of a UTF-16 surrogate pair (\\uD800-\\uDFFF) without the other half`, 'invalidValue'));
      }
      done(null, parsed);
    };
    // A large body (a group PUT with its whole member list: 8 MB for 102,100 members) is scanned in one
    // turn of the event loop and parsed in later ones, its members a slice at a time (large-json.ts),
    // where one JSON.parse of it held the event loop for 36-121 ms (9.1 MB, in-process).
    const parsing = () => parse().catch((err: unknown) => done(err as Error));
    if (large) setImmediate(parsing);
    else void parsing();
  };
  const bodyLimit = app.config.scimMaxBodyMb * 1024 * 1024;
  app.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string', bodyLimit }, parseJson);
  // Some clients send JSON with another (or no) content type; read it as JSON all the same.
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit }, parseJson);

  /** `responseLength`: the answer's length in characters when `responseText` is only its beginning. */
  const record = (request: FastifyRequest, res: Pick<ScimResponse, 'status' | 'summary' | 'resourceType' | 'resourceId' | 'userName' | 'error'>, responseText: string | null, responseLength?: number) => {
    const st = request.scim;
    let requestText: string | null = null;
    // A body cut short is said to be as long as it was sent.
    let requestLength: number | undefined;
    if (request.body !== undefined) {
      const masked = maskedJson(request.body as Json, BODY_LIMIT);
      requestText = masked.text;
      if (masked.cut) requestLength = Math.max(st?.bodyLength ?? 0, BODY_LIMIT + 1);
    } else if (st?.rawBody) {
      requestText = maskedRaw(st.rawBody, st.bodyLength);
      if (requestText === st.rawBody) requestLength = st.bodyLength;
    }
    const path = request.url.length > 1000 ? request.url.slice(0, 1000) : request.url;
    log.add({
      at: nowIso(),
      client: (request.headers['user-agent'] ?? '').slice(0, 200) || null,
      method: request.method,
      path,
      status: res.status,
      duration_ms: st ? Math.round((performance.now() - st.started) * 100) / 100 : 0,
      summary: res.summary.slice(0, 1000),
      resource_type: res.resourceType,
      resource_id: res.resourceId,
      user_name: res.userName,
      error: res.error,
      request_body: boundedBody(requestText, requestLength),
      response_body: boundedBody(responseText, responseLength),
    });
  };

  const sendError = (request: FastifyRequest, reply: FastifyReply, err: unknown, summary?: string) => {
    const e = toScimError(bodyTooLarge(err, app.config.scimMaxBodyMb) ?? bodyCut(err, request) ?? err);
    if (e.internal) request.log.error({ err }, 'SCIM request failed');
    const text = stringify(e.body);
    record(request, { status: e.status, summary: summary ?? `rejected: ${e.body.detail}`, resourceType: null, resourceId: null, userName: null, error: e.body.scimType ? `${e.body.scimType}: ${e.body.detail}` : e.body.detail }, text);
    if (e.status === 401) reply.header('www-authenticate', 'Bearer realm="Ledgerline SCIM"');
    return reply.code(e.status).headers(API_HEADERS).headers(e.headers ?? {}).send(text);
  };

  /**
   * A body that stopped arriving: the client closed the connection, or sent too slowly and was
   * answered a 408 (writeScimRequestTimeout). Only the provisioning log sees this error: the
   * connection is gone. It said "aborted", as a 400 invalidSyntax.
   */
  const bodyCut = (err: unknown, request: FastifyRequest): ScimError | null => {
    if ((err as { code?: string } | null)?.code !== 'ECONNRESET' || request.raw.complete) return null;
    return timedOut.has(request.raw.socket)
      ? new ScimError(408, timeoutDetail(app.config.requestTimeoutSeconds))
      : new ScimError(400, 'The client closed the connection before the whole request body arrived', 'invalidSyntax');
  };

  app.setErrorHandler((err, request, reply) => sendError(request, reply, err));
  // A method no route takes (TRACE, PROPFIND…) on a path that exists is a 405 with Allow; it was a 404.
  app.setNotFoundHandler((request, reply) => {
    const path = scimPath(request.raw.url ?? '', app.prefix, undefined);
    const allow = allowedMethods(pathSegments(path));
    sendError(request, reply, allow ? methodNotAllowed(request.method, path, allow) : notFound(`No such endpoint ${request.url}`));
  });

  const rejectToken = (request: FastifyRequest, reply: FastifyReply, presented: boolean) => {
    const detail = presented ? 'The SCIM access token is not valid (revoked, expired or unknown)' : 'A SCIM access token is required (Authorization: Bearer …)';
    const text = stringify(errorBody(401, detail));
    record(request, { status: 401, summary: `rejected: ${presented ? 'invalid' : 'missing'} access token`, resourceType: null, resourceId: null, userName: null, error: detail }, text);
    return reply.code(401).header('www-authenticate', 'Bearer realm="Ledgerline SCIM"').headers(API_HEADERS).send(text);
  };

  app.addHook('onRequest', async (request, reply) => {
    request.scim = { started: performance.now(), actor: null };
    scimRequests.set(request.raw.socket, request.raw);
    const header = request.headers.authorization ?? '';
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    const token = m ? await verifyToken(app.db, m[1].trim()) : null;
    if (!token) return rejectToken(request, reply, Boolean(m));
    // A token verified by an earlier request: a GET checks it again in its own statement
    // or before it answers (scim.engine.ts); anything else checks it now, before its body is read.
    if (!token.confirmed) {
      const presented = { id: token.id, confirmed: false };
      if (request.method !== 'GET' && !(await confirmToken(app.db, presented))) return rejectToken(request, reply, true);
      if (!presented.confirmed) request.scim.token = presented;
    }
    request.scim.actor = { id: null, name: `SCIM (${token.name})`, source: 'scim', ip: request.ip, requestId: request.id };
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    // An id or query value with U+0000 in it (it can only arrive percent-encoded).
    if (hasEncodedNul(request.url)) {
      const token = request.scim!.token;
      if (token && !(await confirmToken(app.db, token))) return rejectToken(request, reply, true);
      return sendError(request, reply, badRequest(NUL_DETAIL, 'invalidSyntax'));
    }
    const params = request.params as { '*'?: string };
    const header = (name: string) => {
      const v = request.headers[name];
      return Array.isArray(v) ? v.join(',') : v;
    };
    let res: ScimResponse;
    try {
      res = await handleScim(
        { db: app.db, baseUrl, actor: request.scim!.actor!, token: request.scim!.token },
        {
          method: request.method,
          path: scimPath(request.raw.url ?? '', app.prefix, params['*']),
          query: request.query as Record<string, string | string[] | undefined>,
          body: request.body,
          ifMatch: header('if-match'),
          ifNoneMatch: header('if-none-match'),
        },
      );
    } catch (err) {
      if (err instanceof TokenRejected) return rejectToken(request, reply, true);
      const partial = (err as { scimResponse?: ScimResponse }).scimResponse;
      return sendError(request, reply, (err as { cause?: unknown }).cause ?? err, partial?.summary);
    }
    reply.code(res.status).headers(API_HEADERS).headers(res.headers);
    if (res.body === undefined) {
      record(request, res, null);
      reply.removeHeader('content-type');
      return reply.send();
    }
    const pieces = responsePieces(res.body);
    let length = 0;
    for (const p of pieces) length += p.length;
    if (length <= LARGE_BODY) {
      const text = pieces.join('');
      record(request, res, text);
      return reply.send(text);
    }
    // A large answer (a group of 100,000 members: 21 MB in about 40 pieces) is never one string, nor
    // held whole as bytes: its length in bytes is counted a piece at a time, with a turn of the event
    // loop after each large piece, and each piece is encoded only when the socket has taken the one
    // before (a client that hangs up stops it), so other requests are answered in between.
    record(request, res, beginning(pieces, BODY_LIMIT + 1), length);
    let size = 0;
    for (const p of pieces) {
      size += Buffer.byteLength(p, 'utf8');
      if (p.length > 64 * 1024) await nextTurn();
    }
    reply.header('content-length', size);
    // HEAD: no pieces encoded. Fastify's HEAD route keeps the Content-Length set for a stream (it sets one from a text, 0 for none).
    if (request.method === 'HEAD') return reply.send(Readable.from([]));
    return reply.send(Readable.from(encodedOneByOne(pieces), { objectMode: false }));
  };

  // SCIM answers machines with JSON: the browser-oriented security headers (CSP and friends) are
  // skipped here; the two that matter for an API are in API_HEADERS.
  const config = { securityHeaders: false };
  // HEAD comes with GET (Fastify's exposeHeadRoutes): the engine answers it as a GET, without the body.
  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
  app.route({ method: methods, url: '/', handler, config });
  app.route({ method: methods, url: '/*', handler, config });
}
