// Look-ups by key that arrive in the same turn of the event loop, run as one statement. On
// PostgreSQL a statement costs a round trip: a write to the server's socket that wakes a backend,
// the backend's parse of the Bind/Execute messages and an executor start, and the reply's parse
// here, whatever the number of rows. The IdPs' reads (GET by id, `userName eq`) arrive from many
// connections at once; those whose requests were read in one turn of the loop share one
// `where key in (…)` statement, started once the turn's I/O is done (setImmediate), so a lone
// request waits for nothing but the rest of the turn.
//
// What it must not do: change what a request sees. Every look-up in a batch was asked for before
// the statement starts, so it sees every write committed before it was asked for, as it would alone.
// Each caller gets its own copies of the rows for its key. A failed statement fails every look-up
// in it, each with the statement's error.
//
// SerialBatcher does the same for writes, one batch at a time: the writes that arrive while a batch
// runs form the next one (PostgreSQL's user creates; SQLite's group commit, src/scim/scim.writes.ts).

import { setTimeout as sleep } from 'node:timers/promises';

type Waiter<Row> = { key: string; resolve: (rows: Row[]) => void; reject: (err: unknown) => void };


/** Most keys in one statement; a larger batch is split. */
const MAX_KEYS = 100;

/**
 * The sizes of key list a statement is written for. A look-up by many keys is `key in ($1, …, $n)`
 * with n one of these, the keys padded to it by repeating the last one (a repeated key matches the
 * same row once). Not `key = any($1)` with one array parameter: PostgreSQL's generic plan of that
 * assumes 10 elements, so next to the custom plans of batches of 1–3 keys it always looks dearer, and
 * the statement was planned again on every execution (checked with pg_prepared_statements: 8 custom
 * plans and no generic one after 8 executions). With the elements written out (PostgreSQL reads the
 * list as `= any(array[$1, …, $n])`) the generic plan knows their number and is used from the sixth
 * execution on.
 */
export const KEY_LIST_SIZES = [1, 2, 4, 8, 16, 32, 64, MAX_KEYS] as const;

/** `keys` padded to the next size in KEY_LIST_SIZES (at most MAX_KEYS keys). */
export function padKeys(keys: string[]): string[] {
  const size = KEY_LIST_SIZES.find((n) => n >= keys.length) ?? keys.length;
  return keys.length === size ? keys : keys.concat(Array<string>(size - keys.length).fill(keys[keys.length - 1]));
}

/**
 * A look-up by a list of keys, one statement for each size in KEY_LIST_SIZES: `build(n)` gives the
 * statement for n keys, whose parameters are the n keys and then `rest`.
 */
export function byKeyList<Db, Row>(build: (size: number) => (db: Db, ...args: unknown[]) => Promise<Row[]>) {
  const statements = new Map<number, (db: Db, ...args: unknown[]) => Promise<Row[]>>(KEY_LIST_SIZES.map((n) => [n, build(n)]));
  return (db: Db, keys: string[], ...rest: unknown[]): Promise<Row[]> => {
    const padded = padKeys(keys);
    return statements.get(padded.length)!(db, ...padded, ...rest);
  };
}

export class Coalescer<Owner extends object, Row extends object> {
  private pending = new Map<Owner, Map<string, Waiter<Row>[]>>();
  private scheduled = false;

  /**
   * `run` reads the rows for some keys of one owner (a database handle) and group (what else the
   * statement depends on, such as the token it checks); `keyOf` gives the key a row answers.
   */
  constructor(
    private readonly run: (owner: Owner, group: string, keys: string[]) => Promise<Row[]>,
    private readonly keyOf: (row: Row) => string,
  ) {}

