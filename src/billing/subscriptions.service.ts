// Subscriptions: an account takes a product with a quantity from a start date, optionally until an
// (exclusive) end date. The product must be priced in the account's currency. Cancelling sets the end
// date; the next bill run prorates the last period.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { SubscriptionsTable } from '../db/schema.billing.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { lockAccount } from './accounts.service.ts';
import { lockRow } from './row-lock.ts';
import { after } from './keyset.ts';
import { isDate } from './period.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface SubscriptionInput {
  accountId: string;
  productId: string;
  quantity?: number;
  startDate: string;
  endDate?: string | null;
}

function toSubscription(s: SubscriptionsTable & { product_name?: string; product_code?: string; account_name?: string; account_number?: string }) {
  return {
    id: s.id,
    accountId: s.account_id,
    accountNumber: s.account_number,
    accountName: s.account_name,
    productId: s.product_id,
    productName: s.product_name,
    productCode: s.product_code,
    quantity: s.quantity,
    startDate: s.start_date,
    endDate: s.end_date,
    status: s.status,
    version: s.version,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
  };
}
export type Subscription = ReturnType<typeof toSubscription>;

function checkDates(start: string | undefined, end: string | null | undefined, quantity: number | undefined) {
  const f: Record<string, string> = {};
  if (start !== undefined && !isDate(start)) f.startDate = 'Enter a date as YYYY-MM-DD';
  if (end !== undefined && end !== null && !isDate(end)) f.endDate = 'Enter a date as YYYY-MM-DD';
  else if (start && end && isDate(start) && end <= start) f.endDate = 'The end date must be after the start date';
  if (quantity !== undefined && (!Number.isInteger(quantity) || quantity < 1 || quantity > 1_000_000)) f.quantity = 'Enter a whole number from 1';
  if (Object.keys(f).length) throw Invalid('Some fields need attention', f);
}

async function fetchOne(db: Db, id: string) {
  const row = await db.selectFrom('subscriptions as s').innerJoin('products as p', 'p.id', 's.product_id').innerJoin('accounts as a', 'a.id', 's.account_id')
    .selectAll('s').select(['p.name as product_name', 'p.code as product_code', 'a.name as account_name', 'a.number as account_number'])
    .where('s.id', '=', id).executeTakeFirst();
  if (!row) throw NotFound('No such subscription');
  return toSubscription(row);
}

export async function createSubscription(db: Kysely<DB>, actor: Actor, input: SubscriptionInput): Promise<Subscription> {
  checkDates(input.startDate, input.endDate, input.quantity);
  const id = await db.transaction().execute(async (trx) => {
    const account = await lockAccount(trx, input.accountId).catch(() => {
      throw Invalid('No such account', { accountId: 'Choose an existing account' });
    });
    if (account.status === 'closed') throw Invalid('The account is closed', { accountId: 'The account is closed' });
    const product = await trx.selectFrom('products').selectAll().where('id', '=', input.productId).executeTakeFirst();
    if (!product) throw Invalid('No such product', { productId: 'Choose an existing product' });
    if (product.status !== 'active') throw Invalid('The product is archived', { productId: 'The product is archived' });
    if (product.currency !== account.currency) throw Invalid(`Product ${product.code} is priced in ${product.currency}; the account is billed in ${account.currency}`, { productId: `Priced in ${product.currency}, the account uses ${account.currency}` });
    const now = nowIso();
    const row: SubscriptionsTable = { id: randomUUID(), account_id: account.id, product_id: product.id, quantity: input.quantity ?? 1, start_date: input.startDate, end_date: input.endDate ?? null, status: 'active', version: 1, created_at: now, updated_at: now };
    await trx.insertInto('subscriptions').values(row).execute();
    await recordAudit(trx, actor, { action: 'subscription.create', targetType: 'subscription', targetId: row.id, targetName: `${account.number} ${product.code}`, summary: `subscribed ${account.number} ${account.name} to ${product.code} × ${row.quantity} from ${row.start_date}`, details: { ...input } });
    return row.id;
  });
  return fetchOne(db, id);
}

export async function updateSubscription(db: Kysely<DB>, actor: Actor, id: string, input: { quantity?: number; endDate?: string | null; startDate?: string; version?: number }): Promise<Subscription> {
  await db.transaction().execute(async (trx) => {
    // Locked: a cancellation committed meanwhile is seen, not undone (src/billing/row-lock.ts).
    const before = await lockRow(trx, 'subscriptions', id, 'No such subscription');
    if (input.version !== undefined && input.version !== before.version) throw Conflict('Someone else changed this subscription; reload and try again');
    const start = input.startDate ?? before.start_date;
    const end = input.endDate === undefined ? before.end_date : input.endDate;
    checkDates(start, end, input.quantity);
    const changes = { quantity: input.quantity ?? before.quantity, start_date: start, end_date: end, status: (before.status === 'cancelled' && input.endDate === null ? 'active' : before.status) as 'active' | 'cancelled', version: before.version + 1, updated_at: nowIso() };
    await trx.updateTable('subscriptions').set(changes).where('id', '=', id).execute();
    await recordAudit(trx, actor, { action: 'subscription.update', targetType: 'subscription', targetId: id, summary: `changed subscription ${id}`, details: { before: { quantity: before.quantity, startDate: before.start_date, endDate: before.end_date }, after: input } });
  });
  return fetchOne(db, id);
}

export async function cancelSubscription(db: Kysely<DB>, actor: Actor, id: string, endDate: string): Promise<Subscription> {
  await db.transaction().execute(async (trx) => {
    const before = await lockRow(trx, 'subscriptions', id, 'No such subscription');
    if (before.status === 'cancelled') throw Conflict('The subscription is already cancelled');
    checkDates(before.start_date, endDate, undefined);
    await trx.updateTable('subscriptions').set({ end_date: endDate, status: 'cancelled', version: before.version + 1, updated_at: nowIso() }).where('id', '=', id).execute();
    await recordAudit(trx, actor, { action: 'subscription.cancel', targetType: 'subscription', targetId: id, summary: `cancelled subscription ${id} from ${endDate}`, details: { endDate } });
  });
  return fetchOne(db, id);
}

export async function getSubscription(db: Db, id: string) {
  return fetchOne(db, id);
}

export async function listSubscriptions(db: Db, query: { accountId?: string; productId?: string; status?: string; limit?: number; cursor?: string; q?: string }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text', 'text']);
  let qb = db.selectFrom('subscriptions as s').innerJoin('products as p', 'p.id', 's.product_id').innerJoin('accounts as a', 'a.id', 's.account_id')
    .selectAll('s').select(['p.name as product_name', 'p.code as product_code', 'a.name as account_name', 'a.number as account_number']);
  if (query.accountId) qb = qb.where('s.account_id', '=', query.accountId);
  if (query.productId) qb = qb.where('s.product_id', '=', query.productId);
  if (query.status) qb = qb.where('s.status', '=', query.status as 'active' | 'cancelled');
  if (cur) qb = qb.where((eb) => after(eb, ['s.created_at', 's.id'], cur, 'desc'));
  const rows = await qb.orderBy('s.created_at', 'desc').orderBy('s.id', 'desc').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.created_at, r.id]);
  return { items: p.items.map(toSubscription), nextCursor: p.nextCursor };
}
