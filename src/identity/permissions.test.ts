import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCREEN_KEYS, atLeast, maxLevel, visibleMenu, uniformPermissions } from './catalogue.ts';
import { levelsOf, mergeGrants, raisedAbove, type RoleGroupGrant } from './permissions.ts';

const group = (id: string, levels: RoleGroupGrant['levels'], coreKind: string | null = null): RoleGroupGrant => ({ id, name: `name ${id}`, coreKind, levels });

test('levels are ordered No Permission < Read Only < Full Permission', () => {
  assert.equal(maxLevel('none', 'read'), 'read');
  assert.equal(maxLevel('full', 'read'), 'full');
  assert.equal(maxLevel('read', 'none'), 'read');
  assert.ok(atLeast('full', 'read'));
  assert.ok(atLeast('read', 'read'));
  assert.ok(!atLeast('read', 'full'));
  assert.ok(!atLeast('none', 'read'));
});

test('a custom role group grants nothing on screens it does not name', () => {
  const levels = levelsOf(group('a', { accounts: 'read' }));
  assert.equal(levels.accounts, 'read');
  for (const key of SCREEN_KEYS.filter((k) => k !== 'accounts')) assert.equal(levels[key], 'none', key);
});

test('stored levels for screens missing from the catalogue are ignored', () => {
  const levels = levelsOf(group('a', { 'no-such-screen': 'full', users: 'full' }));
  assert.deepEqual(Object.keys(levels).sort(), [...SCREEN_KEYS].sort());
  assert.equal(levels.users, 'full');
});

test('the core Admin role group is Full Permission on every screen of the catalogue, whatever is stored', () => {
  const levels = levelsOf(group('admin', { users: 'none', accounts: 'read' }, 'admin'));
  for (const key of SCREEN_KEYS) assert.equal(levels[key], 'full', key);
});

test('the core ReadOnly role group is Read Only on every screen of the catalogue, whatever is stored', () => {
  const levels = levelsOf(group('ro', { users: 'full', accounts: 'none' }, 'readonly'));
  for (const key of SCREEN_KEYS) assert.equal(levels[key], 'read', key);
});

test('several role groups combine most-permissively per screen', () => {
  const { permissions } = mergeGrants([
    group('a', { accounts: 'read', users: 'full' }),
    group('b', { accounts: 'full', users: 'read', products: 'read' }),
  ]);
  assert.equal(permissions.accounts, 'full');
  assert.equal(permissions.users, 'full');
  assert.equal(permissions.products, 'read');
  assert.equal(permissions.invoices, 'none');
});

test('merging a core role group with a custom one never lowers a level', () => {
  const { permissions } = mergeGrants([group('ro', {}, 'readonly'), group('c', { payments: 'full' })]);
  assert.equal(permissions.payments, 'full');
  assert.equal(permissions.home, 'read');
  assert.equal(permissions['audit-log'], 'read');
});

test('no role group at all means No Permission everywhere', () => {
  const { permissions, grants } = mergeGrants([]);
  assert.deepEqual(permissions, uniformPermissions('none'));
  assert.ok(grants.every((g) => g.grantedBy.length === 0));
});

test('the explanation names every role group that grants the effective level, and only those', () => {
  const { grants } = mergeGrants([
    group('a', { accounts: 'read', users: 'full' }),
    group('b', { accounts: 'full', users: 'full' }),
    group('c', { accounts: 'read' }),
  ]);
  const byScreen = Object.fromEntries(grants.map((g) => [g.screen, g]));
  assert.deepEqual(byScreen.accounts.grantedBy, [{ id: 'b', name: 'name b' }]);
  assert.equal(byScreen.accounts.level, 'full');
  assert.deepEqual(byScreen.users.grantedBy.map((g) => g.id), ['a', 'b']);
  assert.equal(byScreen.products.level, 'none');
  assert.deepEqual(byScreen.products.grantedBy, []);
});

test('the explanation covers every screen of the catalogue in catalogue order', () => {
  const { grants } = mergeGrants([group('a', { users: 'read' })]);
  assert.deepEqual(grants.map((g) => g.screen), [...SCREEN_KEYS]);
});

test('the menu shows only screens with at least Read Only, and drops empty menus', () => {
  const perms = { ...uniformPermissions('none'), users: 'read' as const, 'audit-log': 'full' as const };
  const menu = visibleMenu(perms);
  assert.deepEqual(menu.map((m) => m.key), ['setup', 'operations']);
  assert.deepEqual(menu[0].screens.map((s) => s.key), ['users']);
});

test('raisedAbove names the screens a change lifts above the ceiling, not those lowered or kept', () => {
  const ceiling = { ...uniformPermissions('none'), users: 'full', accounts: 'read' } as const;
  const wanted = { ...uniformPermissions('none'), users: 'full', accounts: 'full', invoices: 'read', 'audit-log': 'full', payments: 'read' } as const;
  const before = { ...uniformPermissions('none'), 'audit-log': 'full', payments: 'full' } as const;
  assert.deepEqual(raisedAbove(ceiling, wanted, before), [{ screen: 'accounts', level: 'full' }, { screen: 'invoices', level: 'read' }]);
  assert.deepEqual(raisedAbove(ceiling, wanted).map((o) => o.screen), ['accounts', 'invoices', 'payments', 'audit-log']);
  assert.deepEqual(raisedAbove(uniformPermissions('full'), uniformPermissions('full')), []);
});
