// The list pattern: filters, sort and cursor live in the URL (bookmarkable); the previous-page
// cursors ride in history state so "Previous" works without the server paging backwards.
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { useLocation, useNavigate, useSearchParams } from 'react-router';
import type { Page } from '../api/types.ts';
import { ApiError, errorText } from '../api/client.ts';
import { BACKWARDS_RANGE, DAY_HINT, isDate, notADay } from '../../../src/platform/time.ts';
import type { SortState } from './Table.tsx';
import { Button } from './Button.tsx';
import { Banner } from './EmptyState.tsx';
import { dateInputType } from './Field.tsx';
import { FieldErrors } from './form.tsx';

interface PagerState {
  prev?: (string | null)[];
}

export interface ListParams {
  /** Filter values from the URL (everything except cursor/sort/dir). */
  filters: Record<string, string>;
  cursor: string | null;
  sort: SortState | null;
  /**
   * Applies filter values (an empty one removes its filter) and goes back to the first page. With
   * `step`, the change is a step in the browser's history (Back returns to the filters before it):
   * for what the user applies on purpose (Search, Apply). Without, it replaces the current step: for
   * fields that apply as they change, which would otherwise leave a step per keystroke.
   */
  setFilters: (next: Record<string, string>, options?: { step?: boolean }) => void;
  setSort: (sort: SortState) => void;
  next: (cursor: string) => void;
  previous: () => void;
  first: () => void;
  hasPrevious: boolean;
  pageNumber: number;
}

export function useListParams(filterKeys: string[]): ListParams {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const location = useLocation();
  const state = (location.state ?? {}) as PagerState;
  const prev = state.prev ?? [];
  const cursor = params.get('cursor');

  const filters = useMemo(() => Object.fromEntries(filterKeys.map((k) => [k, params.get(k) ?? ''])), [params, filterKeys.join(',')]);
  const sortKey = params.get('sort');
  const sort = useMemo<SortState | null>(() => (sortKey ? { key: sortKey, dir: params.get('dir') === 'desc' ? 'desc' : 'asc' } : null), [sortKey, params]);

  const go = useCallback(
    (mutate: (p: URLSearchParams) => void, nextState: PagerState, replace = false) => {
      // The address as it is now, not as this render saw it: the router shows a navigation in a
      // transition, so a second change made before the screen redraws (two fields filled in one
      // moment) would otherwise start from the old address and undo the first.
      const now = new URLSearchParams(window.location.search);
      const p = new URLSearchParams(now);
      mutate(p);
      const s = p.toString();
      // Applying the filters already applied is no step of its own.
      navigate({ pathname: location.pathname, search: s ? `?${s}` : '' }, { state: nextState, replace: replace || s === now.toString() });
    },
    [location.pathname, navigate],
  );

  return {
    filters,
    cursor,
    sort,
    setFilters: (next, options) =>
      go((p) => {
        for (const [k, v] of Object.entries(next)) {
          if (v) p.set(k, v);
          else p.delete(k);
        }
        p.delete('cursor');
      }, {}, !options?.step),
    setSort: (s) =>
      go((p) => {
        p.set('sort', s.key);
        p.set('dir', s.dir);
      }, state, true),
    next: (c) => go((p) => p.set('cursor', c), { prev: [...prev, cursor] }),
    previous: () => {
      const before = prev[prev.length - 1] ?? null;
      go((p) => (before ? p.set('cursor', before) : p.delete('cursor')), { prev: prev.slice(0, -1) });
    },
    first: () => go((p) => p.delete('cursor'), {}),
    hasPrevious: prev.length > 0,
    pageNumber: prev.length + 1,
  };
}

export interface ListData<T, P extends Page<T> = Page<T>> {
  page: P | null;
  loading: boolean;
  error: string | null;
  /**
   * Field errors of the last load (the server's `error.fields`, or FieldErrors the loader threw
   * before sending anything), for the screen to show next to its filters. While there are any,
   * `page` is the previous answer, not one for the filters shown.
   */
  fields: Record<string, string>;
  /**
   * The error of filter `name` while its field holds `value`: `fields[name]` if `value` is what the
   * load that gave it sent, else none. So an error goes once its field is changed (before Apply, or by
   * back/forward), and does not sit under a value it is not about while the next load is on its way.
   */
  fieldError: (name: string, value: string) => string | undefined;
  reload: () => void;
}

