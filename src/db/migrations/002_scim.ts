// SCIM: access tokens (hashed), provisioning log, e-mail index, and the expression index that makes
// case-insensitive `displayName eq` on users an index lookup.
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../dialect.ts';

export async function up(db: Kysely<any>): Promise<void> {
  const pgsql = isPostgres(db);
  await db.schema
    .createTable('scim_tokens')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_used_at', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('revoked_at', 'text')
    .execute();

  await db.schema
    .createTable('provisioning_log')
    .addColumn('id', pgsql ? 'bigserial' : 'integer', (c) => (pgsql ? c.primaryKey() : c.primaryKey().autoIncrement()))
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('client', 'text')
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('status', 'integer', (c) => c.notNull())
    .addColumn('duration_ms', pgsql ? 'double precision' : 'real', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('resource_type', 'text')
    .addColumn('resource_id', 'text')
    .addColumn('user_name', 'text')
    .addColumn('error', 'text')
    .addColumn('request_body', 'text')
    .addColumn('response_body', 'text')
    .execute();
  await db.schema.createIndex('provisioning_log_at').on('provisioning_log').column('at').execute();
  await db.schema.createIndex('provisioning_log_resource').on('provisioning_log').columns(['resource_type', 'resource_id']).execute();

  await db.schema
    .createTable('scim_user_emails')
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('value_norm', 'text', (c) => c.notNull())
    .addColumn('type_norm', 'text')
    .addColumn('is_primary', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('scim_user_emails_value').on('scim_user_emails').columns(['value_norm', 'user_id']).execute();
  await db.schema.createIndex('scim_user_emails_user').on('scim_user_emails').column('user_id').execute();

  await sql`create index users_display_name_lower on users (lower(display_name))`.execute(db);
  // SCIM lists provisioned users in (created, id) order: this index answers the page, the OFFSET
  // skip and count(*) from index entries alone, without touching the wide rows.
  await db.schema.createIndex('users_source_created_id').on('users').columns(['source', 'created_at', 'id']).execute();

  // totalResults of an unfiltered /Users list without count(*) over every row (O(users)): triggers
  // keep the number of provisioned users in 16 counter rows (sharded by the id's first character so
  // concurrent creates on PostgreSQL do not all wait for one row lock); the count is their sum.
  await db.schema
    .createTable('scim_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('n', 'integer', (c) => c.notNull())
    .execute();
  await sql`insert into scim_counters (key, n) select 'idp_users:' || substr(id, 1, 1), count(*) from users where source = 'idp' group by substr(id, 1, 1)`.execute(db);
  if (pgsql) {
    await sql.raw(`
      create function scim_count_idp_users() returns trigger language plpgsql as $$
      declare
        k text;
      begin
        if tg_op in ('INSERT', 'UPDATE') and new.source = 'idp' and (tg_op = 'INSERT' or old.source is distinct from 'idp') then
          k := 'idp_users:' || substr(new.id, 1, 1);
          insert into scim_counters (key, n) values (k, 0) on conflict (key) do nothing;
          update scim_counters set n = n + 1 where key = k;
        end if;
        if tg_op in ('DELETE', 'UPDATE') and old.source = 'idp' and (tg_op = 'DELETE' or new.source is distinct from 'idp') then
          update scim_counters set n = n - 1 where key = 'idp_users:' || substr(old.id, 1, 1);
        end if;
        return null;
      end $$`).execute(db);
    await sql`create trigger scim_count_idp_users after insert or delete or update of source on users for each row execute function scim_count_idp_users()`.execute(db);
  } else {
    await sql.raw(`create trigger scim_count_idp_users_ins after insert on users when new.source = 'idp' begin
      insert into scim_counters (key, n) values ('idp_users:' || substr(new.id, 1, 1), 0) on conflict (key) do nothing;
      update scim_counters set n = n + 1 where key = 'idp_users:' || substr(new.id, 1, 1);
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_del after delete on users when old.source = 'idp' begin
      update scim_counters set n = n - 1 where key = 'idp_users:' || substr(old.id, 1, 1);
    end`).execute(db);
    await sql.raw(`create trigger scim_count_idp_users_upd after update of source on users when old.source is not new.source begin
      insert into scim_counters (key, n) values ('idp_users:' || substr(new.id, 1, 1), 0) on conflict (key) do nothing;
      update scim_counters set n = n + 1 where key = 'idp_users:' || substr(new.id, 1, 1) and new.source = 'idp';
      update scim_counters set n = n - 1 where key = 'idp_users:' || substr(old.id, 1, 1) and old.source = 'idp';
    end`).execute(db);
  }
}

export async function down(): Promise<void> {
  throw new Error('scim migration cannot be reverted');
}
