// Users: local users (password) managed here, provisioned users (source 'idp') whose profile the
// identity provider owns. A status other than Active ends every session at once.
import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type SelectQueryBuilder, type Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { UserStatus } from '../db/schema.identity.ts';
import { ilike, isPostgres, likeEscape, likeLowered, unindexed } from '../db/dialect.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { recordAudit } from './audit.service.ts';
import { CATALOGUE } from './catalogue.ts';
import { generatePassword, hashPassword, validatePasswordStrength } from './password.ts';
import { refuseGivingAbove, refuseManagingAbove } from './permission-ceiling.ts';
import { effectivePermissions, levelsOfRole } from './permissions.repo.ts';
import { countSessionsForUser, endSessionsForUser } from './sessions.service.ts';
import { CORE } from '../db/migrations/001_identity.ts';

type Db = Kysely<DB> | Transaction<DB>;

// A user created a moment ago has no sessions, whatever the idle limit.
const NEW_USER = { sessionIdleMinutes: 0 };

/** Fields the identity provider owns for provisioned users (read-only in Ledgerline). */
export const IDP_MANAGED_FIELDS = ['userName', 'displayName', 'givenName', 'familyName', 'email', 'status'] as const;

/** The users columns of a summary; with the role's name (`r`), all it is made from. */
const USER_COLUMNS = [
  'id', 'user_name', 'display_name', 'given_name', 'family_name', 'email', 'status', 'source',
  'role_id', 'time_zone', 'locale', 'created_at', 'updated_at',
] as const;
const SUMMARY_COLUMNS = [...USER_COLUMNS.map((c) => `u.${c}` as const), 'r.name as role_name' as const];

function toSummary(row: any, groups: UserPushedGroup[]) {
  return {
    id: row.id as string,
    userName: row.user_name as string,
    displayName: row.display_name as string | null,
    givenName: row.given_name as string | null,
    familyName: row.family_name as string | null,
    email: row.email as string | null,
    status: row.status as UserStatus,
    source: row.source as 'local' | 'idp',
    role: row.role_id ? { id: row.role_id as string, name: row.role_name as string } : null,
    pushedGroups: groups,
    timeZone: row.time_zone as string,
    locale: row.locale as string,
    createdAt: row.created_at as string,
    updatedAt: row.updated_at as string,
  };
}
export type UserSummary = ReturnType<typeof toSummary>;

/** A pushed group a provisioned user is in, with its SCIM role (named "Admin (SCIM)" when a role "Admin" already existed). */
export interface UserPushedGroup {
  id: string;
  name: string;
  scimRole: { id: string; name: string } | null;
}

async function groupsOf(db: Db, userIds: string[]): Promise<Map<string, UserPushedGroup[]>> {
  const map = new Map<string, UserPushedGroup[]>();
  if (!userIds.length) return map;
  const rows = await db
    .selectFrom('pushed_group_members as m')
    .innerJoin('pushed_groups as g', 'g.id', 'm.group_id')
    .leftJoin('roles as r', 'r.pushed_group_id', 'g.id')
    .select(['m.user_id', 'g.id', 'g.display_name', 'r.id as role_id', 'r.name as role_name'])
    .where('m.user_id', 'in', userIds)
    .orderBy('g.display_name_norm')
    .execute();
  for (const r of rows) map.set(r.user_id, [...(map.get(r.user_id) ?? []), { id: r.id, name: r.display_name, scimRole: r.role_id ? { id: r.role_id, name: r.role_name! } : null }]);
  return map;
}

export interface UserListQuery {
  q?: string;
  status?: string;
  source?: string;
  limit?: number;
  cursor?: string;
}

/**
 * How a search reads the users. It first reads the next `windowRows` users in name order and keeps
 * those that match, enough for a page when matches are frequent there. When they are not, it reads
 * every user after the cursor in the table's own order and sorts the matches by name. The answer is
 * the same either way. Both databases chose to walk the name index for every search, expecting a page
 * early: a term matching none of 1,000,000 users took 7.0-7.7 s on PostgreSQL and 2.2-2.3 s on SQLite
 * on a slow day, a read of the whole table 0.45-0.60 s (npm run bench:users; docs/performance.md).
 */
