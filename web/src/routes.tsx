// Every screen of the admin UI in one table: its path and the catalogue screen it belongs to.
// The guard, the menu and the server all use the same screen keys (src/identity/catalogue.ts).
// Screens load lazily so the first paint only carries the shell.
import { lazy, type ComponentType, type LazyExoticComponent } from 'react';
import type { Level, ScreenKey } from '../../src/identity/catalogue.ts';
import { screenPath } from './shell/nav.ts';

export interface ScreenRoute {
  path: string;
  screen: ScreenKey;
  /** Level needed to open this route (creation pages need Full Permission). */
  level: Level;
  Component: LazyExoticComponent<ComponentType>;
}

type Loader = () => Promise<{ default: ComponentType }>;

function route(screen: ScreenKey, sub: string, load: Loader, level: Level = 'read'): ScreenRoute {
  const base = screenPath(screen);
  const path = sub ? `${base === '/' ? '' : base}/${sub}` : base;
  return { path, screen, level, Component: lazy(load) };
}

export const SCREEN_ROUTES: ScreenRoute[] = [
  route('home', '', () => import('./screens/billing/HomeScreen.tsx')),
  route('accounts', '', () => import('./screens/billing/AccountsScreen.tsx')),
  route('accounts', ':id', () => import('./screens/billing/AccountDetailScreen.tsx')),
  route('products', '', () => import('./screens/billing/ProductsScreen.tsx')),
  route('usage', '', () => import('./screens/billing/UsageScreen.tsx')),
  route('invoices', '', () => import('./screens/billing/InvoicesScreen.tsx')),
  route('invoices', ':id', () => import('./screens/billing/InvoiceDetailScreen.tsx')),
  route('payments', '', () => import('./screens/billing/PaymentsScreen.tsx')),
  route('reports', '', () => import('./screens/billing/ReportsScreen.tsx')),
  route('users', '', () => import('./screens/identity/UsersScreen.tsx')),
  route('users', 'new', () => import('./screens/identity/NewUserScreen.tsx'), 'full'),
  route('users', ':id', () => import('./screens/identity/UserDetailScreen.tsx')),
  route('roles', '', () => import('./screens/identity/RolesScreen.tsx')),
  route('roles', 'new', () => import('./screens/identity/RoleDetailScreen.tsx'), 'full'),
  route('roles', ':id', () => import('./screens/identity/RoleDetailScreen.tsx')),
  route('role-groups', '', () => import('./screens/identity/RoleGroupsScreen.tsx')),
  route('role-groups', 'new', () => import('./screens/identity/RoleGroupDetailScreen.tsx'), 'full'),
  route('role-groups', ':id', () => import('./screens/identity/RoleGroupDetailScreen.tsx')),
  route('saml-settings', '', () => import('./screens/saml/SamlSettingsScreen.tsx')),
  route('provisioning-log', '', () => import('./screens/identity/ProvisioningLogScreen.tsx')),
  route('audit-log', '', () => import('./screens/identity/AuditLogScreen.tsx')),
];
