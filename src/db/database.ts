// Opens the database named by DATABASE_URL (SQLite file or PostgreSQL) and applies migrations.
// This folder is the only code that knows which database runs; everything else uses Kysely.
import fs from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { CompiledQuery, Kysely, Migrator, PostgresDialect, SqliteDialect, SqliteDriver, sql, type DatabaseConnection, type Driver, type Migration, type MigrationProvider } from 'kysely';
import type { DB } from './schema.ts';
import { migrations } from './migrations/index.ts';
import { copyLogIntoItsFile } from './migrations/015_log_own_file.ts';
import { isSqliteBusy, openProvisioningLogFile, sqliteSynchronous } from './provisioning-log-file.mjs';

export type Dialect = 'sqlite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  dialect: Dialect;
  /** Human-readable description without credentials, for logs. */
  describe: string;
  close(): Promise<void>;
}

// int8 (counts, sums, bigint money) arrive as strings by default; every value we store fits in 2^53.
pg.types.setTypeParser(20, (v) => Number(v));
// numeric → number (sums of integer columns come back as numeric)
pg.types.setTypeParser(1700, (v) => Number(v));

/** How long a SQLite statement waits for another connection's lock before SQLITE_BUSY. */
export const SQLITE_BUSY_TIMEOUT_MS = 10_000;

export function parseDatabaseUrl(url: string): { dialect: Dialect; file?: string; connectionString?: string } {
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) return { dialect: 'postgres', connectionString: url };
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file) throw new Error('DATABASE_URL sqlite: needs a file path, e.g. sqlite:./data/ledgerline.db');
    return { dialect: 'sqlite', file };
  }
  throw new Error(`DATABASE_URL must start with sqlite: or postgres://, got "${url.replace(/\/\/[^@]*@/, '//***@')}"`);
}

/**
 * Default SQLITE_MMAP_SIZE: 2 GiB, the most this build of SQLite maps (SQLITE_MAX_MMAP_SIZE,
 * 2,147,418,112 bytes; larger values are capped to it). A larger file is mapped up to that size.
 */
const DEFAULT_MMAP_SIZE = 2 * 1024 ** 3;

/** SQLITE_MMAP_SIZE in bytes; 0 reads the file with read() only, as SQLite does by default. */
function sqliteMmapSize(): number {
  const raw = process.env.SQLITE_MMAP_SIZE?.trim();
  if (raw === undefined || raw === '') return DEFAULT_MMAP_SIZE;
  if (!/^\d{1,16}$/.test(raw)) throw new Error(`SQLITE_MMAP_SIZE must be a number of bytes (0 turns memory-mapped reads off), got "${raw}"`);
  return Number(raw);
}