export const userSearch = { windowRows: 10_000 };

/** What a search reads of each user: the summary's columns and the lower-cased ones it matches on. */
const SEARCHED_COLUMNS = [...USER_COLUMNS, 'user_name_norm' as const, 'email_norm' as const];

export async function listUsers(db: Db, query: UserListQuery) {
  const limit = clampLimit(query.limit);
  const cursor = decodeCursor(query.cursor, ['text']);
  const after = cursor ? String(cursor[0]) : null;
  const q = query.q?.trim() ?? '';
  const filters = <QB extends SelectQueryBuilder<any, 'u', any>>(qb: QB): QB => {
    let out = qb;
    if (q) {
      const pat = `%${likeEscape(q.toLowerCase())}%`;
      out = out.where((eb) => eb.or([likeLowered(db, 'u.user_name_norm', pat), ilike(db, 'u.display_name', pat), likeLowered(db, 'u.email_norm', pat)])) as QB;
    }
    if (query.status) out = out.where('u.status', '=', query.status as UserStatus) as QB;
    if (query.source) out = out.where('u.source', '=', query.source as 'local' | 'idp') as QB;
    return out;
  };
  // Without a search: the name index, in order.
  const inNameOrder = () => {
    const qb = filters(db.selectFrom('users as u').leftJoin('roles as r', 'r.id', 'u.role_id').select(SUMMARY_COLUMNS));
    return (after === null ? qb : qb.where('u.user_name_norm', '>', after)).orderBy('u.user_name_norm').limit(limit + 1).execute();
  };
  // A search (userSearch): the matches among the next windowRows users in name order...
  const fromWindow = () => {
    const window = db.selectFrom('users').select(SEARCHED_COLUMNS).orderBy('user_name_norm').limit(userSearch.windowRows);
    const users = (after === null ? window : window.where('user_name_norm', '>', after)).as('u');
    return filters(db.selectFrom(users).leftJoin('roles as r', 'r.id', 'u.role_id').select(SUMMARY_COLUMNS)).orderBy('u.user_name_norm').limit(limit + 1).execute();
  };
  // ... or those among all users after the cursor, read in table order, then sorted by name.
  const fromTable = () =>
    db
      .with(
        (w) => w('u').materialized(),
        (d) => {
          const all = filters(d.selectFrom('users as u').select(SEARCHED_COLUMNS.map((c) => `u.${c}` as const)));
          return after === null ? all : all.where((eb) => eb(unindexed(db, 'u.user_name_norm'), '>', after));
        },
      )
      .selectFrom('u')
      .leftJoin('roles as r', 'r.id', 'u.role_id')
      .select(SUMMARY_COLUMNS)
      .orderBy('u.user_name_norm')
      .limit(limit + 1)
      .execute();
  let rows = q ? await fromWindow() : await inNameOrder();
  if (q && rows.length <= limit) rows = await fromTable();
  const paged = page(rows, limit, (r) => [r.user_name.toLowerCase()]);
  const groups = await groupsOf(db, paged.items.map((r) => r.id));
  return { items: paged.items.map((r) => toSummary(r, groups.get(r.id) ?? [])), nextCursor: paged.nextCursor };
}

/** `sessionIdleMinutes` is the configured idle limit: only sessions still within it count as active. */
export interface DetailOptions {
  sessionIdleMinutes: number;
}

