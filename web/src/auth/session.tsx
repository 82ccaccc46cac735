// Who is signed in and what they may open. GET /api/me is re-read on every navigation and when
// the window regains focus, so a role-group change made by an admin applies to an open session
// at the next click, without signing in again (the server enforces it on every request anyway).
import { createContext, useCallback, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { ApiError, FORBIDDEN_EVENT, loginUrl, setCsrfToken } from '../api/client.ts';
import { authApi } from '../api/identity.ts';
import type { Me } from '../api/types.ts';
import { atLeast, type Level, type ScreenKey } from '../../../src/identity/catalogue.ts';
import { setDisplayPreferences } from '../ui/format.tsx';
import { Spinner } from '../ui/EmptyState.tsx';

interface SessionValue {
  me: Me;
  refresh: () => Promise<void>;
  /** The user's level on a screen. */
  level: (screen: ScreenKey) => Level;
  /** True when the user may change things on that screen (Full Permission). */
  canEdit: (screen: ScreenKey) => boolean;
  canRead: (screen: ScreenKey) => boolean;
}

const SessionContext = createContext<SessionValue | null>(null);

type State = { status: 'loading' } | { status: 'signedOut' } | { status: 'error'; message: string } | { status: 'signedIn'; me: Me };

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<State>({ status: 'loading' });
  const location = useLocation();
  const inflight = useRef<Promise<void> | null>(null);

  const refresh = useCallback(() => {
    if (inflight.current) return inflight.current;
    const p = authApi
      .me()
      .then((me) => {
        setCsrfToken(me.csrfToken);
        setDisplayPreferences(me.user.timeZone, me.user.locale);
        setState((prev) => (prev.status === 'signedIn' && JSON.stringify(prev.me) === JSON.stringify(me) ? prev : { status: 'signedIn', me }));
      })
      .catch((e) => {
        if (e instanceof ApiError && e.status === 401) {
          setCsrfToken(null);
          setState({ status: 'signedOut' });
        } else setState((prev) => (prev.status === 'signedIn' ? prev : { status: 'error', message: (e as Error).message }));
      })
      .finally(() => {
        inflight.current = null;
      });
    inflight.current = p;
    return p;
  }, []);

  // Every navigation re-reads permissions (cheap: one small GET).
  useEffect(() => {
    void refresh();
  }, [location.pathname, refresh]);

  useEffect(() => {
    const onFocus = () => void refresh();
    window.addEventListener('focus', onFocus);
    window.addEventListener(FORBIDDEN_EVENT, onFocus);
    return () => {
      window.removeEventListener('focus', onFocus);
      window.removeEventListener(FORBIDDEN_EVENT, onFocus);
    };
  }, [refresh]);

  if (state.status === 'loading') return <Spinner />;
  if (state.status === 'signedOut') return <Navigate to={loginUrl(location.pathname + location.search)} replace />;
  if (state.status === 'error')
    return (
      <div className="center-page">
        <p>Ledgerline could not load your session: {state.message}</p>
      </div>
    );
  const me = state.me;
  const level = (s: ScreenKey): Level => me.permissions[s] ?? 'none';
  const value: SessionValue = {
    me,
    refresh,
    level,
    canEdit: (s) => level(s) === 'full',
    canRead: (s) => atLeast(level(s), 'read'),
  };
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const ctx = useContext(SessionContext);
  if (!ctx) throw new Error('useSession outside SessionProvider');
  return ctx;
}

/** Shorthand for screens: may this user change things here? */
export function useCanEdit(screen: ScreenKey): boolean {
  return useSession().canEdit(screen);
}
