// The permission catalogue: every menu and screen of Ledgerline, in menu order.
// One source for the server's route guards, the role-group matrix and the UI's menu.
// Pure data: imported by the web UI too, so it must not import anything from Node.

export type Level = 'none' | 'read' | 'full';
export const LEVELS: readonly Level[] = ['none', 'read', 'full'];
export const LEVEL_LABEL: Record<Level, string> = { none: 'No Permission', read: 'Read Only', full: 'Full Permission' };

export interface Screen {
  key: ScreenKey;
  label: string;
  /** UI path of the screen. */
  path: string;
  /** Sub-heading inside its menu, e.g. "Users & Accounts". */
  section?: string;
}

export interface Menu {
  key: string;
  label: string;
  screens: Screen[];
}

export const SCREEN_KEYS = [
  'home',
  'accounts',
  'products',
  'usage',
  'invoices',
  'payments',
  'reports',
  'users',
  'roles',
  'role-groups',
  'saml-settings',
  'provisioning-log',
  'audit-log',
] as const;
export type ScreenKey = (typeof SCREEN_KEYS)[number];

export const CATALOGUE: Menu[] = [
  { key: 'home', label: 'Home', screens: [{ key: 'home', label: 'Home', path: '/' }] },
  { key: 'accounts', label: 'Accounts', screens: [{ key: 'accounts', label: 'Accounts', path: '/accounts' }] },
  { key: 'products', label: 'Products', screens: [{ key: 'products', label: 'Products', path: '/products' }] },
  { key: 'usage', label: 'Usage', screens: [{ key: 'usage', label: 'Usage', path: '/usage' }] },
  { key: 'invoices', label: 'Invoices', screens: [{ key: 'invoices', label: 'Invoices', path: '/invoices' }] },
  { key: 'payments', label: 'Payments', screens: [{ key: 'payments', label: 'Payments', path: '/payments' }] },
  { key: 'reports', label: 'Reports', screens: [{ key: 'reports', label: 'Reports', path: '/reports' }] },
  {
    key: 'setup',
    label: 'Setup',
    screens: [
      { key: 'users', label: 'Users', path: '/setup/users', section: 'Users & Accounts' },
      { key: 'roles', label: 'Roles', path: '/setup/roles', section: 'Users & Accounts' },
      { key: 'role-groups', label: 'Role Groups', path: '/setup/role-groups', section: 'Users & Accounts' },
      { key: 'saml-settings', label: 'SAML Settings', path: '/setup/saml', section: 'Users & Accounts' },
      { key: 'provisioning-log', label: 'Provisioning Log', path: '/setup/provisioning-log' },
    ],
  },
  { key: 'operations', label: 'Operations', screens: [{ key: 'audit-log', label: 'Audit Log', path: '/operations/audit' }] },
];

export const SCREENS: Screen[] = CATALOGUE.flatMap((m) => m.screens);

export function isScreenKey(s: string): s is ScreenKey {
  return (SCREEN_KEYS as readonly string[]).includes(s);
}

export function screenLabel(key: ScreenKey): string {
  return SCREENS.find((s) => s.key === key)?.label ?? key;
}

export type Permissions = Record<ScreenKey, Level>;

const RANK: Record<Level, number> = { none: 0, read: 1, full: 2 };

export function atLeast(have: Level, need: Level): boolean {
  return RANK[have] >= RANK[need];
}

export function maxLevel(a: Level, b: Level): Level {
  return RANK[a] >= RANK[b] ? a : b;
}

export function uniformPermissions(level: Level): Permissions {
  return Object.fromEntries(SCREEN_KEYS.map((k) => [k, level])) as Permissions;
}

/** Menus the holder of `perms` may see: screens with at least Read Only; menus with no such screen vanish. */
export function visibleMenu(perms: Permissions): Menu[] {
  return CATALOGUE.map((m) => ({ ...m, screens: m.screens.filter((s) => atLeast(perms[s.key], 'read')) })).filter((m) => m.screens.length > 0);
}