export function openDatabase(url: string, opts: { poolSize?: number } = {}): Database {
  const parsed = parseDatabaseUrl(url);
  if (parsed.dialect === 'sqlite') {
    const file = parsed.file!;
    const mmapSize = sqliteMmapSize(); // a bad setting stops here, before any file is created
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const conn = new SQLite(file);
    conn.pragma('journal_mode = WAL');
    conn.pragma(`synchronous = ${sqliteSynchronous()}`);
    conn.pragma('foreign_keys = ON');
    conn.pragma(`busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    // 64 MB page cache (default 2 MB): index pages of large membership/user tables stay in memory.
    conn.pragma('cache_size = -65536');
    // Reads through a memory map of the file (SQLite still writes with pwrite): a page that is not in
    // the 64 MB cache above is read without a copy or a cache eviction. At 1,000,000 users, random
    // SCIM GETs by id cost 54-57 µs of server CPU instead of 61-67 and look-ups 61-66 instead of 68-73
    // (10k users: no difference; docs/performance.md, session 9).
    conn.pragma(`mmap_size = ${mmapSize}`);
    // Kysely prepares every statement anew; preparing costs more than running a point query, so
    // keep prepared statements by SQL text (one connection, used under Kysely's mutex: no overlap).
    const prepare = conn.prepare.bind(conn);
    const statements = new Map<string, ReturnType<typeof prepare>>();
    conn.prepare = ((text: string) => {
      let stmt = statements.get(text);
      if (!stmt) {
        if (statements.size >= 2000) statements.clear();
        stmt = prepare(text);
        statements.set(text, stmt);
      }
      return stmt;
    }) as typeof conn.prepare;
    const db = new Kysely<DB>({ dialect: new ImmediateSqliteDialect({ database: conn }) });
    sqliteConnections.set(db, conn);
    const log = new Kysely<DB>({ dialect: new SqliteDialect({ database: openProvisioningLog(file) }) });
    provisioningLogs.set(db, { db: log, file: file === ':memory:' ? null : provisioningLogFile(file) });
    const close = async () => {
      await db.destroy();
      await log.destroy();
    };
    return { db, dialect: 'sqlite', describe: `SQLite ${path.resolve(file)}`, close };
  }
  const pool = new pg.Pool({ connectionString: parsed.connectionString, max: opts.poolSize ?? 10 });
  // An idle pooled connection that the server closes (restart, failover, admin termination) is
  // reported here; without a listener pg re-throws it and the whole process exits. The pool
  // discards that client and opens a new one on next use, so logging it is all that is needed.
  pool.on('error', (err) => {
    process.emitWarning(`PostgreSQL connection lost: ${err.message}`, { code: 'LEDGERLINE_PG_IDLE_ERROR' });
  });
  // Statements registered as hot (preparedPgStatement) run as named prepared statements on every
  // connection, also when Kysely runs them inside a transaction.
  pool.on('connect', (client) => {
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    client.query = ((text: unknown, values?: unknown, cb?: unknown) => {
      const name = typeof text === 'string' && Array.isArray(values) && cb === undefined ? preparedNames.get(text) : undefined;
      return name ? query({ name, text, values }) : query(text, values, cb);
    }) as typeof client.query;
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  pgPools.set(db, pool);
  const u = new URL(parsed.connectionString!);
  return { db, dialect: 'postgres', describe: `PostgreSQL ${u.hostname}:${u.port || 5432}${u.pathname}`, close: () => db.destroy() };
}

/**
 * Where SQLite keeps the provisioning log: a file of its own beside the database
 * (`data/ledgerline.db` → `data/ledgerline.provisioning-log.db`), in memory for an in-memory database.
 */
export function provisioningLogFile(file: string): string {
  if (file === ':memory:' || file === '') return file;
  const ext = path.extname(file);
  return `${ext ? file.slice(0, -ext.length) : file}.provisioning-log${ext || '.sqlite'}`;
}

/**
 * SQLite: the provisioning log lives in its own file (migration 015 moved it there), with a connection
 * of its own. Every SCIM request writes a log row, with its request and response bodies, a kilobyte or
 * so: in the database's own file those rows made up two thirds of it and lay between the pages of the
 * users, so that at a million users created over HTTP the file was 3.3 GB, more than this SQLite maps
 * into memory (SQLITE_MMAP_SIZE, 2 GiB at most), and a read of a user cost half as much again as at
 * 10,000 (docs/performance.md, session 16). Since session 18 the database's connection no longer
 * attaches it: a transaction there (BEGIN IMMEDIATE) took both files' write locks, so the log could
 * only be written on the request thread, between requests. Now a writer thread inserts the log's
 * batches (src/scim/provisioning-log.worker.mjs) and this connection reads them for the admin's screen;
 * both open the file with openProvisioningLogFile (which creates the log's table where missing). The
 * log was always written apart from the changes it describes (batches every 200 ms); nothing needs the
 * two files committed together.
 */
function openProvisioningLog(file: string): SQLite.Database {
  // Beside the database: its folder was made before the database was opened.
  return openProvisioningLogFile(provisioningLogFile(file), SQLITE_BUSY_TIMEOUT_MS);
}

const sqliteConnections = new WeakMap<object, SQLite.Database>();
const provisioningLogs = new WeakMap<object, { db: Kysely<DB>; file: string | null }>();

/**
 * Where the provisioning log of a database handle is read and written: on PostgreSQL the database
 * itself; on SQLite the log's own file, through its own connection (see openProvisioningLog).
 */
export function provisioningLogDbOf(db: Kysely<DB>): Kysely<DB> {
  return provisioningLogs.get(db)?.db ?? db;
}

/** SQLite: the file holding the log of a database handle, which a writer thread may open; else null (PostgreSQL, in memory). */
export function provisioningLogFileOf(db: Kysely<DB>): string | null {
  return provisioningLogs.get(db)?.file ?? null;
}
const pgPools = new WeakMap<object, pg.Pool>();

/**
 * The PostgreSQL pool behind a database handle (not a transaction's), for hot statements run outside
 * a transaction without Kysely (src/db/precompiled.ts). Those pass their statement name themselves:
 * the pool calls a client's query with a callback, which the naming wrapper above leaves alone. null
 * on SQLite and for a transaction (whose queries must use its own connection).
 */
export function pgPoolOf(db: object): pg.Pool | null {
  return pgPools.get(db) ?? null;
}

const preparedNames = new Map<string, string>();

/**
 * Marks a PostgreSQL statement text as hot: from now on it runs as a named prepared statement (the
 * server parses and plans it once per connection). Returns its name. Only for a fixed set of texts:
 * each one stays prepared on every pooled connection for the connection's life.
 */
export function preparedPgStatement(text: string): string {
  let name = preparedNames.get(text);
  if (!name) {
    name = `ll_${preparedNames.size + 1}`;
    preparedNames.set(text, name);
  }
  return name;
}

/**
 * The SQLite connection behind a database handle (not a transaction's), for hot-path reads that
 * run without Kysely's asynchronous connection handling; null on PostgreSQL. Callers must use it only
 * while the connection is not inside a transaction (`inTransaction`), so they never see another
 * request's uncommitted writes; otherwise they go through Kysely, which waits for the transaction.
 */
export function sqliteConnectionOf(db: object): SQLite.Database | null {
  return sqliteConnections.get(db) ?? null;
}

/** Whether an error is SQLite's busy (a lock not had in time); written with the log's file, whose writer thread uses it too. */
export { isSqliteBusy };

// Transactions take the write lock when they begin (BEGIN IMMEDIATE). With a deferred BEGIN, a
// transaction that reads and then writes fails at once with SQLITE_BUSY when another process (a
// second app node or the CLI on the same file) committed in between; an immediate one waits for the
// lock (busy_timeout) and then sees the latest data.
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: ConstructorParameters<typeof SqliteDialect>[0];
  constructor(config: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

class StaticProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return migrations;
  }
}

/** Applies pending migrations. On PostgreSQL an advisory lock serialises nodes starting at once. */
export async function migrate(database: Database): Promise<string[]> {
  const run = async (db: Kysely<DB>) => {
    const migrator = new Migrator({ db, provider: new StaticProvider() });
    const { error, results } = await migrator.migrateToLatest();
    if (error) throw error instanceof Error ? error : new Error(String(error));
    return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
  };
  if (database.dialect === 'sqlite') {
    // Migration 015 moves the log out of the database's file: only migrations see both files at once.
    const conn = sqliteConnectionOf(database.db)!;
    const log = provisioningLogs.get(database.db)!;
    conn.prepare('attach database ? as plog').run(log.file ?? ':memory:');
    try {
      copyLogIntoItsFile(conn); // before migration 015: see there
      return await run(database.db);
    } finally {
      conn.exec('detach database plog');
    }
  }
  return database.db.connection().execute(async (conn) => {
    await sql`select pg_advisory_lock(726354)`.execute(conn);
    try {
      return await run(conn);
    } finally {
      await sql`select pg_advisory_unlock(726354)`.execute(conn);
    }
  });
}

/** True when the database answers a trivial query. */
export async function ping(database: Database): Promise<boolean> {
  try {
    await sql`select 1`.execute(database.db);
    return true;
  } catch {
    return false;
  }
}
