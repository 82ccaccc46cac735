// Cursor paging for /api lists: opaque base64url cursors over a stable sort key.
// A cursor comes back from the client, so its decoded value is checked against the shape the list
// encodes before any of it reaches SQL: a forged `[{}]`, `[[]]`, `["x"]` for a number, or text with
// a NUL or a lone surrogate was a 500 from the database driver.
import { Invalid } from './errors.ts';
import { isWellFormed } from './nul-guard.ts';

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 200;

/** One element of a sort key: text (names, codes, ISO times, uuids) or a safe integer (serial ids). */
export type CursorPart = 'text' | 'integer';
type PartValue<P extends CursorPart> = P extends 'text' ? string : number;
export type CursorKey<S extends readonly CursorPart[]> = { -readonly [I in keyof S]: PartValue<S[I]> };

export function encodeCursor(value: unknown[]): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Text a cursor may carry to SQL: no NUL (PostgreSQL refuses it) and no lone UTF-16 surrogate. */
export const isCursorText = (v: unknown): v is string => typeof v === 'string' && !v.includes('\u0000') && isWellFormed(v);

const fits = (part: CursorPart, v: unknown) => (part === 'text' ? isCursorText(v) : Number.isSafeInteger(v));

/**
 * The sort key a cursor holds, or null for the first page; a 400 unless it is an array of exactly
 * `shape.length` elements, each text or a safe integer as `shape` says.
 */
export function decodeCursor<const S extends readonly CursorPart[]>(cursor: string | undefined, shape: S): CursorKey<S> | null {
  if (!cursor) return null;
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === shape.length && shape.every((part, i) => fits(part, v[i]))) return v as CursorKey<S>;
  } catch {
    /* fall through */
  }
  throw Invalid('The cursor is not valid; start again from the first page', { cursor: 'Not a valid cursor' });
}

export function clampLimit(limit: number | string | undefined): number {
  const n = Number(limit ?? DEFAULT_LIMIT);
  if (!Number.isFinite(n) || n < 1) return DEFAULT_LIMIT;
  return Math.min(Math.floor(n), MAX_LIMIT);
}

/** Given limit+1 rows, returns the page and the cursor for the next one. */
export function page<T>(rows: T[], limit: number, keyOf: (row: T) => unknown[]): { items: T[]; nextCursor: string | null } {
  const items = rows.slice(0, limit);
  return { items, nextCursor: rows.length > limit ? encodeCursor(keyOf(items[items.length - 1])) : null };
}
