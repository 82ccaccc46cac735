// SCIM access tokens: random 256-bit bearer tokens stored only as sha256 hashes. Several may be
// active at once, so a token can be rotated without downtime: refresh issues a new token and gives
// the old ones a grace period (expires_at) instead of cutting them off.
import { hash, randomBytes, randomUUID } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Invalid, NotFound } from '../platform/errors.ts';
import { addSeconds, nowIso } from '../platform/time.ts';
import { tryWriteTransaction } from '../db/write-lock.ts';
import { isPostgres } from '../db/dialect.ts';
import { precompiled } from '../db/precompiled.ts';
import { byKeyList, Coalescer } from '../db/coalesce.ts';

export const hashToken = (token: string) => hash('sha256', token);

// Usable tokens already verified, by hash, per database handle. An entry never makes a request
// valid: it only lets the request check its token in a statement it runs anyway, by id instead of by
// hash. The reads IdPs send most (GET by id, `userName eq`) check it in their own statement, other GETs
// before they answer (src/scim/scim.engine.ts), and every other request before its body is read (the
// hook in scim.plugin.ts): one statement instead of two for those reads (on PostgreSQL a round trip,
// on SQLite a read transaction), and a revocation, from this process, another one or the CLI, takes
// effect on the very next request. Expiry is checked on every request. (Until session 15 a SQLite
// entry counted while `pragma data_version` and `total_changes()` were unchanged since it was read; that
// pragma is a read transaction of its own, 5.5% of a GET's CPU in a profile.)
const MAX_VERIFIED = 64;
/** The advisory lock (PostgreSQL) that issuing, refreshing and clearing tokens take in turn (the migrations use 726354). */
const TOKEN_SET_LOCK = 726355;
const verified = new WeakMap<object, Map<string, TokenRow>>();
function verifiedTokens(db: object) {
  let m = verified.get(db);
  if (!m) {
    m = new Map();
    verified.set(db, m);
  }
  return m;
}

export interface TokenItem {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  /** active | expiring (in its grace period) | expired | revoked */
  state: 'active' | 'expiring' | 'expired' | 'revoked';
}

type Row = { id: string; name: string; prefix: string; created_at: string; last_used_at: string | null; expires_at: string | null; revoked_at: string | null };
const COLS = ['id', 'name', 'prefix', 'created_at', 'last_used_at', 'expires_at', 'revoked_at'] as const;

function toItem(r: Row, now = nowIso()): TokenItem {
  const state = r.revoked_at ? 'revoked' : r.expires_at ? (r.expires_at <= now ? 'expired' : 'expiring') : 'active';
  return { id: r.id, name: r.name, prefix: r.prefix, createdAt: r.created_at, lastUsedAt: r.last_used_at, expiresAt: r.expires_at, revokedAt: r.revoked_at, state };
}

/**
 * Issuing, refreshing and clearing tokens take turns (PostgreSQL; SQLite runs one writer at a time).
 * A refresh expires every token it can see, and a token issued by a transaction still under way is not
 * one of them: two refreshes at once each left their own token without an expiry.
 */
async function takeTurns(trx: Transaction<DB>): Promise<void> {
  if (isPostgres(trx)) await sql`select pg_advisory_xact_lock(${TOKEN_SET_LOCK})`.execute(trx);
}

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

function checkName(name: string | undefined): string {
  const n = (name ?? '').trim() || 'SCIM access token';
  if (n.length > 100) throw Invalid('The token name is too long (100 characters at most)', { name: 'Shorten it to 100 characters or fewer.' });
  // `scim-token list` prints a token a line, and the audit summary quotes the name: a line break or
  // control character there would forge a line or hide what follows.
  if (CONTROL.test(n)) throw Invalid('The token name holds a line break or a control character', { name: 'Use one line of text, without tabs or control characters.' });
  return n;
}

