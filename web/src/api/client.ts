// The one way the UI talks to the server: same-origin JSON with the session cookie, the CSRF
// token from GET /api/me on every write, and errors turned into ApiError with field messages.
// A 401 anywhere means the session ended: we go to the login page and come back afterwards.

export interface ApiErrorBody {
  error: { code: string; message: string; fields?: Record<string, string>; requestId?: string };
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string>;
  readonly requestId?: string;
  constructor(status: number, code: string, message: string, fields?: Record<string, string>, requestId?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields ?? {};
    this.requestId = requestId;
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | null | undefined>;
  /** Login and the first "who am I" must not bounce to /login on 401. */
  noAuthRedirect?: boolean;
  signal?: AbortSignal;
}

let csrfToken: string | null = null;

/** Fired on window when the server answers 403. */
export const FORBIDDEN_EVENT = 'ledgerline:forbidden';

/** Set from GET /api/me; sent as x-csrf-token on every write. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

export function withQuery(path: string, query?: RequestOptions['query']): string {
  if (!query) return path;
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null || v === '') continue;
    params.set(k, String(v));
  }
  const s = params.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

/** Where we are now, as a same-origin path to come back to after signing in. */
export function currentReturnTo(): string {
  const { pathname, search, hash } = window.location;
  return pathname + search + hash;
}

export function loginUrl(returnTo = currentReturnTo()): string {
  if (!returnTo || returnTo.startsWith('/login')) return '/login';
  return `/login?returnTo=${encodeURIComponent(returnTo)}`;
}

async function ensureCsrfToken(): Promise<void> {
  if (csrfToken) return;
  const res = await fetch('/api/me', { credentials: 'same-origin', headers: { accept: 'application/json', 'x-ledgerline-client': 'ui' } });
  if (res.ok) {
    const me = (await res.json()) as { csrfToken?: string };
    csrfToken = me.csrfToken ?? null;
  }
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const method = opts.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json', 'x-ledgerline-client': 'ui' };
  const isWrite = method !== 'GET';
  if (isWrite) {
    if (!opts.noAuthRedirect) await ensureCsrfToken();
    if (csrfToken) headers['x-csrf-token'] = csrfToken;
  }
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: Response;
  try {
    res = await fetch(withQuery(path, opts.query), { method, headers, body, credentials: 'same-origin', signal: opts.signal });
  } catch (err) {
    if ((err as Error).name === 'AbortError') throw err;
    throw new ApiError(0, 'network', 'The server could not be reached. Check your connection and try again.');
  }
  if (res.status === 401 && !opts.noAuthRedirect) {
    csrfToken = null;
    if (!window.location.pathname.startsWith('/login')) window.location.assign(loginUrl());
    throw new ApiError(401, 'unauthorized', 'Your session has ended. Sign in again.');
  }
  // A 403 usually means our permissions changed under us: let the session re-read them.
  if (res.status === 403) window.dispatchEvent(new Event(FORBIDDEN_EVENT));
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = undefined;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = undefined;
    }
  }
  if (!res.ok) {
    const e = (data as ApiErrorBody | undefined)?.error;
    if (e) throw new ApiError(res.status, e.code, e.message, e.fields, e.requestId);
    throw new ApiError(res.status, 'http_' + res.status, res.status >= 500 ? 'Something went wrong on the server. Try again.' : `Request failed (${res.status}).`);
  }
  return data as T;
}

export const get = <T>(path: string, query?: RequestOptions['query'], signal?: AbortSignal) => api<T>(path, { query, signal });
export const post = <T>(path: string, body?: unknown) => api<T>(path, { method: 'POST', body: body ?? {} });
export const patch = <T>(path: string, body: unknown) => api<T>(path, { method: 'PATCH', body });
export const put = <T>(path: string, body: unknown) => api<T>(path, { method: 'PUT', body });
export const del = <T = void>(path: string) => api<T>(path, { method: 'DELETE' });

/** A sentence for a toast or banner, with the reference id when the server gave one. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.requestId ? `${err.message} (reference ${err.requestId})` : err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
