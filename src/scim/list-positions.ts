// Where deep startIndex pages of /Users begin, remembered. A page at startIndex s skips s - 1 users
// in (created, id) order; the database does that one index entry at a time (PostgreSQL: 24 ms at
// 100,000), and an IdP import walks every page in turn. Each deep page read here also reads the list's
// version (the sum of the counter shards' change counts, migration 010) in the same statement, and the
// key of its last user is remembered as "position p of version v". A later page at offset o >= p can
// then start after that key and skip only o - p users, but only if the statement that reads it sees
// the same version: otherwise a user was added or removed since, positions may have moved, and the
// caller reads the page again the long way. The version counts every committed insert and delete of a
// listed user, so an equal version means the same set of users, and position p still holds that key.
//
// One instance per database handle, in process memory; each server process learns its own.

export interface ListKey {
  created: string;
  id: string;
}

export class ListPositions {
  private version: string | null = null;
  /** Remembered positions, ascending, for the nearest-below search. */
  private positions: number[] = [];
  /** position -> key, in the order remembered (the oldest is evicted first). */
  private keys = new Map<number, ListKey>();

  constructor(private readonly capacity = 4096) {}

  /** The remembered position nearest at or before `offset` (users to skip), with its key and version. */
  nearest(offset: number): { position: number; key: ListKey; version: string } | null {
    if (this.version === null) return null;
    let lo = 0;
    let hi = this.positions.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (this.positions[mid] <= offset) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (found < 0) return null;
    const position = this.positions[found];
    return { position, key: this.keys.get(position)!, version: this.version };
  }

  /** The user at 1-based `position` of the list at `version` has `key`. A new version forgets the old. */
  remember(version: string, position: number, key: ListKey): void {
    if (version !== this.version) {
      this.version = version;
      this.positions = [];
      this.keys.clear();
    }
    if (this.keys.has(position)) return;
    if (this.keys.size >= this.capacity) {
      const oldest = this.keys.keys().next().value as number;
      this.keys.delete(oldest);
      this.positions.splice(this.insertionPoint(oldest), 1);
    }
    this.keys.set(position, key);
    this.positions.splice(this.insertionPoint(position), 0, position);
  }

  get size(): number {
    return this.keys.size;
  }

  private insertionPoint(position: number): number {
    let lo = 0;
    let hi = this.positions.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.positions[mid] < position) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

const perDatabase = new WeakMap<object, ListPositions>();

/** The positions remembered for the users list of database handle `db`. */
export function listPositionsOf(db: object): ListPositions {
  let p = perDatabase.get(db);
  if (!p) perDatabase.set(db, (p = new ListPositions()));
  return p;
}
