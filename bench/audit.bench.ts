// npm run bench:audit [-- --rows N] [--pg] [--rounds 3]
// Operations › Audit Log with many entries: 1,000,000 SCIM creates write 1,000,000 of them. Fills a
// fresh SQLite file (or a fresh PostgreSQL database with --pg) with N entries (default 1,000,000,
// inserted directly: set-up only), 10 ms apart, shaped like a big import: nearly all "created user …"
// from SCIM, one role-group change from the UI every 10,000 entries, and 20 SAML setting changes
// among the oldest. Then starts Ledgerline, signs in as an admin and times, over HTTP, what an admin
// asks the screen: pages without a filter, searches and filters that match nothing, a few entries or
// many, and one target's history; fastest and slowest of --rounds rounds.
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { migrate, openDatabase, sqliteConnectionOf } from '../src/db/database.ts';
import { isPostgres } from '../src/db/dialect.ts';
import { encodeCursor } from '../src/platform/paging.ts';
import { flag, fmt, option, timeRounds, withFilledServer } from './common.ts';

const ROWS = Number(option('--rows', '1000000'));
const ROUNDS = Number(option('--rounds', '3'));
const USE_PG = flag('--pg');
const START = Date.UTC(2026, 0, 5, 9, 0, 0);
const atOf = (i: number) => new Date(START + i * 10).toISOString();
const userName = (i: number) => `user${i}@acme${i % 7}.example.com`;
/** Which kind of entry row i is. */
const kindOf = (i: number): 'saml' | 'role_group' | 'user' => (i < 20 ? 'saml' : i % 10_000 === 5_000 ? 'role_group' : 'user');

/** Fills the database; says what it inserted. */
async function fill(url: string): Promise<string> {
  const database = openDatabase(url);
  await migrate(database);
  await database.db.deleteFrom('audit_log').execute();
  if (isPostgres(database.db)) {
    await sql`insert into audit_log (id, at, actor_id, actor_name, source, action, target_type, target_id, target_name, summary, details, ip, request_id)
      select i + 1, to_char(to_timestamp(${START / 1000}::float8 + i * 0.01) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
        case when k = 'user' then null else 'admin-id' end,
        case when k = 'user' then 'SCIM token okta-prod' else 'ops.admin@acme.example.com' end,
        case when k = 'user' then 'scim' else 'ui' end,
        case k when 'saml' then 'saml.settings_update' when 'role_group' then 'role_group.update' else 'user.create' end,
        k, case when k = 'user' then 'u-' || i else 'rg-' || i end,
        case when k = 'user' then 'user' || i || '@acme' || (i % 7) || '.example.com' else 'Finance ' || i end,
        case k when 'saml' then 'changed the SAML settings' when 'role_group' then 'changed role group Finance ' || i || ': Accounts Full permission'
          else 'created user user' || i || '@acme' || (i % 7) || '.example.com' end,
        '{"roleGroup":"SCIM Default"}', '10.0.0.5', gen_random_uuid()::text
      from (select i, case when i < 20 then 'saml' when i % 10000 = 5000 then 'role_group' else 'user' end as k
        from generate_series(0, ${ROWS - 1}) i) s`.execute(database.db);
    await sql`select setval(pg_get_serial_sequence('audit_log', 'id'), ${ROWS})`.execute(database.db);
    await sql`vacuum analyze audit_log`.execute(database.db);
  } else {
    const conn = sqliteConnectionOf(database.db)!;
    const insert = conn.prepare(`insert into audit_log (id, at, actor_id, actor_name, source, action, target_type, target_id, target_name, summary, details, ip, request_id)
      values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{"roleGroup":"SCIM Default"}', '10.0.0.5', ?)`);
    conn.transaction(() => {
      for (let i = 0; i < ROWS; i++) {
        const k = kindOf(i);
        const ui = k !== 'user';
        const target = k === 'user' ? userName(i) : `Finance ${i}`;
        const summary = k === 'saml' ? 'changed the SAML settings' : k === 'role_group' ? `changed role group Finance ${i}: Accounts Full permission` : `created user ${target}`;
        const action = k === 'saml' ? 'saml.settings_update' : k === 'role_group' ? 'role_group.update' : 'user.create';
        insert.run(i + 1, atOf(i), ui ? 'admin-id' : null, ui ? 'ops.admin@acme.example.com' : 'SCIM token okta-prod', ui ? 'ui' : 'scim', action, k, `${k === 'user' ? 'u' : 'rg'}-${i}`, target, summary, randomUUID());
      }
    })();
    conn.exec('analyze');
  }
  await database.close();
  return `${fmt(ROWS)} entries`;
}

