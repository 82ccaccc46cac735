// Hot-path queries compiled once per database and then run with new parameters, skipping Kysely's
// per-call build and compile (measurable on lookups at thousands of requests per second). The query
// is written with ordinary Kysely; sentinel parameter values mark where arguments go.
//
// On SQLite, a read made outside any transaction runs on the connection directly and at once,
// skipping Kysely's asynchronous connection hand-over (measured: a GET by id, three such reads, 91 →
// 82 µs of server CPU). It sees exactly what a Kysely read would: the connection is not inside a
// transaction (better-sqlite3's inTransaction), so no uncommitted write of another request is visible.
// Inside a transaction the query goes through Kysely as before, and so does a direct read that meets
// SQLITE_BUSY (it can run while a writer has set the connection not to wait for locks).
//
// On PostgreSQL each of these statements is a named prepared statement (preparedPgStatement): the
// server parses and plans it once per connection, inside transactions too. Outside a transaction it
// goes to the pool directly, without Kysely's hand-over (measured with the naming: GET by id 1,464–
// 1,851 → 2,762–2,982 req/s on one process; docs/performance.md, session 6).
import { CompiledQuery, type Compilable, type Kysely, type Transaction } from 'kysely';
import type { DB } from './schema.ts';
import { isPostgres } from './dialect.ts';
import { isSqliteBusy, pgPoolOf, preparedPgStatement, sqliteConnectionOf } from './database.ts';
import { retryingConflicts } from './pg-retry.ts';

type Db = Kysely<DB> | Transaction<DB>;
type Slot = { arg: number } | { value: unknown };

const SENTINEL = '\u0000arg:';
const arg = (i: number) => `${SENTINEL}${i}`;

export function precompiled<Row>(build: (db: Kysely<DB>, arg: (i: number) => string) => Compilable) {
  const byDb = new WeakMap<object, { sql: string; slots: Slot[]; reader?: boolean; name?: string }>();
  return async (db: Db, ...args: unknown[]): Promise<Row[]> => {
    // Transactions share their parent's dialect; key the cache by the executor's adapter class.
    const key = db.getExecutor().adapter as object;
    let c = byDb.get(key);
    if (!c) {
      const compiled = build(db as Kysely<DB>, arg).compile();
      c = {
        sql: compiled.sql,
        slots: compiled.parameters.map((p) => (typeof p === 'string' && p.startsWith(SENTINEL) ? { arg: Number(p.slice(SENTINEL.length)) } : { value: p })),
      };
      if (isPostgres(db)) c.name = preparedPgStatement(c.sql);
      byDb.set(key, c);
    }
    const params = c.slots.map((s) => ('arg' in s ? args[s.arg] : s.value));
    if (c.name) return runPgStatement<Row>(db, c.sql, params);
    if (c.reader !== false) {
      const conn = sqliteConnectionOf(db);
      if (conn && !conn.inTransaction) {
        const stmt = conn.prepare(c.sql);
        c.reader = stmt.reader;
        if (stmt.reader) {
          try {
            return stmt.all(params) as Row[];
          } catch (err) {
            if (!isSqliteBusy(err)) throw err;
          }
        }
      }
    }
    return (await db.executeQuery<Row>(CompiledQuery.raw(c.sql, params))).rows;
  };
}

/**
 * Runs a fixed PostgreSQL statement text as a named prepared statement: outside a transaction straight
 * on the pool (the pool calls a client's query with a callback, which the naming wrapper in
 * database.ts leaves alone, so the name is passed here), inside one on the transaction's connection
 * through Kysely (named there by that wrapper).
 */
export async function runPgStatement<Row>(db: Db, text: string, values: unknown[]): Promise<Row[]> {
  const name = preparedPgStatement(text);
  const pool = pgPoolOf(db);
  // Outside a transaction the statement is one: run again if PostgreSQL aborted it for a deadlock.
  // Inside one, the whole transaction is what runs again (runWrite).
  if (pool) return retryingConflicts(async () => (await pool.query<Row & object>({ name, text, values })).rows);
  return (await db.executeQuery<Row>(CompiledQuery.raw(text, values))).rows;
}

/** `$1`, `$2`, … in order, for statement texts written out by hand. */
export function placeholders(): (n?: number) => string {
  let i = 0;
  return (n = 1) => Array.from({ length: n }, () => `$${++i}`).join(', ');
}
