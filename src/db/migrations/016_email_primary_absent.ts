// An e-mail sent without `primary` is stored with is_primary null, not 0. It was 0, as for
// `primary: false`, so `filter=emails.primary pr` matched every user with an e-mail (RFC 7644
// §3.4.2.2: `pr` matches an attribute that has a value) and `emails[primary eq false]` matched
// e-mails that never said so. The column takes null from now on, and each stored 0 whose e-mail has
// no `primary` in the user's stored attributes becomes null. Only rows that are 0 can change; 1s
// came from `primary: true`.
//
// The rows are worked out in JavaScript, the way the SCIM code writes them (lower-cased with
// toLowerCase, where SQLite's lower() folds only ASCII; one row per distinct value and type, the
// first occurrence deciding), from the stored JSON, a thousand users at a time. Measured with every
// e-mail lacking `primary` (scratch): 1,000,000 users on SQLite in 10.5 s (the rebuild included),
// 100,000 on PostgreSQL in 2.8 s.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

const BATCH = 1000;

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObj = (v: Json | undefined): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The (value, type) keys of the e-mails in `attributes` whose first occurrence has no boolean `primary`. */
function withoutPrimary(attributes: string | null): { value: string; type: string }[] {
  let parsed: Json;
  try {
    parsed = JSON.parse(attributes ?? 'null') as Json;
  } catch {
    return [];
  }
  const list = isObj(parsed) ? parsed.emails : undefined;
  if (!Array.isArray(list)) return [];
  const seen = new Set<string>();
  const out: { value: string; type: string }[] = [];
  for (const e of list) {
    if (!isObj(e) || typeof e.value !== 'string') continue;
    const value = e.value.toLowerCase();
    const type = typeof e.type === 'string' ? e.type.toLowerCase() : '';
    const key = `${value}\u0000${type}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (typeof e.primary !== 'boolean') out.push({ value, type });
  }
  return out;
}

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    // Kysely runs PostgreSQL's migrations in a transaction.
    await sql`alter table scim_user_emails alter column is_primary drop not null, alter column is_primary drop default`.execute(db);
    await nullWhereAbsent(db);
    return;
  }
  // On SQLite Kysely runs migrations without one: this one is a transaction of its own, so that a
  // crash leaves the table either as it was or done.
  await db.transaction().execute(async (trx) => {
    // SQLite cannot drop a column's NOT NULL: rebuild the table (nothing refers to it).
    await sql`create table scim_user_emails_v16 (
      user_id text not null references users (id) on delete cascade,
      value_norm text not null,
      type_norm text,
      is_primary integer
    )`.execute(trx);
    await sql`insert into scim_user_emails_v16 (user_id, value_norm, type_norm, is_primary)
      select user_id, value_norm, type_norm, is_primary from scim_user_emails`.execute(trx);
    await sql`drop table scim_user_emails`.execute(trx);
    await sql`alter table scim_user_emails_v16 rename to scim_user_emails`.execute(trx);
    await sql`create index scim_user_emails_value on scim_user_emails (value_norm, user_id)`.execute(trx);
    await sql`create index scim_user_emails_user on scim_user_emails (user_id)`.execute(trx);
    await nullWhereAbsent(trx);
  });
}

async function nullWhereAbsent(db: Kysely<any>): Promise<void> {
  const postgres = isPostgres(db);
  for (let after = ''; ; ) {
    // Every user, in pages of the primary key. (Only those with a 0 row could change, but with that
    // condition PostgreSQL read all of scim_user_emails for each page.)
    const users = await sql<{ id: string; scim_attributes: string | null }>`select id, scim_attributes from users
      where id > ${after} order by id limit ${BATCH}`.execute(db);
    if (users.rows.length === 0) return;
    const rows = users.rows.flatMap((u) => withoutPrimary(u.scim_attributes).map((e) => ({ user: u.id, ...e })));
    if (postgres) {
      // One statement a batch: a round trip a row took 30 s for 100,000 users.
      await sql`update scim_user_emails e set is_primary = null
        from unnest(${rows.map((r) => r.user)}::text[], ${rows.map((r) => r.value)}::text[], ${rows.map((r) => r.type)}::text[]) as x(u, v, t)
        where e.user_id = x.u and e.value_norm = x.v and coalesce(e.type_norm, '') = x.t and e.is_primary = 0`.execute(db);
    } else {
      for (const r of rows) {
        await sql`update scim_user_emails set is_primary = null
          where user_id = ${r.user} and value_norm = ${r.value} and coalesce(type_norm, '') = ${r.type} and is_primary = 0`.execute(db);
      }
    }
    after = users.rows[users.rows.length - 1].id;
  }
}

export async function down(): Promise<void> {
  throw new Error('migration 016 cannot be reverted');
}
