// Entry point of the admin UI: router, toasts, session, shell.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { createBrowserRouter, Outlet, RouterProvider } from 'react-router';
import './ui/ui.css';
import { SessionProvider } from './auth/session.tsx';
import { SCREEN_ROUTES } from './routes.tsx';
import LoginScreen from './screens/LoginScreen.tsx';
import { NotFound, ScreenGuard } from './shell/Guard.tsx';
import { Shell } from './shell/Shell.tsx';
import { ToastProvider } from './ui/Toast.tsx';

function Root() {
  return (
    <ToastProvider>
      <Outlet />
    </ToastProvider>
  );
}

function SignedIn() {
  return (
    <SessionProvider>
      <Shell />
    </SessionProvider>
  );
}

const router = createBrowserRouter([
  {
    element: <Root />,
    children: [
      { path: '/login', element: <LoginScreen /> },
      {
        element: <SignedIn />,
        children: [...SCREEN_ROUTES.map((r) => ({ path: r.path, element: <ScreenGuard route={r} /> })), { path: '*', element: <NotFound /> }],
      },
    ],
  },
]);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RouterProvider router={router} />
  </StrictMode>,
);
