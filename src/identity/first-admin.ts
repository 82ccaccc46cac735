// On the first start with no users at all, create the local administrator `admin` with a
// generated password. Safe when several nodes start at once: only one insert wins.
import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { systemActor } from '../platform/actor.ts';
import { AppError } from '../platform/errors.ts';
import { createLocalAdmin } from './users.service.ts';

export async function ensureFirstAdmin(db: Kysely<DB>): Promise<{ userName: string; password: string } | null> {
  const any = await db.selectFrom('users').select('id').limit(1).executeTakeFirst();
  if (any) return null;
  try {
    const res = await createLocalAdmin(db, systemActor('first start'), 'admin');
    return { userName: res.userName, password: res.password! };
  } catch (err) {
    if (err instanceof AppError && err.code === 'conflict') return null;
    throw err;
  }
}
