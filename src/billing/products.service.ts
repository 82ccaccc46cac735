// The product catalog: products with their charges (recurring monthly/annual, one-time, usage).
// Saving a product replaces its charge list; invoices keep their own copies of descriptions and
// amounts, so editing prices changes future bills only. A usage identifier belongs to one product,
// so a usage record always has exactly one price.
import { randomUUID } from 'node:crypto';
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';
import type { ChargesTable, ProductsTable } from '../db/schema.billing.ts';
import { ilike, likeEscape } from '../db/dialect.ts';
import { recordAudit } from '../identity/audit.service.ts';
import type { Actor } from '../platform/actor.ts';
import { Conflict, Invalid, NotFound, isUniqueViolation } from '../platform/errors.ts';
import { clampLimit, decodeCursor, page } from '../platform/paging.ts';
import { nowIso } from '../platform/time.ts';
import { after } from './keyset.ts';
import { isCurrency } from './money.ts';
import { pricingProblems, type Pricing } from './rating.ts';
import { lockRow } from './row-lock.ts';

type Db = Kysely<DB> | Transaction<DB>;

export interface ChargeInput {
  name: string;
  kind: 'recurring' | 'one_time' | 'usage';
  interval?: 'month' | 'year' | null;
  amount?: number | null;
  usageIdentifier?: string | null;
  pricing?: Pricing | null;
}

export interface ProductInput {
  code: string;
  name: string;
  description?: string | null;
  currency: string;
  status?: 'active' | 'archived';
  charges: ChargeInput[];
}

export const USAGE_IDENTIFIER_RE = /^[a-z][a-z0-9_.-]{0,63}$/;

function toCharge(c: ChargesTable) {
  return {
    id: c.id,
    name: c.name,
    kind: c.kind,
    interval: c.billing_interval,
    amount: c.amount === null ? null : Number(c.amount),
    usageIdentifier: c.usage_identifier,
    pricing: c.pricing ? (JSON.parse(c.pricing) as Pricing) : null,
  };
}
export type Charge = ReturnType<typeof toCharge>;

function toProduct(p: ProductsTable, charges: ChargesTable[]) {
  return {
    id: p.id,
    code: p.code,
    name: p.name,
    description: p.description,
    currency: p.currency,
    status: p.status,
    version: p.version,
    createdAt: p.created_at,
    updatedAt: p.updated_at,
    charges: charges.filter((c) => c.product_id === p.id).sort((a, b) => a.position - b.position).map(toCharge),
  };
}
export type Product = ReturnType<typeof toProduct>;

function check(input: Partial<ProductInput>): void {
  const f: Record<string, string> = {};
  if (input.code !== undefined && !/^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$/.test(input.code)) f.code = 'Use letters, digits, - or _ (up to 32)';
  if (input.name !== undefined && !input.name.trim()) f.name = 'Enter the product name';
  if (input.currency !== undefined && !isCurrency(input.currency)) f.currency = 'Use an ISO 4217 code such as USD or EUR';
  const seen = new Set<string>();
  input.charges?.forEach((c, i) => {
    const k = `charges.${i}`;
    if (!c.name.trim()) f[`${k}.name`] = 'Enter the charge name';
    if (c.kind === 'recurring' && c.interval !== 'month' && c.interval !== 'year') f[`${k}.interval`] = 'Choose monthly or annual';
    if (c.kind !== 'usage' && (typeof c.amount !== 'number' || !Number.isSafeInteger(c.amount) || c.amount < 0)) f[`${k}.amount`] = 'Enter a whole number of minor units, zero or more';
    if (c.kind === 'usage') {
      if (!c.usageIdentifier || !USAGE_IDENTIFIER_RE.test(c.usageIdentifier)) f[`${k}.usageIdentifier`] = 'Use lower-case letters, digits, _ . - (e.g. api_calls)';
      else if (seen.has(c.usageIdentifier)) f[`${k}.usageIdentifier`] = 'Each usage identifier once per product';
      else seen.add(c.usageIdentifier);
      if (!c.pricing) f[`${k}.pricing`] = 'Enter a unit price or tiers';
      else for (const [p, m] of Object.entries(pricingProblems(c.pricing))) f[`${k}.pricing.${p}`] = m;
    }
  });
  if (Object.keys(f).length) throw Invalid('Some fields need attention', f);
}

async function writeCharges(trx: Transaction<DB>, productId: string, charges: ChargeInput[]): Promise<ChargesTable[]> {
  const identifiers = charges.filter((c) => c.kind === 'usage').map((c) => c.usageIdentifier!);
  if (identifiers.length) {
    const clash = await trx.selectFrom('charges as c').innerJoin('products as p', 'p.id', 'c.product_id').select(['c.usage_identifier', 'p.code'])
      .where('c.usage_identifier', 'in', identifiers).where('c.product_id', '<>', productId).executeTakeFirst();
    if (clash) {
      const i = charges.findIndex((c) => c.usageIdentifier === clash.usage_identifier);
      throw Conflict(`Usage identifier ${clash.usage_identifier} is already priced by product ${clash.code}`, { [`charges.${i}.usageIdentifier`]: `Already used by product ${clash.code}` });
    }
  }
  const rows: ChargesTable[] = charges.map((c, i) => ({
    id: randomUUID(),
    product_id: productId,
    name: c.name.trim(),
    kind: c.kind,
    billing_interval: c.kind === 'recurring' ? c.interval! : null,
    amount: c.kind === 'usage' ? null : c.amount!,
    usage_identifier: c.kind === 'usage' ? c.usageIdentifier! : null,
    pricing: c.kind === 'usage' ? JSON.stringify(c.pricing) : null,
    position: i,
  }));
  await trx.deleteFrom('charges').where('product_id', '=', productId).execute();
  if (rows.length) await trx.insertInto('charges').values(rows).execute();
  return rows;
}