export async function createToken(db: Kysely<DB>, actor: Actor, name?: string): Promise<{ token: string; item: TokenItem }> {
  const token = 'scim_' + randomBytes(32).toString('base64url');
  const row: Row = { id: randomUUID(), name: checkName(name), prefix: token.slice(0, 10), created_at: nowIso(), last_used_at: null, expires_at: null, revoked_at: null };
  await db.transaction().execute(async (trx) => {
    await takeTurns(trx);
    await trx.insertInto('scim_tokens').values({ ...row, token_hash: hashToken(token) }).execute();
    await recordAudit(trx, actor, { action: 'scim_token.create', targetType: 'scim_token', targetId: row.id, targetName: row.name, summary: `created SCIM access token ${row.name} (${row.prefix}…)` });
  });
  return { token, item: toItem(row) };
}

export async function listTokens(db: Kysely<DB>): Promise<TokenItem[]> {
  const rows = await db.selectFrom('scim_tokens').select(COLS).orderBy('created_at', 'desc').orderBy('id').execute();
  const now = nowIso();
  return rows.map((r) => toItem(r, now));
}

export async function revokeToken(db: Kysely<DB>, actor: Actor, id: string): Promise<TokenItem> {
  return db.transaction().execute(async (trx) => {
    // Locked (PostgreSQL): of two revocations at once, the second sees the first and records nothing.
    let q = trx.selectFrom('scim_tokens').select(COLS).where('id', '=', id);
    if (isPostgres(trx)) q = q.forUpdate();
    const row = await q.executeTakeFirst();
    if (!row) throw NotFound('No such SCIM access token (GET /api/scim/tokens and `ledgerline scim-token list` show their ids)');
    if (!row.revoked_at) {
      row.revoked_at = nowIso();
      await trx.updateTable('scim_tokens').set({ revoked_at: row.revoked_at }).where('id', '=', id).execute();
      await recordAudit(trx, actor, { action: 'scim_token.revoke', targetType: 'scim_token', targetId: id, targetName: row.name, summary: `revoked SCIM access token ${row.name} (${row.prefix}…)` });
    }
    return toItem(row);
  });
}

/** New token; every other usable token stops working after `graceHours` (0 = at once). */
export async function refreshTokens(db: Kysely<DB>, actor: Actor, graceHours: number, name?: string): Promise<{ token: string; item: TokenItem }> {
  if (!Number.isFinite(graceHours) || graceHours < 0 || graceHours > 24 * 30) throw Invalid('The grace period must be between 0 and 720 hours', { graceHours: 'Between 0 and 720' });
  const token = 'scim_' + randomBytes(32).toString('base64url');
  const now = nowIso();
  const row: Row = { id: randomUUID(), name: checkName(name), prefix: token.slice(0, 10), created_at: now, last_used_at: null, expires_at: null, revoked_at: null };
  await db.transaction().execute(async (trx) => {
    await takeTurns(trx);
    const until = addSeconds(now, graceHours * 3600);
    const others = await trx.selectFrom('scim_tokens').select(['id', 'expires_at']).where('revoked_at', 'is', null).execute();
    for (const o of others) {
      if (graceHours === 0) await trx.updateTable('scim_tokens').set({ revoked_at: now }).where('id', '=', o.id).execute();
      else if (!o.expires_at || o.expires_at > until) await trx.updateTable('scim_tokens').set({ expires_at: until }).where('id', '=', o.id).execute();
    }
    await trx.insertInto('scim_tokens').values({ ...row, token_hash: hashToken(token) }).execute();
    await recordAudit(trx, actor, {
      action: 'scim_token.refresh',
      targetType: 'scim_token',
      targetId: row.id,
      targetName: row.name,
      summary: `refreshed the SCIM access token (${row.prefix}…); ${others.length} older token(s) ${graceHours === 0 ? 'revoked' : `stop working after ${graceHours} h`}`,
    });
  });
  return { token, item: toItem(row) };
}

/** Revokes every token: SCIM provisioning stops until a new token is created and entered in the IdP. */
export async function clearTokens(db: Kysely<DB>, actor: Actor): Promise<number> {
  return db.transaction().execute(async (trx) => {
    await takeTurns(trx);
    const now = nowIso();
    const res = await trx.updateTable('scim_tokens').set({ revoked_at: now }).where('revoked_at', 'is', null).executeTakeFirst();
    const n = Number(res.numUpdatedRows ?? 0);
    await recordAudit(trx, actor, { action: 'scim_token.clear', targetType: 'scim_token', summary: `cleared all SCIM access tokens (${n} revoked)` });
    return n;
  });
}

