// Shared SAML state in the database, so any node can finish what another started:
//  - AuthnRequest ids we issued (node-saml's CacheProvider), consumed atomically by the ACS;
//  - consumed assertion ids (replay cache), kept until NotOnOrAfter + clock skew.
import { hash } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { CacheItem, CacheProvider } from '@node-saml/node-saml';
import type { DB } from '../db/schema.ts';
import { nowIso } from '../platform/time.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** How long a person may take at the IdP (MFA, password reset) before the request id lapses. */
export const REQUEST_TTL_MS = 30 * 60_000;

/**
 * node-saml's cache over saml_requests. saveAsync runs when /Login builds an AuthnRequest (the value
 * is its IssueInstant); getAsync answers whether an unexpired id exists. removeAsync does nothing:
 * the ACS consumes the id itself with one DELETE whose row count decides, so two nodes racing on the
 * same response cannot both succeed.
 */
export function requestCache(db: Db, returnTo = '/'): CacheProvider {
  return {
    async saveAsync(key: string, value: string): Promise<CacheItem | null> {
      const now = Date.now();
      await db
        .insertInto('saml_requests')
        .values({ id: key, return_to: returnTo, created_at: value || new Date(now).toISOString(), expires_at: new Date(now + REQUEST_TTL_MS).toISOString() })
        .execute();
      return { value, createdAt: now };
    },
    async getAsync(key: string): Promise<string | null> {
      const row = await db.selectFrom('saml_requests').select(['created_at']).where('id', '=', key).where('expires_at', '>', nowIso()).executeTakeFirst();
      return row?.created_at ?? null;
    },
    async removeAsync(key: string | null): Promise<string | null> {
      return key;
    },
  };
}

/** Consumes an issued request id: its return path on the first call, null if unknown, expired or already used. */
export async function consumeRequest(db: Db, id: string): Promise<{ returnTo: string } | null> {
  const row = await db.deleteFrom('saml_requests').where('id', '=', id).where('expires_at', '>', nowIso()).returning(['return_to']).executeTakeFirst();
  return row ? { returnTo: row.return_to } : null;
}

export async function discardRequest(db: Db, id: string): Promise<void> {
  await db.deleteFrom('saml_requests').where('id', '=', id).execute();
}

const assertionKey = (issuer: string, assertionId: string) => hash('sha256', `${issuer}\n${assertionId}`);

export async function assertionSeen(db: Db, issuer: string, assertionId: string): Promise<boolean> {
  const row = await db.selectFrom('saml_assertions').select('key').where('key', '=', assertionKey(issuer, assertionId)).executeTakeFirst();
  return Boolean(row);
}

/** Records an assertion as consumed; false when it already was (a replay, possibly on another node). */
export async function markAssertionConsumed(db: Db, issuer: string, assertionId: string, keepUntilMs: number): Promise<boolean> {
  // ON CONFLICT DO NOTHING rather than catching the violation: a failed insert would abort a
  // surrounding PostgreSQL transaction.
  const res = await db
    .insertInto('saml_assertions')
    .values({ key: assertionKey(issuer, assertionId), assertion_id: assertionId.slice(0, 200), issuer: issuer.slice(0, 500), consumed_at: nowIso(), expires_at: new Date(keepUntilMs).toISOString() })
    .onConflict((oc) => oc.column('key').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
}

/** Drops request ids and replay entries that can no longer matter. */
export async function pruneSamlCache(db: Db): Promise<void> {
  const now = nowIso();
  await db.deleteFrom('saml_requests').where('expires_at', '<=', now).execute();
  await db.deleteFrom('saml_assertions').where('expires_at', '<=', now).execute();
}
