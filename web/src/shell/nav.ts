// Navigation facts derived from the permission catalogue: breadcrumbs and the first screen a
// user may open.
import { CATALOGUE, SCREENS, atLeast, type Permissions, type ScreenKey } from '../../../src/identity/catalogue.ts';
import type { Crumb } from '../ui/PageHeader.tsx';

export function screenPath(key: ScreenKey): string {
  const s = SCREENS.find((x) => x.key === key);
  if (!s) throw new Error(`unknown screen ${key}`);
  return s.path;
}

/** Setup / Users & Accounts / Role Groups — plus any extra crumbs for detail pages. */
export function screenCrumbs(key: ScreenKey, ...extra: Crumb[]): Crumb[] {
  const menu = CATALOGUE.find((m) => m.screens.some((s) => s.key === key));
  const screen = SCREENS.find((s) => s.key === key)!;
  const out: Crumb[] = [];
  if (menu && !(menu.screens.length === 1 && menu.key === key)) out.push({ label: menu.label });
  if (screen.section) out.push({ label: screen.section });
  out.push({ label: screen.label, to: extra.length ? screen.path : undefined });
  return [...out, ...extra];
}

export function firstOpenableScreen(perms: Permissions): string | null {
  const s = SCREENS.find((x) => atLeast(perms[x.key] ?? 'none', 'read'));
  return s ? s.path : null;
}
