// A password sent in a SCIM PATCH (`{"op":"replace","value":{"password":…}}`, or with `path:
// "password"`) was stored with the user's attributes, returned by GETs and matched by filters; and the
// provisioning log kept it as sent in a PATCH's `value`, and in a body that was not JSON when an
// escaped quote or a broken structure hid it from the pattern that masked it. Ledgerline keeps no SCIM
// password (changePassword is not supported): this takes each one out of the users' stored attributes
// (a new version, so the ETag changes with what a GET returns) and masks the log's bodies as they are
// masked now (maskedJson; a body that is not JSON, or is cut, and mentions a password, secret or token
// is replaced by a note saying so, maskedRaw). It can run again: a second run changes nothing.
//
// SQLite: the log is in its own file, attached as `plog` while migrations run (see 015). The users'
// file and the log's file are written in a transaction each.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';
import { maskedJson, maskedRaw, type Json } from '../../scim/scim.attributes.ts';

const BATCH = 1000;

export async function up(db: Kysely<any>): Promise<void> {
  if (isPostgres(db)) {
    await usersWithoutPasswords(db);
    await logMasked(db, 'provisioning_log');
    return;
  }
  await db.transaction().execute((trx) => usersWithoutPasswords(trx));
  await db.transaction().execute((trx) => logMasked(trx, 'plog.provisioning_log'));
}

async function usersWithoutPasswords(db: Kysely<any>): Promise<void> {
  for (let after = ''; ; ) {
    const users = await sql<{ id: string; scim_attributes: string }>`select id, scim_attributes from users
      where id > ${after} and scim_attributes like ${'%"password"%'} order by id limit ${BATCH}`.execute(db);
    if (users.rows.length === 0) return;
    for (const u of users.rows) {
      let attributes: unknown;
      try {
        attributes = JSON.parse(u.scim_attributes);
      } catch {
        continue; // not JSON: read as no attributes (storedAttributes), so nothing of it is returned
      }
      if (!attributes || typeof attributes !== 'object' || Array.isArray(attributes) || !('password' in attributes)) continue;
      delete (attributes as Record<string, unknown>).password;
      await sql`update users set scim_attributes = ${JSON.stringify(attributes)}, version = version + 1 where id = ${u.id}`.execute(db);
    }
    after = users.rows[users.rows.length - 1].id;
  }
}

/** A logged body as it is logged now. */
function masked(body: string): string {
  let parsed: Json;
  try {
    parsed = JSON.parse(body) as Json;
  } catch {
    return maskedRaw(body); // not JSON, or cut: kept only if it mentions no secret
  }
  return maskedJson(parsed).text;
}

async function logMasked(db: Kysely<any>, table: string): Promise<void> {
  // SQLite's like ignores ASCII case. PostgreSQL: one regular expression (a scan of 300,000 rows in
  // 0.87 s, where one ilike of the three took 1.15 s).
  const secret = (column: string) => isPostgres(db)
    ? sql`${sql.ref(column)} ~* 'pass|secret|token'`
    : sql`(${sql.ref(column)} like '%pass%' or ${sql.ref(column)} like '%secret%' or ${sql.ref(column)} like '%token%')`;
  // The rows are found in one scan, then read and written a thousand at a time. 300,000 rows, 30,000 of
  // them Okta's POSTs (a password masked): 0.7-1.8 s on SQLite and 1.7-2.8 s on PostgreSQL (scratch).
  const found = await sql<{ id: number }>`select id from ${sql.table(table)} where ${secret('request_body')} or ${secret('response_body')} order by id`.execute(db);
  const ids = found.rows.map((r) => Number(r.id));
  for (let i = 0; i < ids.length; i += BATCH) {
    const page = ids.slice(i, i + BATCH);
    const rows = await sql<{ id: number; request_body: string | null; response_body: string | null }>`select id, request_body, response_body
      from ${sql.table(table)} where id in (${sql.join(page)})`.execute(db);
    for (const r of rows.rows) {
      const request = r.request_body === null ? null : masked(r.request_body);
      const response = r.response_body === null ? null : masked(r.response_body);
      if (request === r.request_body && response === r.response_body) continue;
      await sql`update ${sql.table(table)} set request_body = ${request}, response_body = ${response} where id = ${r.id}`.execute(db);
    }
  }
}

export async function down(): Promise<void> {
  throw new Error('migration 017 cannot be reverted');
}