const NO_FIELDS: Record<string, string> = {};
const NO_ERRORS = { fields: NO_FIELDS, query: {} as Record<string, string | number | null> };

/** Loads one page whenever the query changes; stale answers are dropped. */
export function useList<T, P extends Page<T> = Page<T>>(load: (q: Record<string, string | number | null>, signal: AbortSignal) => Promise<P>, query: Record<string, string | number | null>): ListData<T, P> {
  const [page, setPage] = useState<P | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  // The field errors of the last load, with the query it sent.
  const [failed, setFailed] = useState(NO_ERRORS);
  const [tick, setTick] = useState(0);
  const key = JSON.stringify(query);
  const loadRef = useRef(load);
  loadRef.current = load;
  useEffect(() => {
    const ctrl = new AbortController();
    const sent = JSON.parse(key) as Record<string, string | number | null>;
    setLoading(true);
    loadRef
      .current(sent, ctrl.signal)
      .then((p) => {
        setPage(p);
        setError(null);
        setFailed(NO_ERRORS);
      })
      .catch((e) => {
        if ((e as Error).name === 'AbortError') return;
        setError(errorText(e));
        setFailed(e instanceof ApiError || e instanceof FieldErrors ? { fields: e.fields, query: sent } : NO_ERRORS);
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [key, tick]);
  const fieldError = (name: string, value: string) => (String(failed.query[name] ?? '') === value ? failed.fields[name] : undefined);
  return { page, loading, error, fields: failed.fields, fieldError, reload: () => setTick((t) => t + 1) };
}

export function Pager({ list, nextCursor, count }: { list: ListParams; nextCursor: string | null | undefined; count: number }) {
  const rows = count === 1 ? '1 row' : `${count} rows`;
  // A single page: just say how many rows there are.
  if (!list.cursor && !nextCursor) return count > 0 ? <div className="pager pager-info">{rows}</div> : null;
  // Opened from a bookmark in the middle of a list: we cannot page back, only restart.
  const back = list.hasPrevious ? list.previous : list.first;
  return (
    <nav className="pager" aria-label="Pages">
      <Button small onClick={back} disabled={!list.cursor}>
        {list.cursor && !list.hasPrevious ? '« First page' : '‹ Previous'}
      </Button>
      <span className="pager-info">{list.cursor && !list.hasPrevious ? rows : `Page ${list.pageNumber} · ${rows}`}</span>
      <Button small onClick={() => nextCursor && list.next(nextCursor)} disabled={!nextCursor}>
        Next ›
      </Button>
      {/* A column sorts the rows shown; the pages follow the list's own order. */}
      {list.sort && <span className="pager-note">Sorted within this page</span>}
    </nav>
  );
}

/**
 * The filter bar: a search box (submitted with Enter) plus any selects, which apply at once.
 * Values come from and go to the URL through ListParams.
 */
/**
 * A field's own value, which follows the URL's `name` when that changes, and on Back and Forward in
 * any case: a navigation is shown in a transition, and one that was overtaken before it was shown
 * (a search, then Back at once) leaves the shown URL value as it was, so following it alone kept the
 * text typed for a search that Back had undone.
 */
function useFollowingUrl(name: string, fromUrl: string): [string, (value: string) => void] {
  const [value, setValue] = useState(fromUrl);
  useEffect(() => setValue(fromUrl), [fromUrl]);
  useEffect(() => {
    const follow = () => setValue(new URLSearchParams(window.location.search).get(name) ?? '');
    window.addEventListener('popstate', follow);
    return () => window.removeEventListener('popstate', follow);
  }, [name]);
  return [value, setValue];
}

export function FilterBar({ list, searchKey = 'q', searchLabel = 'Search', placeholder, children }: { list: ListParams; searchKey?: string; searchLabel?: string; placeholder?: string; children?: ReactNode }) {
  const [text, setText] = useFollowingUrl(searchKey, list.filters[searchKey] ?? '');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    list.setFilters({ [searchKey]: text.trim() }, { step: true });
  };
  return (
    <form className="filter-bar" role="search" onSubmit={submit}>
      <label className="visually-hidden" htmlFor="list-search">
        {searchLabel}
      </label>
      <input id="list-search" className="input filter-search" type="search" value={text} placeholder={placeholder ?? searchLabel} onChange={(e) => setText(e.target.value)} />
      <Button type="submit">Search</Button>
      {children}
    </form>
  );
}

/**
 * The value of a filter field that applies at once: what was chosen, shown at once, and the URL's
 * value whenever the URL changes (back, forward, a link). The router shows a new URL in a
 * transition, which must not set a field's value: React puts a controlled field's old value back
 * as its change event ends, and the field would show it until the transition did.
 */
function useFilterValue(list: ListParams, name: string): { value: string; fromUrl: string; change: (value: string) => void } {
  const fromUrl = list.filters[name] ?? '';
  const [value, setValue] = useFollowingUrl(name, fromUrl);
  const change = (next: string) => {
    setValue(next);
    list.setFilters({ [name]: next });
  };
  return { value, fromUrl, change };
}

/** A labelled select inside the filter bar that applies immediately. */
export function FilterSelect({ list, name, label, options }: { list: ListParams; name: string; label: string; options: { value: string; label: string }[] }) {
  const id = `filter-${name}`;
  const { value, change } = useFilterValue(list, name);
  return (
    <span className="filter-select">
      <label htmlFor={id}>{label}</label>
      <select id={id} className="select" value={value} onChange={(e) => change(e.target.value)}>
        <option value="">All</option>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </span>
  );
}

/**
 * What is wrong with a from/to pair of day filters, as the API words it (src/platform/time-query.ts):
 * a value that is not a day, or a from after to. Empty when both are days or absent.
 */
export function dayRangeErrors(from: string, to: string): Record<string, string> {
  const problems: Record<string, string> = {};
  for (const [name, value] of [['from', from], ['to', to]] as const) {
    if (value && !isDate(value)) problems[name] = notADay(value) ?? DAY_HINT;
  }
  if (!problems.from && !problems.to && from && to && from > to) {
    problems.from = BACKWARDS_RANGE.from;
    problems.to = BACKWARDS_RANGE.to;
  }
  return problems;
}

/**
 * A day filter inside the filter bar that applies at once, with its error beside it. A value that is
 * not a day (from a bookmarked URL) stays in the field as text, so what the error names is visible.
 * `error` is about the URL's value, so it is shown only while the field holds that value.
 */
export function FilterDate({ list, name, label, error: urlError }: { list: ListParams; name: string; label: string; error?: string }) {
  const id = `filter-${name}`;
  const errId = `${useId()}-err`;
  const { value, fromUrl, change } = useFilterValue(list, name);
  const error = value === fromUrl ? urlError : undefined;
  return (
    <span className={['filter-select', error ? 'field-invalid' : ''].filter(Boolean).join(' ')}>
      <label htmlFor={id}>{label}</label>
      <input
        id={id}
        type={dateInputType(value)}
        className="input"
        value={value}
        onChange={(e) => change(e.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? errId : undefined}
      />
      {error && (
        <span id={errId} className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}

/**
 * What goes under a list's filters: `children` (the list), below the load's error if there is one. While
 * a from or to filter is wrong (its error in `fields`), the page held is not one for the dates shown, so
 * a notice that no `what` are shown takes the list's place.
 */
export function ListResults({ data, what, children }: { data: Pick<ListData<unknown>, 'error' | 'fields'>; what: string; children: ReactNode }) {
  if (data.fields.from || data.fields.to) return <Banner tone="warning">No {what} are shown until the dates are corrected.</Banner>;
  return (
    <>
      {data.error && <Banner>{data.error}</Banner>}
      {children}
    </>
  );
}

export function useExpanded(): [ReadonlySet<string>, (key: string) => void] {
  const [set, setSet] = useState<ReadonlySet<string>>(new Set());
  const toggle = useCallback((key: string) => {
    setSet((s) => {
      const n = new Set(s);
      if (n.has(key)) n.delete(key);
      else n.add(key);
      return n;
    });
  }, []);
  return [set, toggle];
}
