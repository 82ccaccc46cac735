// Global search in the top bar: accounts by name/number, users by name (GET /api/search).
// A combobox: type, arrow through results, Enter opens one, Escape closes.
import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useNavigate } from 'react-router';
import { searchApi } from '../api/identity.ts';

interface Hit {
  kind: 'Account' | 'User';
  label: string;
  detail: string;
  to: string;
}

export function SearchBox() {
  const [q, setQ] = useState('');
  const [hits, setHits] = useState<Hit[] | null>(null);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(0);
  const navigate = useNavigate();
  const listId = useId();
  const boxRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    const text = q.trim();
    if (text.length < 2) {
      setHits(null);
      return;
    }
    const ctrl = new AbortController();
    const t = setTimeout(() => {
      searchApi
        .search(text, ctrl.signal)
        .then((r) => {
          const out: Hit[] = [
            ...(r.accounts ?? []).map((a) => ({ kind: 'Account' as const, label: a.name, detail: a.number, to: `/accounts/${encodeURIComponent(a.id)}` })),
            ...(r.users ?? []).map((u) => ({ kind: 'User' as const, label: u.displayName || u.userName, detail: u.userName, to: `/setup/users/${encodeURIComponent(u.id)}` })),
          ];
          setHits(out);
          setActive(0);
          setOpen(true);
        })
        .catch(() => {
          /* search is best-effort; errors show as no results */
        });
    }, 200);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [q]);

  useEffect(() => {
    const onDoc = (e: MouseEvent) => {
      if (boxRef.current && !boxRef.current.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('mousedown', onDoc);
    return () => document.removeEventListener('mousedown', onDoc);
  }, []);

  const go = (h: Hit) => {
    setOpen(false);
    setQ('');
    navigate(h.to);
  };

  const onKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (!hits || hits.length === 0) return;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setOpen(true);
      setActive((a) => (a + 1) % hits.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (a - 1 + hits.length) % hits.length);
    } else if (e.key === 'Enter' && open) {
      e.preventDefault();
      go(hits[active]);
    } else if (e.key === 'Escape') {
      setOpen(false);
    }
  };

  const showList = open && hits !== null;
  return (
    <div className="search" ref={boxRef}>
      <label htmlFor="global-search" className="visually-hidden">
        Search accounts and users
      </label>
      <input
        id="global-search"
        className="input search-input"
        type="search"
        placeholder="Search accounts and users"
        autoComplete="off"
        role="combobox"
        aria-expanded={showList}
        aria-controls={listId}
        aria-activedescendant={showList && hits.length ? `${listId}-${active}` : undefined}
        value={q}
        onChange={(e) => setQ(e.target.value)}
        onFocus={() => hits && setOpen(true)}
        onKeyDown={onKey}
      />
      {showList && (
        <ul id={listId} role="listbox" className="search-results">
          {hits.length === 0 && <li className="search-empty">Nothing matches “{q.trim()}”.</li>}
          {hits.map((h, i) => (
            <li
              key={h.to}
              id={`${listId}-${i}`}
              role="option"
              aria-selected={i === active}
              className={i === active ? 'search-hit search-hit-active' : 'search-hit'}
              onMouseDown={(e) => {
                e.preventDefault();
                go(h);
              }}
              onMouseEnter={() => setActive(i)}
            >
              <span className="search-kind">{h.kind}</span>
              <span className="search-label">{h.label}</span>
              <span className="search-detail">{h.detail}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
