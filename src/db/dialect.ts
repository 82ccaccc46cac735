// Dialect-specific SQL fragments, kept here so feature code stays on one query path.
import { sql, type Kysely, type RawBuilder } from 'kysely';
import { PostgresAdapter } from 'kysely';

export function isPostgres(db: Kysely<any>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** The text value at a JSON path inside a JSON text column (`path` like ['name', 'givenName']). */
export function jsonText(db: Kysely<any>, column: string, path: string[]): RawBuilder<string | null> {
  if (isPostgres(db)) {
    const keys = sql.join(path.map((p) => sql.lit(p)), sql`,`);
    return sql<string | null>`(${sql.ref(column)}::jsonb #>> array[${keys}]::text[])`;
  }
  const jsonPath = '$' + path.map((p) => `."${p.replace(/"/g, '')}"`).join('');
  return sql<string | null>`json_extract(${sql.ref(column)}, ${sql.lit(jsonPath)})`;
}

/** Case-insensitive LIKE on both databases. */
export function ilike(db: Kysely<any>, column: string, pattern: string): RawBuilder<boolean> {
  if (isPostgres(db)) return sql<boolean>`${sql.ref(column)} ilike ${pattern}`;
  return sql<boolean>`lower(${sql.ref(column)}) like lower(${pattern}) escape '\\'`;
}

/** Escapes % _ and \ in a user-supplied fragment for LIKE. */
export function likeEscape(s: string): string {
  return s.replace(/[\\%_]/g, (c) => '\\' + c);
}