  /** The rows for `key`, read together with the other keys asked for in this turn for the same owner and group. */
  load(owner: Owner, group: string, key: string): Promise<Row[]> {
    let groups = this.pending.get(owner);
    if (!groups) this.pending.set(owner, (groups = new Map()));
    let waiters = groups.get(group);
    if (!waiters) groups.set(group, (waiters = []));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return new Promise<Row[]>((resolve, reject) => waiters.push({ key, resolve, reject }));
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const [owner, groups] of pending) {
      for (const [group, waiters] of groups) {
        for (let i = 0; i < waiters.length; i += MAX_KEYS) void this.runBatch(owner, group, waiters.slice(i, i + MAX_KEYS));
      }
    }
  }

  private async runBatch(owner: Owner, group: string, waiters: Waiter<Row>[]): Promise<void> {
    let rows: Row[];
    try {
      rows = await this.run(owner, group, [...new Set(waiters.map((w) => w.key))]);
    } catch (err) {
      for (const w of waiters) w.reject(err);
      return;
    }
    const byKey = new Map<string, Row[]>();
    for (const row of rows) {
      const k = this.keyOf(row);
      const list = byKey.get(k);
      if (list) list.push(row);
      else byKey.set(k, [row]);
    }
    for (const w of waiters) w.resolve((byKey.get(w.key) ?? []).map((r) => ({ ...r })));
  }
}

/** What one item of a batch came to: its value, or the error it alone fails with. */
export type Outcome<Out> = { ok: true; value: Out } | { ok: false; error: unknown };

export interface BatchOptions {
  /** Most items in one batch. */
  max: number;
  /**
   * Most further turns of the event loop a batch waits for more items, as long as each turn brings
   * some (default 0: a batch holds what was submitted in the turn its first item was).
   */
  gatherTurns?: number;
  /**
   * For a `run` that may answer null, "not now" (another process holds a lock): try again this often
   * with what is queued by then; once it has answered null for `giveUpAfterMs`, every queued item
   * fails with `error()`.
   */
  retry?: { everyMs: number; giveUpAfterMs: number; error: () => unknown };
}

/**
 * Writes of one kind, run a batch at a time: items submitted in the same turn of the event loop (or
 * in the next `gatherTurns` turns while they keep coming), or while the previous batch is running,
 * form the next batch (at most `max` items). `run` answers each item of a batch on its own; if it
 * throws, every item of the batch fails with that error; if it answers null, the batch did not run
 * and is tried again (`retry`).
 */
export class SerialBatcher<In, Out> {
  private queue: { item: In; resolve: (v: Out) => void; reject: (err: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly run: (items: In[]) => Promise<Outcome<Out>[] | null>,
    private readonly options: BatchOptions,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) this.startSoon();
    });
  }

  private startSoon(): void {
    this.running = true;
    let seen = 0;
    let turns = 0;
    const gather = () => {
      if (this.queue.length > seen && this.queue.length < this.options.max && turns++ < (this.options.gatherTurns ?? 0)) {
        seen = this.queue.length;
        setImmediate(gather);
      } else void this.drain();
    };
    setImmediate(gather);
  }

  private async drain(): Promise<void> {
    let refusedSince = 0;
    try {
      while (this.queue.length) {
        const batch = this.queue.slice(0, this.options.max);
        let outcomes: Outcome<Out>[] | null;
        try {
          outcomes = await this.run(batch.map((b) => b.item));
        } catch (err) {
          this.queue.splice(0, batch.length);
          for (const b of batch) b.reject(err);
          continue;
        }
        if (outcomes) {
          refusedSince = 0;
          this.queue.splice(0, batch.length);
          batch.forEach((b, i) => {
            const o = outcomes[i];
            if (o.ok) b.resolve(o.value);
            else b.reject(o.error);
          });
          continue;
        }
        const retry = this.options.retry;
        refusedSince ||= Date.now();
        if (!retry || Date.now() - refusedSince > retry.giveUpAfterMs) {
          const err = retry ? retry.error() : new Error('The batch could not run, and there is no retry');
          for (const b of this.queue.splice(0)) b.reject(err);
          break;
        }
        await sleep(retry.everyMs);
      }
    } finally {
      this.running = false;
      if (this.queue.length) this.startSoon();
    }
  }
}
