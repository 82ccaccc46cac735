// Browser security headers (CSP, frame, referrer, HSTS when https…) from helmet, computed once at
// start-up. @fastify/helmet rebuilds helmet's middleware, re-parsing every CSP directive, on each
// request: ~18% of the CPU of a small API call here. Our configuration has no per-request parts
// (no nonces), so the headers are the same for every response and are set from one object.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** false: this route sets its own headers (the SCIM API) and gets none of these. */
    securityHeaders?: boolean;
  }
}

/** The headers helmet's middleware would set for `options` (it has no per-request parts). */
export function helmetHeaders(options: HelmetOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  const res = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  let finished = false;
  helmet(options)({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
    finished = true;
  });
  if (!finished) throw new Error('helmet did not produce its headers synchronously');
  return headers;
}

/**
 * Sets the headers on every response except routes with `config.securityHeaders === false`, and
 * answers on no route under /ResourceServer/ (SCIM's 404s and 405s: a machine's API, as its routes).
 */
export function securityHeaders(app: FastifyInstance, options: HelmetOptions): void {
  const headers = helmetHeaders(options);
  app.addHook('onRequest', (request, reply, done) => {
    if (request.routeOptions.config?.securityHeaders !== false && !(request.is404 && request.url.startsWith('/ResourceServer/'))) reply.headers(headers);
    done();
  });
}
