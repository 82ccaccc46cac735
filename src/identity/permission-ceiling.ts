// The ceiling on Users, Roles and Role Groups: nobody gives, through them, a level above their own on
// any screen, nor manages a user who holds more than they do. Called by the services inside the
// transaction of the write it guards. Actors that are not a signed-in user (the CLI, first start) have
// no ceiling; every /api caller is a signed-in user.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { Actor } from '../platform/actor.ts';
import { Forbidden } from '../platform/errors.ts';
import { LEVEL_LABEL, screenLabel, uniformPermissions, type Level, type Permissions, type ScreenKey } from './catalogue.ts';
import { effectivePermissionsOf } from './permissions.repo.ts';
import { raisedAbove } from './permissions.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** The actor's own levels, read in `trx`; null when the actor has no ceiling. */
async function ceilingOf(trx: Db, actor: Actor): Promise<Permissions | null> {
  if (actor.id === null) return null;
  return (await effectivePermissionsOf(trx, actor.id))?.permissions ?? uniformPermissions('none');
}

const listed = (over: { screen: ScreenKey; level: Level }[]) => over.map((o) => `${screenLabel(o.screen)} (${LEVEL_LABEL[o.level]})`).join(', ');

/**
 * Refuses (403) a change from `before` to `wanted` that raises a screen above the actor's own level.
 * `what` leads the message: 'You cannot give permissions you do not have yourself'.
 */
export async function refuseGivingAbove(trx: Db, actor: Actor, wanted: Permissions, before?: Permissions, what = 'You cannot give permissions you do not have yourself'): Promise<void> {
  const ceiling = await ceilingOf(trx, actor);
  if (!ceiling) return;
  const over = raisedAbove(ceiling, wanted, before);
  if (over.length) throw Forbidden(`${what}: ${listed(over)}`);
}

/** Refuses (403) managing a user who holds a level above the actor's own on any screen. */
export async function refuseManagingAbove(trx: Db, actor: Actor, user: { id: string; user_name: string }): Promise<void> {
  const ceiling = await ceilingOf(trx, actor);
  if (!ceiling) return;
  const theirs = await effectivePermissionsOf(trx, user.id);
  const over = theirs ? raisedAbove(ceiling, theirs.permissions) : [];
  if (over.length) throw Forbidden(`${user.user_name} has permissions you do not have yourself, so you cannot manage this user: ${listed(over)}`);
}
