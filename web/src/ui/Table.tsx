// The one table: zebra rows, right-aligned numbers, sortable column headers (buttons, so the
// keyboard reaches them), optional expandable rows for logs.
import { Fragment, useMemo, type ReactNode } from 'react';

export interface Column<T> {
  key: string;
  header: ReactNode;
  render: (row: T) => ReactNode;
  /** Value used for sorting; a column without it is not sortable. */
  sortValue?: (row: T) => string | number | null | undefined;
  align?: 'left' | 'right' | 'center';
  width?: string;
  className?: string;
}

export type SortDir = 'asc' | 'desc';
export interface SortState {
  key: string;
  dir: SortDir;
}

export interface TableProps<T> {
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  sort?: SortState | null;
  onSort?: (sort: SortState) => void;
  /** When given, each row gets a toggle and this content shows under it when expanded. */
  renderExpanded?: (row: T) => ReactNode;
  expanded?: ReadonlySet<string>;
  onToggle?: (key: string) => void;
  rowClassName?: (row: T) => string | undefined;
  caption?: string;
  dense?: boolean;
}

function compare(a: string | number | null | undefined, b: string | number | null | undefined): number {
  if (a == null && b == null) return 0;
  if (a == null) return 1;
  if (b == null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

export function sortRows<T>(rows: T[], columns: Column<T>[], sort: SortState | null | undefined): T[] {
  if (!sort) return rows;
  const col = columns.find((c) => c.key === sort.key);
  if (!col?.sortValue) return rows;
  const sv = col.sortValue;
  const out = [...rows].sort((x, y) => compare(sv(x), sv(y)));
  return sort.dir === 'desc' ? out.reverse() : out;
}

export function Table<T>({ columns, rows, rowKey, sort, onSort, renderExpanded, expanded, onToggle, rowClassName, caption, dense }: TableProps<T>) {
  const sorted = useMemo(() => sortRows(rows, columns, sort), [rows, columns, sort]);
  const span = columns.length + (renderExpanded ? 1 : 0);
  return (
    <div className="table-wrap">
      <table className={['table', dense ? 'table-dense' : ''].filter(Boolean).join(' ')}>
        {caption && <caption className="visually-hidden">{caption}</caption>}
        <thead>
          <tr>
            {renderExpanded && (
              <th className="col-toggle">
                <span className="visually-hidden">Details</span>
              </th>
            )}
            {columns.map((c) => {
              const active = sort?.key === c.key;
              const ariaSort = active ? (sort!.dir === 'asc' ? 'ascending' : 'descending') : undefined;
              return (
                <th key={c.key} style={c.width ? { width: c.width } : undefined} className={[c.align ? `align-${c.align}` : '', c.className ?? ''].join(' ')} aria-sort={ariaSort}>
                  {c.sortValue && onSort ? (
                    <button
                      type="button"
                      className={['sort-button', active ? 'sort-active' : ''].join(' ')}
                      onClick={() => onSort({ key: c.key, dir: active && sort!.dir === 'asc' ? 'desc' : 'asc' })}
                    >
                      {c.header}
                      <span className="sort-mark" aria-hidden="true">
                        {active ? (sort!.dir === 'asc' ? '▲' : '▼') : '↕'}
                      </span>
                    </button>
                  ) : (
                    c.header
                  )}
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => {
            const key = rowKey(row);
            const open = expanded?.has(key) ?? false;
            return (
              <Fragment key={key}>
                <tr className={[rowClassName?.(row) ?? '', open ? 'row-open' : ''].join(' ')}>
                  {renderExpanded && (
                    <td className="col-toggle">
                      <button type="button" className="row-toggle" aria-expanded={open} aria-label={open ? 'Hide details' : 'Show details'} onClick={() => onToggle?.(key)}>
                        {open ? '▾' : '▸'}
                      </button>
                    </td>
                  )}
                  {columns.map((c) => (
                    <td key={c.key} className={[c.align ? `align-${c.align}` : '', c.className ?? ''].join(' ')}>
                      {c.render(row)}
                    </td>
                  ))}
                </tr>
                {renderExpanded && open && (
                  <tr className="row-detail">
                    <td colSpan={span}>{renderExpanded(row)}</td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
