// npm run bench:users [-- --users N] [--pg] [--rounds 3]
// Setup › Users and the top bar's search with many users: fills a fresh SQLite file (or a fresh
// PostgreSQL database with --pg) with N provisioned users (default 1,000,000, inserted directly:
// set-up only), starts Ledgerline on it, signs in as an admin and times, over HTTP, the searches an
// admin types: a term matching no one, one user, part of a user name, a family name (50,000 users
// at 1M), a display name, and the list's first page without a term. Each search runs --rounds times; the
// figures are the fastest and slowest round, with how many users the first page held.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { migrate, openDatabase, sqliteConnectionOf } from '../src/db/database.ts';
import { isPostgres } from '../src/db/dialect.ts';
import { flag, fmt, option, timeRounds, withFilledServer } from './common.ts';

const USERS = Number(option('--users', '1000000'));
const ROUNDS = Number(option('--rounds', '3'));
const USE_PG = flag('--pg');

// User i is given.family{i}@acme{i mod 7}.example.com, display name "Given Family": in name order the
// users come in blocks of one given name, and within those of one family name, so a family name's
// users are spread over the whole order in runs of a few thousand.
const GIVEN = ['Alice', 'Bob', 'Carol', 'David', 'Erin', 'Frank', 'Grace', 'Heidi', 'Ivan', 'Judy', 'Mallory', 'Niaj', 'Olivia', 'Peggy', 'Rupert', 'Sybil', 'Trent', 'Victor', 'Walter', 'Yolanda'];
const FAMILY = ['Smith', 'Johnson', 'Williams', 'Brown', 'Jones', 'Garcia', 'Miller', 'Davis', 'Rodriguez', 'Martinez', 'Hernandez', 'Lopez', 'Gonzalez', 'Wilson', 'Anderson', 'Thomas', 'Taylor', 'Moore', 'Jackson', 'Martin'];
const given = (i: number) => GIVEN[i % 20];
const family = (i: number) => FAMILY[Math.floor(i / 20) % 20];
const userName = (i: number) => `${given(i).toLowerCase()}.${family(i).toLowerCase()}${i}@acme${i % 7}.example.com`;

/** Fills the database; says what it inserted. */
async function fill(url: string): Promise<string> {
  const database = openDatabase(url);
  await migrate(database);
  const now = new Date().toISOString();
  if (isPostgres(database.db)) {
    await database.db.transaction().execute(async (trx) => {
      // The provisioned-user counter's trigger would update a counter row per user (set-up only).
      await sql`set local session_replication_role = replica`.execute(trx);
      await sql`insert into users (id, user_name, user_name_norm, display_name, given_name, family_name, email, email_norm, external_id, status, source, time_zone, locale, scim_attributes, version, created_at, updated_at)
        select gen_random_uuid()::text, u, u, g || ' ' || f, g, f, u, u, 'ext-' || i, 'active', 'idp', 'UTC', 'en-US', '{}', 1, ${now}, ${now}
        from (select i, g, f, lower(g) || '.' || lower(f) || i || '@acme' || (i % 7) || '.example.com' as u
          from (select i, (${GIVEN}::text[])[1 + i % 20] as g, (${FAMILY}::text[])[1 + (i / 20) % 20] as f from generate_series(0, ${USERS - 1}) i) n) s`.execute(trx);
      await sql`insert into scim_counters (key, n) select 'idp_users:' || substr(id, length(id) - 1, 2), count(*) from users where source = 'idp' group by 1
        on conflict (key) do update set n = scim_counters.n + excluded.n`.execute(trx);
    });
    await sql`vacuum analyze users`.execute(database.db);
  } else {
    const conn = sqliteConnectionOf(database.db)!;
    const insert = conn.prepare(`insert into users (id, user_name, user_name_norm, display_name, given_name, family_name, email, email_norm, external_id, status, source, time_zone, locale, scim_attributes, version, created_at, updated_at)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', 'idp', 'UTC', 'en-US', '{}', 1, ?, ?)`);
    conn.transaction(() => {
      for (let i = 0; i < USERS; i++) {
        const u = userName(i);
        insert.run(randomUUID(), u, u, `${given(i)} ${family(i)}`, given(i), family(i), u, u, `ext-${i}`, now, now);
      }
    })();
    conn.exec('analyze');
  }
  await database.close();
  return `${fmt(USERS)} users`;
}

async function main() {
  console.log(`# Users search benchmark: ${fmt(USERS)} users, ${USE_PG ? 'PostgreSQL' : 'SQLite'}, Node ${process.version}`);
  await withFilledServer({ prefix: 'll_bench_users', postgres: USE_PG, fill }, async (client) => {
    // The last user of the last given name: at the end of the name order.
    const one = USERS - 1 - ((((USERS - 1 - 19) % 20) + 20) % 20);
    const searches: { what: string; path: string; expect?: number }[] = [
      { what: 'Setup › Users, first page, no search', path: '/api/users' },
      { what: 'a term matching no one', path: '/api/users?q=zqxjv' },
      { what: `one user by user name ("${family(one).toLowerCase()}${one}@")`, path: `/api/users?q=${encodeURIComponent(`${family(one).toLowerCase()}${one}@`)}`, expect: 1 },
      { what: `part of a user name ("${family(one).toLowerCase()}${Math.floor(one / 1000)}")`, path: `/api/users?q=${encodeURIComponent(`${family(one).toLowerCase()}${Math.floor(one / 1000)}`)}` },
      { what: 'a family name (1 in 20 users, in runs)', path: '/api/users?q=smith' },
      { what: 'a display name ("Victor Ro", 1 in 400 users, all in one run)', path: `/api/users?q=${encodeURIComponent('Victor Ro')}` },
      { what: 'the top bar search, a term matching no one', path: '/api/search?q=zqxjv' },
      { what: 'the top bar search, a family name', path: '/api/search?q=smith' },
    ];
    for (const s of searches) {
      const { fastest, slowest, last } = await timeRounds(ROUNDS, async () => {
        const res = await client.json(s.path);
        if (res.status !== 200) throw new Error(`${s.path}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
        return res;
      });
      const found = (last.body.items ?? last.body.users).length;
      if (s.expect !== undefined && found !== s.expect) throw new Error(`${s.path}: expected ${s.expect} users, got ${found}`);
      console.log(`${s.what}: ${fmt(fastest)}–${fmt(slowest)} ms (${found} on the first page)`);
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