async function main() {
  console.log(`# Audit log benchmark: ${fmt(ROWS)} entries, ${USE_PG ? 'PostgreSQL' : 'SQLite'}, Node ${process.version}`);
  await withFilledServer({ prefix: 'll_bench_audit', postgres: USE_PG, fill }, async (client) => {
    const middle = Math.floor(ROWS / 2);
    // How many entries of a kind there are, for the checks of the answers (from --rows 2,000 on).
    let roleGroups = 0;
    for (let i = 0; i < ROWS; i++) if (kindOf(i) === 'role_group') roleGroups++;
    const oldUser = 25;
    const searches: { what: string; path: string; expect?: number }[] = [
      { what: 'first page, no filter', path: '/api/audit?limit=50' },
      { what: 'a page from the middle of the log, no filter', path: `/api/audit?limit=50&cursor=${encodeCursor([atOf(middle), middle + 1])}`, expect: 50 },
      { what: 'a page among the oldest entries, no filter', path: `/api/audit?limit=50&cursor=${encodeCursor([atOf(1000), 1001])}`, expect: 50 },
      { what: 'a term in 1 of 7, a page from the middle', path: `/api/audit?limit=50&q=acme3&cursor=${encodeCursor([atOf(middle), middle + 1])}`, expect: 50 },
      { what: 'a term matching nothing', path: '/api/audit?limit=50&q=zqxjv', expect: 0 },
      { what: `one entry among the oldest ("${userName(oldUser)}")`, path: `/api/audit?limit=50&q=${encodeURIComponent(userName(oldUser))}`, expect: 1 },
      { what: 'a term in 1 of 7 entries ("acme3")', path: '/api/audit?limit=50&q=acme3', expect: 50 },
      { what: 'action: role groups (1 in 10,000 entries)', path: '/api/audit?limit=50&action=role_group.', expect: Math.min(50, roleGroups) },
      { what: 'action: SAML settings (the 20 oldest entries)', path: '/api/audit?limit=50&action=saml.', expect: 20 },
      { what: 'source: UI (the two above)', path: '/api/audit?limit=50&source=ui', expect: Math.min(50, roleGroups + 20) },
      { what: "one user's history (targetId)", path: `/api/audit?limit=50&targetId=u-${middle + 1}`, expect: 1 },
      { what: "one user's history (targetType and targetId)", path: `/api/audit?limit=50&targetType=user&targetId=u-${middle + 1}`, expect: 1 },
      { what: 'a term in 1 of 7, up to a date in the middle', path: `/api/audit?limit=50&q=acme3&to=${encodeURIComponent(atOf(middle))}`, expect: 50 },
    ];
    for (const s of searches) {
      const { fastest, slowest, last } = await timeRounds(ROUNDS, () => client.json(s.path));
      if (last.status !== 200) throw new Error(`${s.path}: HTTP ${last.status} ${JSON.stringify(last.body).slice(0, 200)}`);
      const found = last.body.items.length;
      if (s.expect !== undefined && found !== s.expect) throw new Error(`${s.path}: expected ${s.expect} entries, got ${found}`);
      console.log(`${s.what}: ${fmt(fastest)}–${fmt(slowest)} ms (${found} found)`);
    }
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