export async function getUserDetail(db: Db, id: string, opts: DetailOptions) {
  const row = await db.selectFrom('users as u').leftJoin('roles as r', 'r.id', 'u.role_id').select([...SUMMARY_COLUMNS]).where('u.id', '=', id).executeTakeFirst();
  if (!row) return null;
  const groups = await groupsOf(db, [id]);
  const eff = await effectivePermissions(db, { id, source: row.source, role_id: row.role_id });
  const menuOf = new Map(CATALOGUE.flatMap((m) => m.screens.map((s) => [s.key, { menu: m.label, label: s.label }] as const)));
  return {
    ...toSummary(row, groups.get(id) ?? []),
    managedFields: row.source === 'idp' ? [...IDP_MANAGED_FIELDS] : [],
    roleGroups: eff.roleGroups,
    effectivePermissions: eff.grants.map((g) => ({ screen: g.screen, label: menuOf.get(g.screen)!.label, menu: menuOf.get(g.screen)!.menu, level: g.level, grantedBy: g.grantedBy })),
    activeSessions: await countSessionsForUser(db, id, opts.sessionIdleMinutes),
  };
}

export interface UserInput {
  userName?: string;
  displayName?: string | null;
  givenName?: string | null;
  familyName?: string | null;
  email?: string | null;
  roleId?: string | null;
  status?: UserStatus;
  timeZone?: string;
  locale?: string;
  password?: string;
}

function checkFields(input: UserInput): Record<string, string> {
  const fields: Record<string, string> = {};
  if (input.userName !== undefined) {
    const u = input.userName.trim();
    if (!u) fields.userName = 'Required';
    else if (u.length > 256) fields.userName = 'Use at most 256 characters';
    else if (/\s/.test(u)) fields.userName = 'User names cannot contain spaces';
  }
  if (input.email && !/^[^\s@]+@[^\s@]+$/.test(input.email)) fields.email = 'Enter an email address like name@example.com';
  if (input.timeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: input.timeZone });
    } catch {
      fields.timeZone = 'Unknown time zone';
    }
  }
  if (input.locale !== undefined) {
    try {
      new Intl.Locale(input.locale);
    } catch {
      fields.locale = 'Unknown locale';
    }
  }
  if (input.password !== undefined) {
    const weak = validatePasswordStrength(input.password);
    if (weak) fields.password = weak;
  }
  return fields;
}

async function checkRole(db: Db, roleId: string | null | undefined, fields: Record<string, string>) {
  if (!roleId) return;
  const role = await db.selectFrom('roles').select(['id', 'pushed_group_id']).where('id', '=', roleId).executeTakeFirst();
  if (!role) fields.roleId = 'No such role';
  else if (role.pushed_group_id) fields.roleId = 'SCIM roles are given by group membership in your identity provider';
}

/**
 * In the transaction that gives a user `roleId`: the role still exists (a field error if it was deleted
 * since the fields were checked), share-locked on PostgreSQL until the commit, so that deleteRole, which
 * locks the role before it counts its users, either sees this user or is seen to have deleted it.
 */
async function holdRole(trx: Transaction<DB>, roleId: string): Promise<void> {
  let q = trx.selectFrom('roles').select('id').where('id', '=', roleId);
  if (isPostgres(trx)) q = q.forShare();
  if (!(await q.executeTakeFirst())) throw Invalid('Some fields need attention', { roleId: 'No such role' });
}

/** In the transaction that gives `roleId`: it gives no screen above the actor's own level. */
async function refuseRoleAboveActor(trx: Transaction<DB>, actor: Actor, roleId: string): Promise<void> {
  await refuseGivingAbove(trx, actor, await levelsOfRole(trx, roleId), undefined, 'You cannot give a role with permissions you do not have yourself');
}

