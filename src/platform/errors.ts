// Typed errors thrown by services. Each edge maps them: JSON problem bodies under /api,
// SCIM error documents under the SCIM base, a readable page for SAML.
export type ErrorCode =
  | 'invalid'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'precondition_failed'
  | 'payload_too_large'
  | 'rate_limited'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  precondition_failed: 412,
  payload_too_large: 413,
  rate_limited: 429,
  internal: 500,
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Field name → message, for form errors shown next to the field. */
  readonly fields?: Record<string, string>;
  constructor(code: ErrorCode, message: string, fields?: Record<string, string>) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = STATUS[code];
    this.fields = fields;
  }
}

export const Invalid = (message: string, fields?: Record<string, string>) => new AppError('invalid', message, fields);
export const NotFound = (message = 'Not found') => new AppError('not_found', message);
export const Conflict = (message: string, fields?: Record<string, string>) => new AppError('conflict', message, fields);
export const Forbidden = (message = 'You do not have permission to do that') => new AppError('forbidden', message);
export const Unauthorized = (message = 'Sign in to continue') => new AppError('unauthorized', message);
export const PreconditionFailed = (message: string) => new AppError('precondition_failed', message);
export const RateLimited = (message = 'Too many attempts; wait a minute and try again') => new AppError('rate_limited', message);

/** True for unique-constraint violations on either database. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE' || e?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
