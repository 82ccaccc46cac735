// Builders for billing tests that go through the services (no hand-made rows).
import type { Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { createAccount } from '../../src/billing/accounts.service.ts';
import { createProduct } from '../../src/billing/products.service.ts';
import { createSubscription } from '../../src/billing/subscriptions.service.ts';
import { createBillRun, processBillRun } from '../../src/billing/billruns.service.ts';

export const actor = systemActor('billing-test');

let seq = 0;
export async function monthlyProduct(db: Kysely<DB>, amount: number, currency = 'USD', usage?: string) {
  seq++;
  return createProduct(db, actor, {
    code: `P${seq}-${Date.now().toString(36)}`,
    name: `Plan ${seq}`,
    currency,
    charges: [
      { name: 'Monthly fee', kind: 'recurring', interval: 'month', amount },
      ...(usage ? [{ name: 'Usage', kind: 'usage' as const, usageIdentifier: usage, pricing: { model: 'unit' as const, unitPrice: '0.01' } }] : []),
    ],
  });
}

export async function subscribedAccount(db: Kysely<DB>, productId: string, opts: { currency?: string; start?: string; terms?: number } = {}) {
  const account = await createAccount(db, actor, { name: `Customer ${++seq}`, currency: opts.currency ?? 'USD', paymentTermsDays: opts.terms ?? 30 });
  await createSubscription(db, actor, { accountId: account.id, productId, startDate: opts.start ?? '2025-01-01' });
  return account;
}

export async function billPeriod(db: Kysely<DB>, periodStart: string, periodEnd: string, accountId?: string) {
  const run = await createBillRun(db, actor, { periodStart, periodEnd, accountId });
  return processBillRun(db, actor, run.id);
}