export async function createLocalUser(db: Kysely<DB>, actor: Actor, input: UserInput & { userName: string }, opts: DetailOptions = NEW_USER) {
  const fields = checkFields(input);
  await checkRole(db, input.roleId, fields);
  if (!input.roleId) fields.roleId = 'Choose a role';
  if (Object.keys(fields).length) throw Invalid('Some fields need attention', fields);
  const generated = input.password ? null : generatePassword();
  const passwordHash = await hashPassword(input.password ?? generated!);
  const now = nowIso();
  const id = randomUUID();
  const userName = input.userName.trim();
  try {
    await db.transaction().execute(async (trx) => {
      if (input.roleId) {
        await holdRole(trx, input.roleId);
        await refuseRoleAboveActor(trx, actor, input.roleId);
      }
      await trx
        .insertInto('users')
        .values({
          id, user_name: userName, user_name_norm: userName.toLowerCase(), display_name: input.displayName?.trim() || null,
          given_name: input.givenName?.trim() || null, family_name: input.familyName?.trim() || null,
          email: input.email?.trim() || null, email_norm: input.email?.trim().toLowerCase() || null, external_id: null,
          role_id: input.roleId ?? null, status: input.status ?? 'active', source: 'local', time_zone: input.timeZone ?? 'UTC',
          locale: input.locale ?? 'en-US', password_hash: passwordHash, scim_attributes: null, version: 1, created_at: now, updated_at: now,
        })
        .execute();
      await recordAudit(trx, actor, { action: 'user.create', targetType: 'user', targetId: id, targetName: userName, summary: `created local user ${userName}`, details: { roleId: input.roleId, status: input.status ?? 'active' } });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw Conflict(`A user named ${userName} already exists`, { userName: 'This user name is taken' });
    throw err;
  }
  return { user: (await getUserDetail(db, id, opts))!, initialPassword: generated };
}

export async function updateUser(db: Kysely<DB>, actor: Actor, id: string, input: UserInput, opts: DetailOptions) {
  const existing = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  if (!existing) throw NotFound('No such user');
  const fields = checkFields(input);
  if (existing.source === 'idp') {
    for (const f of IDP_MANAGED_FIELDS) {
      const v = (input as Record<string, unknown>)[f];
      if (v !== undefined && v !== currentValue(existing, f)) fields[f] = 'Managed by your identity provider';
    }
    if (input.roleId !== undefined && input.roleId !== existing.role_id) fields.roleId = 'Managed by your identity provider (group membership)';
  } else {
    await checkRole(db, input.roleId, fields);
    if (input.roleId === null) fields.roleId = 'Choose a role';
  }
  if (input.password !== undefined) fields.password = 'Use "Reset password" to change a password';
  if (actor.id === id && input.status && input.status !== 'active') fields.status = 'You cannot suspend or disable yourself';
  if (Object.keys(fields).length) throw Invalid('Some fields need attention', fields);

  const set: Partial<DB['users']> = {};
  const changes: Record<string, unknown> = {};
  const put = <K extends keyof DB['users']>(col: K, value: DB['users'][K] | undefined, label: string) => {
    if (value === undefined || value === existing[col]) return;
    set[col] = value;
    changes[label] = value;
  };
  put('user_name', input.userName?.trim(), 'userName');
  if (set.user_name) set.user_name_norm = set.user_name.toLowerCase();
  put('display_name', input.displayName === undefined ? undefined : input.displayName?.trim() || null, 'displayName');
  put('given_name', input.givenName === undefined ? undefined : input.givenName?.trim() || null, 'givenName');
  put('family_name', input.familyName === undefined ? undefined : input.familyName?.trim() || null, 'familyName');
  if (input.email !== undefined) {
    put('email', input.email?.trim() || null, 'email');
    if ('email' in set) set.email_norm = set.email?.toLowerCase() ?? null;
  }
  put('role_id', input.roleId ?? undefined, 'roleId');
  put('status', input.status, 'status');
  put('time_zone', input.timeZone, 'timeZone');
  put('locale', input.locale, 'locale');
  // Nothing to write: the user as a GET shows them (no ceiling to check).
  if (!Object.keys(set).length) return (await getUserDetail(db, id, opts))!;
  try {
    await db.transaction().execute(async (trx) => {
      await refuseManagingAbove(trx, actor, existing);
      if (set.role_id) {
        await holdRole(trx, set.role_id);
        await refuseRoleAboveActor(trx, actor, set.role_id);
      }
      // The version moves from the row's current one, not from `existing` (read before the transaction):
      // a SCIM PUT committed meanwhile moved it already, and both changes would have named one ETag.
      await trx.updateTable('users').set({ ...set, version: sql<number>`version + 1`, updated_at: nowIso() }).where('id', '=', id).execute();
      let ended = 0;
      if (set.status && set.status !== 'active') ended = await endSessionsForUser(trx, id);
      await recordAudit(trx, actor, {
        action: 'user.update', targetType: 'user', targetId: id, targetName: existing.user_name,
        summary: `updated user ${existing.user_name}: ${Object.keys(changes).join(', ')}${ended ? ` (ended ${ended} session${ended === 1 ? '' : 's'})` : ''}`,
        details: { changes },
      });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw Conflict('That user name is taken', { userName: 'This user name is taken' });
    throw err;
  }
  return (await getUserDetail(db, id, opts))!;
}

function currentValue(row: DB['users'], field: (typeof IDP_MANAGED_FIELDS)[number]): unknown {
  return { userName: row.user_name, displayName: row.display_name, givenName: row.given_name, familyName: row.family_name, email: row.email, status: row.status }[field];
}

export async function resetPassword(db: Kysely<DB>, actor: Actor, id: string, password?: string) {
  const user = await db.selectFrom('users').select(['id', 'user_name', 'source']).where('id', '=', id).executeTakeFirst();
  if (!user) throw NotFound('No such user');
  if (user.source === 'idp') throw Invalid('Users from your identity provider sign in with SSO and have no password', { password: 'Managed by your identity provider' });
  if (password !== undefined) {
    const weak = validatePasswordStrength(password);
    if (weak) throw Invalid(weak, { password: weak });
  }
  const generated = password === undefined ? generatePassword() : null;
  const hash = await hashPassword(password ?? generated!);
  await db.transaction().execute(async (trx) => {
    await refuseManagingAbove(trx, actor, user);
    await trx.updateTable('users').set({ password_hash: hash, updated_at: nowIso() }).where('id', '=', id).execute();
    // A new password ends the old sessions, except the admin's own current one is not affected (different user).
    const ended = await endSessionsForUser(trx, id);
    await recordAudit(trx, actor, { action: 'user.password_reset', targetType: 'user', targetId: id, targetName: user.user_name, summary: `reset the password of ${user.user_name} (ended ${ended} session${ended === 1 ? '' : 's'})` });
  });
  return { password: generated };
}

export async function signOutEverywhere(db: Kysely<DB>, actor: Actor, id: string) {
  const user = await db.selectFrom('users').select(['id', 'user_name']).where('id', '=', id).executeTakeFirst();
  if (!user) throw NotFound('No such user');
  return db.transaction().execute(async (trx) => {
    await refuseManagingAbove(trx, actor, user);
    const ended = await endSessionsForUser(trx, id);
    await recordAudit(trx, actor, { action: 'user.sign_out_everywhere', targetType: 'user', targetId: id, targetName: user.user_name, summary: `signed ${user.user_name} out everywhere (${ended} session${ended === 1 ? '' : 's'} ended)` });
    return { ended };
  });
}

/** Creates (or resets) a local administrator; used by first start and `ledgerline admin create`. */
export async function createLocalAdmin(db: Kysely<DB>, actor: Actor, userName: string, password?: string): Promise<{ userName: string; password: string | null; created: boolean }> {
  const weak = password !== undefined ? validatePasswordStrength(password) : null;
  if (weak) throw Invalid(weak, { password: weak });
  const existing = await db.selectFrom('users').select(['id', 'source']).where('user_name_norm', '=', userName.toLowerCase()).executeTakeFirst();
  if (existing) throw Conflict(`A user named ${userName} already exists`, { userName: 'This user name is taken' });
  const res = await createLocalUser(db, actor, { userName, password, roleId: CORE.adminRole, displayName: 'Administrator' });
  return { userName, password: res.initialPassword, created: true };
}
