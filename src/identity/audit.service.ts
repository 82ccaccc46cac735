// The audit log: every change to users, roles, role groups, settings, tokens and billing data, and
// every sign-in attempt. Writes join the caller's transaction so a rolled-back change leaves no entry.
// Secrets never reach it: details are passed through redact() first.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { nowIso } from '../platform/time.ts';

export interface AuditEntry {
  /** dotted verb, e.g. "user.create", "role_group.update", "auth.login_failed" */
  action: string;
  targetType?: string;
  targetId?: string | null;
  targetName?: string | null;
  /** A sentence a person reads: "created user alice@acme.com". */
  summary: string;
  details?: Record<string, unknown>;
}

const SECRET_KEY = /pass(word)?|secret|token|hash|private|cookie|authorization|samlresponse/i;

export function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, SECRET_KEY.test(k) ? '[redacted]' : redact(v)]));
  }
  return value;
}

export async function recordAudit(db: Kysely<DB> | Transaction<DB>, actor: Actor, entry: AuditEntry): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({
      at: nowIso(),
      actor_id: actor.id,
      actor_name: actor.name,
      source: actor.source,
      action: entry.action,
      target_type: entry.targetType ?? null,
      target_id: entry.targetId ?? null,
      target_name: entry.targetName ?? null,
      summary: entry.summary,
      details: entry.details ? JSON.stringify(redact(entry.details)) : null,
      ip: actor.ip ?? null,
      request_id: actor.requestId ?? null,
    })
    .execute();
}
