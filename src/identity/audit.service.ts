// The audit log: every change to users, roles, role groups, settings, tokens and billing data, and
// every sign-in attempt. Writes join the caller's transaction so a rolled-back change leaves no entry.
// Secrets never reach it: details are passed through redact() first.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { nowIso } from '../platform/time.ts';
import { precompiled } from '../db/precompiled.ts';

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

export const AUDIT_COLUMNS = ['at', 'actor_id', 'actor_name', 'source', 'action', 'target_type', 'target_id', 'target_name', 'summary', 'details', 'ip', 'request_id'] as const;
// Compiled once: every write of the product adds a row here.
const insertAudit = precompiled((db, arg) =>
  db.insertInto('audit_log').values(Object.fromEntries(AUDIT_COLUMNS.map((c, i) => [c, arg(i)])) as never),
);

/** An entry's column values, in AUDIT_COLUMNS order (for statements that write it themselves). */
export function auditValues(actor: Actor, entry: AuditEntry): unknown[] {
  return [
    nowIso(),
    actor.id,
    actor.name,
    actor.source,
    entry.action,
    entry.targetType ?? null,
    entry.targetId ?? null,
    entry.targetName ?? null,
    entry.summary,
    entry.details ? JSON.stringify(redact(entry.details)) : null,
    actor.ip ?? null,
    actor.requestId ?? null,
  ];
}

export async function recordAudit(db: Kysely<DB> | Transaction<DB>, actor: Actor, entry: AuditEntry): Promise<void> {
  await insertAudit(db, ...auditValues(actor, entry));
}
