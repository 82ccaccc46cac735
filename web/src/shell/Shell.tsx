// The signed-in frame: left menu from the permission catalogue, top bar with global search, the
// signed-in person and sign-out. Screens render in the main area.
import { Suspense, useState } from 'react';
import { NavLink, Outlet } from 'react-router';
import { visibleMenu, type Menu } from '../../../src/identity/catalogue.ts';
import { authApi } from '../api/identity.ts';
import { setCsrfToken } from '../api/client.ts';
import { useSession } from '../auth/session.tsx';
import { Spinner } from '../ui/EmptyState.tsx';
import { SearchBox } from './SearchBox.tsx';

function MenuTree({ menus }: { menus: Menu[] }) {
  return (
    <ul className="menu">
      {menus.map((m) => {
        if (m.screens.length === 1 && m.screens[0].key === m.key) {
          const s = m.screens[0];
          return (
            <li key={m.key}>
              <NavLink to={s.path} end={s.path === '/'} className="menu-link" data-screen={s.key}>
                {s.label}
              </NavLink>
            </li>
          );
        }
        let last: string | undefined;
        return (
          <li key={m.key} className="menu-group">
            <div className="menu-heading">{m.label}</div>
            <ul>
              {m.screens.map((s) => {
                const heading = s.section && s.section !== last ? s.section : null;
                last = s.section;
                return (
                  <li key={s.key}>
                    {heading && <div className="menu-section">{heading}</div>}
                    <NavLink to={s.path} className={s.section ? 'menu-link menu-link-deep' : 'menu-link menu-link-sub'} data-screen={s.key}>
                      {s.label}
                    </NavLink>
                  </li>
                );
              })}
            </ul>
          </li>
        );
      })}
    </ul>
  );
}

async function signOut(viaSso: boolean): Promise<void> {
  if (viaSso) {
    // The SAML logout endpoint ends our session and, when the IdP supports it, theirs.
    window.location.assign('/AuthorizationServer/Saml2/Logout');
    return;
  }
  try {
    await authApi.logout();
  } catch {
    // Signed out already or server unreachable: the login page is the right place either way.
  }
  setCsrfToken(null);
  window.location.assign('/login');
}

export function Shell() {
  const { me } = useSession();
  const menus = visibleMenu(me.permissions);
  const [busy, setBusy] = useState(false);
  const name = me.user.displayName || me.user.userName;
  const onSignOut = async () => {
    setBusy(true);
    let viaSso = false;
    if (me.user.signInMethod === 'saml') {
      try {
        viaSso = (await authApi.sso()).enabled;
      } catch {
        viaSso = false;
      }
    }
    await signOut(viaSso);
  };
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        Skip to content
      </a>
      <header className="topbar">
        <NavLink to="/" className="brand">
          Ledgerline
        </NavLink>
        <SearchBox />
        <div className="topbar-user">
          <span className="user-name" title={me.user.role ? `${me.user.userName} · ${me.user.role.name}` : me.user.userName} data-testid="signed-in-user">
            {name}
          </span>
          <button type="button" className="btn btn-ghost btn-small" onClick={onSignOut} disabled={busy}>
            Sign out
          </button>
        </div>
      </header>
      <nav className="sidebar" aria-label="Main menu">
        <MenuTree menus={menus} />
      </nav>
      <main id="main" className="main" tabIndex={-1}>
        <Suspense fallback={<Spinner />}>
          <Outlet />
        </Suspense>
      </main>
    </div>
  );
}