type TokenRow = { id: string; name: string; expires_at: string | null; revoked_at: string | null };
const tokenByHash = precompiled<TokenRow>((db, arg) =>
  db.selectFrom('scim_tokens').select(['id', 'name', 'expires_at', 'revoked_at']).where('token_hash', '=', arg(0)),
);

// last_used_at is a hint for admins, not a security control: write it at most once a minute per token
// per process, so each SCIM request does not turn into a write.
const lastTouched = new Map<string, number>();
const TOUCH_EVERY_MS = 60_000;

/** A token the request presented that was verified earlier but not yet for this request. */
export interface PresentedToken {
  id: string;
  confirmed: boolean;
}

/** Thrown when a request's token turns out to be unusable after all: the answer is a 401. */
export class TokenRejected extends Error {
  constructor() {
    super('The SCIM access token is not valid (revoked, expired or unknown)');
  }
}

/** SQL: whether the token with this id is usable at `now` (for statements that check the request's token themselves). */
export const tokenUsable = (id: unknown, now: unknown) =>
  sql<boolean>`exists (select 1 from scim_tokens t where t.id = ${id} and t.revoked_at is null and (t.expires_at is null or t.expires_at > ${now}))`;

// The checks of the requests read in one turn of the event loop share one statement (on PostgreSQL
// every write request checks its token before its body is read: a round trip each otherwise), one
// statement for each size of id list (padKeys in src/db/coalesce.ts).
const usableTokens = byKeyList<Kysely<DB>, { id: string }>((size) =>
  precompiled<{ id: string }>((db, arg) =>
    db
      .selectFrom('scim_tokens')
      .select('id')
      .where('id', 'in', Array.from({ length: size }, (_, i) => arg(i)))
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', arg(size))])),
  ),
);
const tokenChecks = new Coalescer<Kysely<DB>, { id: string }>((db, _group, ids) => usableTokens(db, ids, nowIso()), (r) => r.id);

/** Checks a presented token against the database (once per request); false when it is no longer usable. */
export async function confirmToken(db: Kysely<DB>, token: PresentedToken): Promise<boolean> {
  if (token.confirmed) return true;
  const usable = await tokenChecks.load(db, '', token.id);
  if (!usable.length) {
    forgetToken(db, token.id);
    return false;
  }
  token.confirmed = true;
  return true;
}

/** Drops a token this process had verified (it was found unusable). */
export function forgetToken(db: Kysely<DB>, id: string): void {
  const cache = verifiedTokens(db);
  for (const [tokenHash, row] of cache) if (row.id === id) cache.delete(tokenHash);
}

/**
 * The token's id and name when it is usable; null otherwise. `confirmed` is false when it was
 * verified by an earlier request: the request must then check it (confirmToken, or a statement with
 * tokenUsable) before it answers or writes anything.
 */
export async function verifyToken(db: Kysely<DB>, token: string): Promise<{ id: string; name: string; confirmed: boolean } | null> {
  if (!token || token.length > 200) return null;
  const tokenHash = hashToken(token);
  const cache = verifiedTokens(db);
  let row = cache.get(tokenHash);
  const confirmed = !row;
  if (!row) {
    [row] = await tokenByHash(db, tokenHash);
    if (row && !row.revoked_at) {
      if (cache.size >= MAX_VERIFIED) cache.clear();
      cache.set(tokenHash, row);
    }
  }
  if (!row || row.revoked_at) return null;
  const now = nowIso();
  if (row.expires_at && row.expires_at <= now) {
    cache.delete(tokenHash);
    return null;
  }
  const last = lastTouched.get(row.id) ?? 0;
  if (Date.now() - last > TOUCH_EVERY_MS) {
    lastTouched.set(row.id, Date.now());
    // Never wait for the write lock over a hint: if another writer holds it, try on a later request.
    const touched = await tryWriteTransaction(db, (trx) => trx.updateTable('scim_tokens').set({ last_used_at: now }).where('id', '=', row.id).where('revoked_at', 'is', null).execute());
    if (!touched.ran) lastTouched.delete(row.id);
  }
  return { id: row.id, name: row.name, confirmed };
}
