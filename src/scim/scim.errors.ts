// SCIM error documents (RFC 7644 §3.12). Thrown by the SCIM engine; the SCIM plugin's error handler
// and the engine's `handle()` turn them (and the app's typed errors) into the SCIM error format.
import { AppError } from '../platform/errors.ts';
import { URN } from './scim.schemas.ts';

export type ScimType =
  | 'invalidFilter'
  | 'tooMany'
  | 'uniqueness'
  | 'mutability'
  | 'invalidSyntax'
  | 'invalidPath'
  | 'noTarget'
  | 'invalidValue'
  | 'invalidVers'
  | 'sensitive'
  | 'invalidCursor'
  | 'expiredCursor';

export class ScimError extends Error {
  readonly status: number;
  readonly scimType?: ScimType;
  /** Response headers the error needs (a 405's Allow). */
  readonly headers?: Record<string, string>;
  constructor(status: number, detail: string, scimType?: ScimType, headers?: Record<string, string>) {
    super(detail);
    this.name = 'ScimError';
    this.status = status;
    this.scimType = scimType;
    this.headers = headers;
  }
}

export const badRequest = (detail: string, scimType: ScimType = 'invalidValue') => new ScimError(400, detail, scimType);
export const notFound = (detail: string) => new ScimError(404, detail);
export const conflict = (detail: string) => new ScimError(409, detail, 'uniqueness');
/** A 405 with the Allow header RFC 9110 §15.5.6 requires: the methods the path does take. */
export const methodNotAllowed = (method: string, path: string, allow: string) =>
  new ScimError(405, `${method} is not allowed on ${path}; it takes ${allow}`, undefined, { allow });

export interface ScimErrorBody {
  schemas: string[];
  status: string;
  scimType?: ScimType;
  detail: string;
}

export function errorBody(status: number, detail: string, scimType?: ScimType): ScimErrorBody {
  const body: ScimErrorBody = { schemas: [URN.error], status: String(status), detail };
  if (scimType) body.scimType = scimType;
  return body;
}

/**
 * The 413 for a body over SCIM_MAX_BODY_MB (config.scimMaxBodyMb), which the SCIM plugin passes to
 * the body parser. Okta's PUT of a group carries the whole member list, 80–115 bytes a member with
 * their display names: the default 10 MB holds about 100,000 members (docs/scim.md); a tenant with
 * larger groups raises it. Only the plugin meets this error: the body is read before the engine runs.
 */
export function bodyTooLarge(err: unknown, maxBodyMb: number): ScimError | null {
  const e = err as { statusCode?: number; code?: string } | null;
  return e?.statusCode === 413 || e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? new ScimError(413, `Request body is too large (${maxBodyMb} MB at most)`) : null;
}

/** Any thrown value → status and SCIM error body. Internal errors keep their details out of the response. */
export function toScimError(err: unknown): { status: number; body: ScimErrorBody; internal: boolean; headers?: Record<string, string> } {
  if (err instanceof ScimError) return { status: err.status, body: errorBody(err.status, err.message, err.scimType), internal: false, headers: err.headers };
  if (err instanceof AppError) {
    const scimType: ScimType | undefined = err.status === 409 ? 'uniqueness' : err.status === 400 ? 'invalidValue' : undefined;
    return { status: err.status, body: errorBody(err.status, err.message, scimType), internal: err.status >= 500 };
  }
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e?.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    return { status: e.statusCode, body: errorBody(e.statusCode, e.message || 'Bad request', e.statusCode === 400 ? 'invalidSyntax' : undefined), internal: false };
  }
  return { status: 500, body: errorBody(500, 'Internal server error'), internal: true };
}
