// Another connection to the test's database, as another server process or the CLI would have, with
// a write transaction open on it: SQLite takes the write lock at once (begin immediate, foreign keys
// on as the app has them); PostgreSQL begins. Statements run inside that transaction until commit().
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { parseDatabaseUrl, provisioningLogFile } from '../../src/db/database.ts';

export interface OtherConnection {
  /** Runs one statement in the open transaction; `$1` is its one parameter, if any. */
  run(statement: string, param?: string): Promise<void>;
  commit(): Promise<void>;
}

export async function otherConnectionInTransaction(url: string): Promise<OtherConnection> {
  const parsed = parseDatabaseUrl(url);
  if (parsed.dialect === 'sqlite') {
    const conn = new SQLite(parsed.file!);
    conn.pragma('foreign_keys = on');
    conn.exec('begin immediate');
    return {
      run: async (statement, param) => {
        const st = conn.prepare(statement.replace('$1', '?'));
        if (param === undefined) st.run();
        else st.run(param);
      },
      commit: async () => {
        conn.exec('commit');
        conn.close();
      },
    };
  }
  const client = new pg.Client({ connectionString: parsed.connectionString });
  await client.connect();
  await client.query('begin');
  return {
    run: async (statement, param) => {
      await client.query(statement, param === undefined ? [] : [param]);
    },
    commit: async () => {
      await client.query('commit');
      await client.end();
    },
  };
}

/**
 * Another process's hold on the provisioning log, as a second node or the CLI could have it: on SQLite
 * the write lock on the log's own file; on PostgreSQL a table lock that lets reads through and makes
 * inserts wait. Let go with the function returned.
 */
export async function holdProvisioningLog(url: string): Promise<() => Promise<void>> {
  const parsed = parseDatabaseUrl(url);
  if (parsed.dialect === 'sqlite') {
    const conn = new SQLite(provisioningLogFile(parsed.file!));
    conn.exec('begin immediate');
    return async () => {
      conn.exec('commit');
      conn.close();
    };
  }
  const client = new pg.Client({ connectionString: parsed.connectionString });
  await client.connect();
  await client.query('begin');
  await client.query('lock table provisioning_log in share row exclusive mode');
  return async () => {
    await client.query('commit');
    await client.end();
  };
}
