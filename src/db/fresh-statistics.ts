// PostgreSQL plans queries from table statistics, which autovacuum refreshes at best about once a
// minute (autovacuum_naptime) and only after a tenth of a table has changed. Right after a bulk load
// (an IdP's first import of thousands of users) a table that was never analyzed is planned as if it
// held a handful of rows: a cursor page of users was read by sorting every user after the cursor
// (4.8 ms of SQL at the 500th of 10,000 users instead of 0.12 ms, and more as the table grows).
// The same rows are not yet marked all-visible either (that is VACUUM's job), so an index-only scan,
// such as the skip over 9,900 index entries of a deep startIndex page, still visits the table for
// every entry it passes: 19.6 ms a page at 10,000 users, 5.9 ms after VACUUM (measured).
// PostgreSQL's advice is to VACUUM ANALYZE after a bulk load; this does it. Every CHECK_EVERY rows
// this process writes to a watched table, it asks the statistics views about that table and, in the
// background (one at a time, never in a transaction, skipping a table another session is already
// vacuuming), runs VACUUM once a tenth of the table was inserted since its last vacuum, and ANALYZE
// once half of it changed since its last analysis: by those rules, on the way to a million rows a
// growing table is vacuumed about 60 times and analyzed about 17 times. VACUUM reads only the pages
// not yet marked all-visible, so each is short (57 ms at 110,000 users here); ANALYZE samples a
// fixed number of rows. Neither takes a lock that blocks reads or writes. Needs PostgreSQL 13 or later
// (n_ins_since_vacuum). SQLite needs none of this: without statistics its planner assumes an index
// is selective, which is the plan these queries want, and its indexes hold everything an index-only
// read needs.
import { sql, type Kysely } from 'kysely';
import type { DB } from './schema.ts';
import { isPostgres } from './dialect.ts';

export type WatchedTable = 'users' | 'scim_user_emails' | 'pushed_group_members';

const CHECK_EVERY = 1000;
/** Fewer changed rows than this never lead to an ANALYZE: small tables are planned well either way. */
const MIN_ROWS = 500;

interface State {
  written: Map<WatchedTable, number>;
  /** Rows this process wrote to each table since it last vacuumed / analyzed it. */
  sinceVacuum: Map<WatchedTable, number>;
  sinceAnalyze: Map<WatchedTable, number>;
  running: Promise<void> | null;
  queue: Set<WatchedTable>;
}

const states = new WeakMap<object, State>();

/** Notes `n` rows written to `table` (after its transaction committed, or about to). */
export function noteRowsWritten(db: Kysely<DB>, table: WatchedTable, n: number): void {
  // A transaction's handle would run ANALYZE inside that transaction: only the database's own.
  if (n <= 0 || db.isTransaction || !isPostgres(db)) return;
  let st = states.get(db);
  if (!st) {
    st = { written: new Map(), sinceVacuum: new Map(), sinceAnalyze: new Map(), running: null, queue: new Set() };
    states.set(db, st);
  }
  st.sinceVacuum.set(table, (st.sinceVacuum.get(table) ?? 0) + n);
  st.sinceAnalyze.set(table, (st.sinceAnalyze.get(table) ?? 0) + n);
  const total = (st.written.get(table) ?? 0) + n;
  if (total < CHECK_EVERY) {
    st.written.set(table, total);
    return;
  }
  st.written.set(table, 0);
  st.queue.add(table);
  if (!st.running) st.running = refresh(db, st);
}

async function refresh(db: Kysely<DB>, st: State): Promise<void> {
  try {
    while (st.queue.size) {
      const [table] = st.queue;
      st.queue.delete(table);
      try {
        // The views count another backend's writes only once it has reported them, which a backend
        // does at most once a second, and after 10 s when it falls idle: right after an import that
        // took less than a second they can show almost none of it. This process's own count stands
        // in for them then (a 1,200-user import in under a second was otherwise never analyzed).
        const ownVacuum = st.sinceVacuum.get(table) ?? 0;
        const ownAnalyze = st.sinceAnalyze.get(table) ?? 0;
        const { rows } = await sql<{ vacuum: boolean; analyze: boolean }>`
          select greatest(n_ins_since_vacuum, ${ownVacuum}::bigint) > greatest(${MIN_ROWS}::bigint, n_live_tup / 10) as vacuum,
                 greatest(n_mod_since_analyze, ${ownAnalyze}::bigint) > greatest(${MIN_ROWS}::bigint, n_live_tup / 2) as analyze
          from pg_stat_user_tables where schemaname = current_schema() and relname = ${table}`.execute(db);
        const r = rows[0];
        if (r?.vacuum && r.analyze) await sql`vacuum (analyze, skip_locked) ${sql.table(table)}`.execute(db);
        else if (r?.vacuum) await sql`vacuum (skip_locked) ${sql.table(table)}`.execute(db);
        else if (r?.analyze) await sql`analyze (skip_locked) ${sql.table(table)}`.execute(db);
        if (r?.vacuum) st.sinceVacuum.set(table, st.sinceVacuum.get(table)! - ownVacuum);
        if (r?.analyze) st.sinceAnalyze.set(table, st.sinceAnalyze.get(table)! - ownAnalyze);
      } catch (err) {
        // Statistics are an optimisation: a failure (the database shutting down) is reported, not raised.
        process.emitWarning(`could not refresh PostgreSQL statistics of ${table}: ${(err as Error).message}`, { code: 'LEDGERLINE_ANALYZE' });
      }
    }
  } finally {
    st.running = null;
  }
}

/** Resolves when no statistics refresh is running (for tests). */
export async function statisticsSettled(db: Kysely<DB>): Promise<void> {
  const st = states.get(db);
  while (st?.running) await st.running;
}
