// Route guard: a screen the user may not open shows "You do not have access" (the server would
// answer 403 anyway); Home falls back to the first screen the user may open.
import { Navigate } from 'react-router';
import { atLeast } from '../../../src/identity/catalogue.ts';
import { useSession } from '../auth/session.tsx';
import type { ScreenRoute } from '../routes.tsx';
import { firstOpenableScreen } from './nav.ts';
import { EmptyState } from '../ui/EmptyState.tsx';
import { ButtonLink } from '../ui/Button.tsx';
import { useDocumentTitle } from '../ui/PageHeader.tsx';

export function ScreenGuard({ route }: { route: ScreenRoute }) {
  const { me, level } = useSession();
  const have = level(route.screen);
  if (!atLeast(have, route.level)) {
    if (route.screen === 'home' && route.path === '/') {
      const first = firstOpenableScreen(me.permissions);
      if (first && first !== '/') return <Navigate to={first} replace />;
    }
    return <NoAccess />;
  }
  const C = route.Component;
  return <C />;
}

export function NoAccess() {
  useDocumentTitle('You do not have access');
  return (
    <div className="page">
      <h1>You do not have access</h1>
      <EmptyState title="Your role does not include this screen." action={<ButtonLink to="/">Go to Home</ButtonLink>}>
        Ask an administrator to add it to one of your role groups if you need it.
      </EmptyState>
    </div>
  );
}

export function NotFound() {
  useDocumentTitle('Page not found');
  return (
    <div className="page">
      <h1>Page not found</h1>
      <EmptyState title="There is no screen at this address." action={<ButtonLink to="/">Go to Home</ButtonLink>}>
        Check the address, or use the menu on the left.
      </EmptyState>
    </div>
  );
}
