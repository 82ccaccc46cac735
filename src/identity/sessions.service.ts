// Sessions live in the database (any node can serve any request). The cookie holds a random
// 256-bit value; only its sha256 is stored. Idle and absolute expiry are enforced on every lookup;
// a user who is not Active has no usable session.
import { hash, randomBytes } from 'node:crypto';
import type { FastifyReply } from 'fastify';
import type { Kysely, Transaction } from 'kysely';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import { nowIso } from '../platform/time.ts';

type Db = Kysely<DB> | Transaction<DB>;

export const SESSION_COOKIE = 'll_session';

const hashOf = (value: string) => hash('sha256', value);

export interface NewSession {
  userId: string;
  method: 'password' | 'saml';
  ssoInfo?: Record<string, unknown> | null;
  ip?: string | null;
  userAgent?: string | null;
}

export async function createSession(db: Db, config: Config, s: NewSession): Promise<string> {
  const value = randomBytes(32).toString('base64url');
  const now = nowIso();
  await db
    .insertInto('sessions')
    .values({
      id_hash: hashOf(value),
      user_id: s.userId,
      csrf_token: randomBytes(24).toString('base64url'),
      method: s.method,
      sso_info: s.ssoInfo ? JSON.stringify(s.ssoInfo) : null,
      ip: s.ip ?? null,
      user_agent: s.userAgent?.slice(0, 300) ?? null,
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(Date.now() + config.sessionAbsoluteHours * 3600_000).toISOString(),
    })
    .execute();
  return value;
}

export function setSessionCookie(reply: FastifyReply, config: Config, value: string): void {
  reply.setCookie(SESSION_COOKIE, value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: config.secureCookies,
    maxAge: config.sessionAbsoluteHours * 3600,
  });
}

export function clearSessionCookie(reply: FastifyReply, config: Config): void {
  reply.clearCookie(SESSION_COOKIE, { path: '/', httpOnly: true, sameSite: 'lax', secure: config.secureCookies });
}

export interface LiveSession {
  idHash: string;
  csrfToken: string;
  method: string;
  ssoInfo: Record<string, unknown> | null;
  user: { id: string; user_name: string; display_name: string | null; email: string | null; source: string; status: string; role_id: string | null; time_zone: string; locale: string };
}

/** The live session behind a cookie value, or null (unknown, expired, idle too long, user not Active). */
export async function findSession(db: Db, config: Config, value: string | undefined): Promise<LiveSession | null> {
  if (!value || value.length > 100) return null;
  const idHash = hashOf(value);
  const row = await db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select([
      's.id_hash', 's.csrf_token', 's.method', 's.sso_info', 's.last_seen_at', 's.expires_at',
      'u.id', 'u.user_name', 'u.display_name', 'u.email', 'u.source', 'u.status', 'u.role_id', 'u.time_zone', 'u.locale',
    ])
    .where('s.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row) return null;
  const now = Date.now();
  const idleLimit = Date.parse(row.last_seen_at) + config.sessionIdleMinutes * 60_000;
  if (now >= Date.parse(row.expires_at) || now >= idleLimit || row.status !== 'active') {
    await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
    return null;
  }
  // Refresh the idle clock at most once a minute: one write per minute per session, not per request.
  if (now - Date.parse(row.last_seen_at) > 60_000) {
    await db.updateTable('sessions').set({ last_seen_at: nowIso() }).where('id_hash', '=', idHash).execute();
  }
  return {
    idHash,
    csrfToken: row.csrf_token,
    method: row.method,
    ssoInfo: row.sso_info ? JSON.parse(row.sso_info) : null,
    user: {
      id: row.id, user_name: row.user_name, display_name: row.display_name, email: row.email, source: row.source,
      status: row.status, role_id: row.role_id, time_zone: row.time_zone, locale: row.locale,
    },
  };
}

export async function endSession(db: Db, value: string | undefined): Promise<LiveSession['ssoInfo'] | null> {
  if (!value) return null;
  const row = await db.deleteFrom('sessions').where('id_hash', '=', hashOf(value)).returning(['sso_info']).executeTakeFirst();
  return row?.sso_info ? JSON.parse(row.sso_info) : null;
}

export async function endSessionByHash(db: Db, idHash: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', idHash).execute();
}

/** Ends every session of a user; returns how many ended. */
export async function endSessionsForUser(db: Db, userId: string): Promise<number> {
  const res = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
}

/** Sessions of a user that are still usable: within the absolute expiry and the idle limit. */
export async function countSessionsForUser(db: Db, userId: string, idleMinutes: number): Promise<number> {
  const idleSince = new Date(Date.now() - idleMinutes * 60_000).toISOString();
  const r = await db
    .selectFrom('sessions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', userId)
    .where('expires_at', '>', nowIso())
    .where('last_seen_at', '>', idleSince)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** Removes expired sessions; called periodically. */
export async function pruneSessions(db: Db): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<', nowIso()).execute();
}