export async function createProduct(db: Kysely<DB>, actor: Actor, input: ProductInput): Promise<Product> {
  check(input);
  try {
    return await db.transaction().execute(async (trx) => {
      const now = nowIso();
      const row: ProductsTable = { id: randomUUID(), code: input.code, name: input.name.trim(), description: input.description?.trim() || null, currency: input.currency, status: input.status ?? 'active', version: 1, created_at: now, updated_at: now };
      await trx.insertInto('products').values(row).execute();
      const charges = await writeCharges(trx, row.id, input.charges);
      await recordAudit(trx, actor, { action: 'product.create', targetType: 'product', targetId: row.id, targetName: row.code, summary: `created product ${row.code} ${row.name}`, details: { ...input } });
      return toProduct(row, charges);
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw Conflict(`Product code ${input.code} is taken`, { code: 'This code is already used' });
    throw e;
  }
}

export async function updateProduct(db: Kysely<DB>, actor: Actor, id: string, input: Partial<ProductInput> & { version?: number }): Promise<Product> {
  check(input);
  try {
    return await db.transaction().execute(async (trx) => {
      // Locked: the whole row is written back from `before` (src/billing/row-lock.ts).
      const before = await lockRow(trx, 'products', id, 'No such product');
      if (input.version !== undefined && input.version !== before.version) throw Conflict('Someone else changed this product; reload and try again');
      if (input.currency !== undefined && input.currency !== before.currency) {
        const used = await trx.selectFrom('subscriptions').select('id').where('product_id', '=', id).executeTakeFirst();
        if (used) throw Invalid('The currency cannot change once accounts subscribe to the product', { currency: 'Currency is fixed once the product has subscriptions' });
      }
      const next: ProductsTable = {
        ...before,
        code: input.code ?? before.code,
        name: input.name?.trim() ?? before.name,
        description: input.description === undefined ? before.description : input.description?.trim() || null,
        currency: input.currency ?? before.currency,
        status: input.status ?? before.status,
        version: before.version + 1,
        updated_at: nowIso(),
      };
      await trx.updateTable('products').set(next).where('id', '=', id).execute();
      const charges = input.charges ? await writeCharges(trx, id, input.charges) : await trx.selectFrom('charges').selectAll().where('product_id', '=', id).execute();
      await recordAudit(trx, actor, { action: 'product.update', targetType: 'product', targetId: id, targetName: next.code, summary: `updated product ${next.code} ${next.name}`, details: { ...input } });
      return toProduct(next, charges);
    });
  } catch (e) {
    if (isUniqueViolation(e)) throw Conflict(`Product code ${input.code} is taken`, { code: 'This code is already used' });
    throw e;
  }
}

export async function getProduct(db: Db, id: string): Promise<Product> {
  const p = await db.selectFrom('products').selectAll().where('id', '=', id).executeTakeFirst();
  if (!p) throw NotFound('No such product');
  const charges = await db.selectFrom('charges').selectAll().where('product_id', '=', id).execute();
  return toProduct(p, charges);
}

export async function listProducts(db: Db, query: { q?: string; status?: string; limit?: number; cursor?: string }) {
  const limit = clampLimit(query.limit);
  const cur = decodeCursor(query.cursor, ['text']);
  let qb = db.selectFrom('products').selectAll();
  if (query.q?.trim()) {
    const pat = `%${likeEscape(query.q.trim())}%`;
    qb = qb.where((eb) => eb.or([ilike(db, 'name', pat), ilike(db, 'code', pat)]));
  }
  if (query.status) qb = qb.where('status', '=', query.status as 'active' | 'archived');
  if (cur) qb = qb.where((eb) => after(eb, ['code'], cur, 'asc'));
  const rows = await qb.orderBy('code').limit(limit + 1).execute();
  const p = page(rows, limit, (r) => [r.code]);
  const charges = p.items.length ? await db.selectFrom('charges').selectAll().where('product_id', 'in', p.items.map((r) => r.id)).execute() : [];
  return { items: p.items.map((r) => toProduct(r, charges)), nextCursor: p.nextCursor };
}

/** Every usage identifier with a price, for validating incoming usage. */
export async function knownUsageIdentifiers(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('charges').select('usage_identifier').where('usage_identifier', 'is not', null).execute();
  return new Set(rows.map((r) => r.usage_identifier!));
}
