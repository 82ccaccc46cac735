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
// runs form the next one.

type Waiter<Row> = { key: string; resolve: (rows: Row[]) => void; reject: (err: unknown) => void };

interface Batch<Row> {
  run: (keys: string[]) => Promise<Row[]>;
  waiters: Waiter<Row>[];
}

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

export class Coalescer<Row extends object> {
  private pending = new Map<object, Map<string, Batch<Row>>>();
  private scheduled = false;

  /** `keyOf` gives the key a row answers (the column the statement matches the keys against). */
  constructor(private readonly keyOf: (row: Row) => string) {}

  /**
   * The rows for `key`, read by `run` together with the other keys asked for in this turn for the
   * same `owner` (a database handle) and `group` (what else the statement depends on, beyond the
   * keys: `run` of the first look-up in a group is the one used for all of them).
   */
  load(owner: object, group: string, key: string, run: (keys: string[]) => Promise<Row[]>): Promise<Row[]> {
    let groups = this.pending.get(owner);
    if (!groups) this.pending.set(owner, (groups = new Map()));
    let batch = groups.get(group);
    if (!batch) groups.set(group, (batch = { run, waiters: [] }));
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return new Promise<Row[]>((resolve, reject) => batch.waiters.push({ key, resolve, reject }));
  }

  private flush(): void {
    const pending = this.pending;
    this.pending = new Map();
    this.scheduled = false;
    for (const groups of pending.values()) {
      for (const { run, waiters } of groups.values()) {
        for (let i = 0; i < waiters.length; i += MAX_KEYS) void this.runBatch(run, waiters.slice(i, i + MAX_KEYS));
      }
    }
  }

  private async runBatch(run: (keys: string[]) => Promise<Row[]>, waiters: Waiter<Row>[]): Promise<void> {
    let rows: Row[];
    try {
      rows = await run([...new Set(waiters.map((w) => w.key))]);
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

/**
 * Writes of one kind, run a batch at a time: items submitted in the same turn of the event loop, or
 * while the previous batch is running, form the next batch (at most `max` items). `run` answers each
 * item of a batch on its own; if it throws, every item of the batch fails with that error.
 */
export class SerialBatcher<In, Out> {
  private queue: { item: In; resolve: (v: Out) => void; reject: (err: unknown) => void }[] = [];
  private running = false;

  constructor(
    private readonly run: (items: In[]) => Promise<Outcome<Out>[]>,
    private readonly max: number,
  ) {}

  submit(item: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (!this.running) {
        this.running = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length) {
      const batch = this.queue.splice(0, this.max);
      try {
        const outcomes = await this.run(batch.map((b) => b.item));
        batch.forEach((b, i) => {
          const o = outcomes[i];
          if (o.ok) b.resolve(o.value);
          else b.reject(o.error);
        });
      } catch (err) {
        for (const b of batch) b.reject(err);
      }
    }
    this.running = false;
  }
}
