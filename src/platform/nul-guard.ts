// U+0000 in input. PostgreSQL refuses it in text ("invalid byte sequence for encoding UTF8"), which
// surfaced as a 500 for any form field or search box that carried one; SQLite stored it. The JSON
// API refuses it up front on both databases, naming the field so the form can show the error next
// to it, and since session 34 a lone UTF-16 surrogate as well (below). SCIM uses the same checks and
// answers in the SCIM error format (src/scim/scim.plugin.ts).
import type { FastifyInstance } from 'fastify';

const MESSAGE = 'Contains a NUL character (U+0000), which is not allowed';

/** A URL whose path or query carries U+0000 (it can only arrive percent-encoded). */
export const hasEncodedNul = (url: string): boolean => /%00/i.test(url);

/** Dotted path of the first string or key that is `bad` ('body' for a bare string), or null. */
function pathWhere(bad: (text: string) => boolean, value: unknown, path = '', depth = 0): string | null {
  if (typeof value === 'string') return bad(value) ? path || 'body' : null;
  if (depth > 64 || !value || typeof value !== 'object') return null; // SCIM refuses deeper bodies before parsing
  for (const [k, v] of Object.entries(value)) {
    const here = path ? `${path}.${k}` : k;
    if (bad(k)) return here.replaceAll('\u0000', '␀');
    const found = pathWhere(bad, v, here, depth + 1);
    if (found) return found;
  }
  return null;
}

/** Dotted path of the first string or key holding U+0000 ('body' for a bare string), or null. */
export const nulPath = (value: unknown): string | null => pathWhere((text) => text.includes('\u0000'), value);

/** String.prototype.isWellFormed and toWellFormed (Node 20; TypeScript lists them from ES2024, this project's lib is ES2023). */
type WellFormable = string & { isWellFormed(): boolean; toWellFormed(): string };
/** False when `text` holds a lone UTF-16 surrogate. */
export const isWellFormed = (text: string): boolean => (text as WellFormable).isWellFormed();
/** `text` with each lone UTF-16 surrogate replaced by U+FFFD. */
export const toWellFormed = (text: string): string => (text as WellFormable).toWellFormed();

/**
 * Dotted path of the first string or key holding a lone UTF-16 surrogate (JSON can carry one escaped,
 * `"\udc00"`), or null. Such text is not Unicode: PostgreSQL refuses it as JSON ("Unicode low
 * surrogate must follow a high surrogate"), so one stored value broke every filter that reads the
 * resource's JSON (a 500 for every client), and SQLite would store three bytes of invalid UTF-8.
 */
export const loneSurrogatePath = (value: unknown): string | null => pathWhere((text) => !isWellFormed(text), value);

const NOT_UNICODE = 'Is not valid Unicode text: it holds half of a UTF-16 surrogate pair';

/**
 * The JSON API refuses a body holding U+0000 or a lone surrogate, naming the field. A lone surrogate
 * was stored altered: as U+FFFD on PostgreSQL, as three bytes of invalid UTF-8 on SQLite (read back as
 * three U+FFFD), so two different names could collide on one database and not on the other, and a
 * usage record's idempotency key came back unreadable (a 500 on SQLite; on PostgreSQL the record was
 * stored and answered as a duplicate, and the next one with another such key was dropped as one).
 */
export function refuseUnstorableText(app: FastifyInstance): void {
  app.addHook('preValidation', async (request, reply) => {
    const url = request.raw.url ?? '';
    if (!url.startsWith('/api/')) return;
    if (hasEncodedNul(url)) {
      return reply.code(400).send({ error: { code: 'invalid', message: `The address ${MESSAGE.charAt(0).toLowerCase()}${MESSAGE.slice(1)}`, requestId: request.id } });
    }
    const nul = nulPath(request.body);
    const field = nul ?? loneSurrogatePath(request.body);
    if (field) return reply.code(400).send({ error: { code: 'invalid', message: 'Some fields need attention', fields: { [field]: nul ? MESSAGE : NOT_UNICODE }, requestId: request.id } });
  });
}
