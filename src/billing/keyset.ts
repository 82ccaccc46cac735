// Keyset paging for billing lists: "rows after this sort key" as portable SQL (no row-value syntax).
import type { ExpressionBuilder } from 'kysely';

export function after(eb: ExpressionBuilder<any, any>, columns: string[], values: unknown[], dir: 'asc' | 'desc') {
  const op = dir === 'asc' ? '>' : '<';
  return eb.or(
    columns.map((col, i) =>
      eb.and([...columns.slice(0, i).map((prev, j) => eb(prev, '=', values[j] as any)), eb(col, op, values[i] as any)]),
    ),
  );
}
