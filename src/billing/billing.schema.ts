// TypeBox schemas for the billing admin API: one definition per body, shared by validation and types.
// Money fields are integer minor units; unit prices are decimal strings in major units.
import { Type, type TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Nullable } from '../platform/schema.ts';
import { oversizedParts } from '../platform/oversize.ts';

const Str = (max: number, min = 0) => Type.String({ maxLength: max, minLength: min });
const Opt = <T extends TSchema>(s: T) => Type.Optional(s);
const OptNull = <T extends TSchema>(s: T) => Type.Optional(Nullable(s));
const Date_ = Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$', description: 'YYYY-MM-DD' });
const Minor = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });
const Cur = Type.String({ pattern: '^[A-Z]{3}$', description: 'ISO 4217 code' });

export const IdParams = Type.Object({ id: Str(100, 1) });
export const LineParams = Type.Object({ id: Str(100, 1), lineId: Str(100, 1) });
const ListBase = { q: Opt(Str(200)), limit: Opt(Type.Integer({ minimum: 1, maximum: 200 })), cursor: Opt(Str(500)) };
export const ListQuery = Type.Object(ListBase);

const AccountStatus = Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('closed')]);
const accountFields = {
  contactName: OptNull(Str(200)),
  contactEmail: OptNull(Str(320)),
  contactPhone: OptNull(Str(50)),
  addressLine1: OptNull(Str(200)),
  addressLine2: OptNull(Str(200)),
  city: OptNull(Str(100)),
  region: OptNull(Str(100)),
  postalCode: OptNull(Str(30)),
  country: OptNull(Str(100)),
  paymentTermsDays: Opt(Type.Integer({ minimum: 0, maximum: 365 })),
  status: Opt(AccountStatus),
  notes: OptNull(Str(4000)),
  taxRate: Opt(Type.String({ pattern: '^\\d{1,3}(\\.\\d{1,4})?$', description: 'percent, e.g. 8.875' })),
};
export const AccountCreate = Type.Object({ name: Str(200, 1), currency: Cur, ...accountFields }, { additionalProperties: false });
export const AccountUpdate = Type.Object({ name: Opt(Str(200, 1)), currency: Opt(Cur), version: Opt(Type.Integer()), ...accountFields }, { additionalProperties: false });
export const AccountListQuery = Type.Object({ ...ListBase, status: Opt(AccountStatus) });

const Tier = Type.Object({ upTo: Type.Union([Type.Integer({ minimum: 1 }), Type.Null()]), unitPrice: Str(30, 1), flatFee: Opt(Minor) }, { additionalProperties: false });
const Pricing = Type.Union([
  Type.Object({ model: Type.Literal('unit'), unitPrice: Str(30, 1) }, { additionalProperties: false }),
  Type.Object({ model: Type.Literal('graduated'), tiers: Type.Array(Tier, { minItems: 1, maxItems: 20 }) }, { additionalProperties: false }),
  Type.Object({ model: Type.Literal('volume'), tiers: Type.Array(Tier, { minItems: 1, maxItems: 20 }) }, { additionalProperties: false }),
]);
const Charge = Type.Object({
  name: Str(200, 1),
  kind: Type.Union([Type.Literal('recurring'), Type.Literal('one_time'), Type.Literal('usage')]),
  interval: OptNull(Type.Union([Type.Literal('month'), Type.Literal('year')])),
  amount: OptNull(Minor),
  usageIdentifier: OptNull(Str(64)),
  pricing: OptNull(Pricing),
}, { additionalProperties: false });
const ProductStatus = Type.Union([Type.Literal('active'), Type.Literal('archived')]);
export const ProductCreate = Type.Object({ code: Str(32, 1), name: Str(200, 1), description: OptNull(Str(2000)), currency: Cur, status: Opt(ProductStatus), charges: Type.Array(Charge, { maxItems: 50 }) }, { additionalProperties: false });
export const ProductUpdate = Type.Object({ code: Opt(Str(32, 1)), name: Opt(Str(200, 1)), description: OptNull(Str(2000)), currency: Opt(Cur), status: Opt(ProductStatus), charges: Opt(Type.Array(Charge, { maxItems: 50 })), version: Opt(Type.Integer()) }, { additionalProperties: false });
export const ProductListQuery = Type.Object({ ...ListBase, status: Opt(ProductStatus) });

export const SubscriptionCreate = Type.Object({ accountId: Str(100, 1), productId: Str(100, 1), quantity: Opt(Type.Integer({ minimum: 1, maximum: 1_000_000 })), startDate: Date_, endDate: OptNull(Date_) }, { additionalProperties: false });
export const SubscriptionUpdate = Type.Object({ quantity: Opt(Type.Integer({ minimum: 1, maximum: 1_000_000 })), startDate: Opt(Date_), endDate: OptNull(Date_), version: Opt(Type.Integer()) }, { additionalProperties: false });
export const SubscriptionCancel = Type.Object({ endDate: Date_ }, { additionalProperties: false });
export const SubscriptionListQuery = Type.Object({ ...ListBase, accountId: Opt(Str(100)), productId: Opt(Str(100)), status: Opt(Type.Union([Type.Literal('active'), Type.Literal('cancelled')])) });

export const UsageRecord = Type.Object({
  accountId: Opt(Str(100, 1)),
  accountNumber: Opt(Str(50, 1)),
  identifier: Str(64, 1),
  quantity: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  occurredAt: Str(40, 10),
  idempotencyKey: Str(200, 1),
}, { additionalProperties: false });
export const UsageBatch = Type.Object({ records: Type.Array(UsageRecord, { minItems: 1, maxItems: 5000 }) }, { additionalProperties: false });
export const UsageListQuery = Type.Object({ ...ListBase, accountId: Opt(Str(100)), identifier: Opt(Str(64)), from: Opt(Str(40)), to: Opt(Str(40)) });
export const UploadQuery = Type.Object({ fileName: Opt(Str(200)) });

export const BillRunCreate = Type.Object({ periodStart: Date_, periodEnd: Date_, accountId: OptNull(Str(100, 1)), wait: Opt(Type.Boolean()) }, { additionalProperties: false });
export const BillRunAccountsQuery = Type.Object({ ...ListBase, status: Opt(Type.Union([Type.Literal('pending'), Type.Literal('billed'), Type.Literal('skipped'), Type.Literal('failed')])) });

const InvoiceStatus = Type.Union([Type.Literal('draft'), Type.Literal('finalized'), Type.Literal('paid'), Type.Literal('void')]);
export const InvoiceListQuery = Type.Object({ ...ListBase, status: Opt(InvoiceStatus), accountId: Opt(Str(100)), billRunId: Opt(Str(100)), overdue: Opt(Type.Boolean()) });
export const InvoiceUpdate = Type.Object({ memo: OptNull(Str(2000)), version: Opt(Type.Integer()) }, { additionalProperties: false });
export const InvoiceAdjustment = Type.Object({ description: Str(200, 1), amount: Type.Integer({ minimum: -Number.MAX_SAFE_INTEGER, maximum: Number.MAX_SAFE_INTEGER }) }, { additionalProperties: false });
export const InvoiceFinalize = Type.Object({ issueDate: Opt(Date_) }, { additionalProperties: false });
export const InvoiceVoid = Type.Object({ reason: Str(500, 1) }, { additionalProperties: false });

export const PaymentCreate = Type.Object({
  accountId: Str(100, 1),
  amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  currency: Cur,
  receivedOn: Opt(Date_),
  method: Type.Union(['bank_transfer', 'card', 'check', 'cash', 'direct_debit', 'other'].map((m) => Type.Literal(m))),
  reference: OptNull(Str(200)),
  allocations: Opt(Type.Array(Type.Object({ invoiceId: Str(100, 1), amount: Opt(Type.Integer({ minimum: 1 })) }, { additionalProperties: false }), { maxItems: 200 })),
}, { additionalProperties: false });
export const PaymentListQuery = Type.Object({ ...ListBase, accountId: Opt(Str(100)) });
export const CreditCreate = Type.Object({ accountId: Str(100, 1), amount: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }), currency: Cur, reason: Str(500, 1) }, { additionalProperties: false });

// asOf and end are checked by the reports (dayParam), which say what is wrong with the day, not which pattern it missed.
const DayParam = Type.String({ maxLength: 40, description: 'YYYY-MM-DD' });
export const ReportQuery = Type.Object({ format: Opt(Type.Union([Type.Literal('json'), Type.Literal('csv')])), currency: Opt(Cur), asOf: Opt(DayParam), end: Opt(DayParam), months: Opt(Type.Integer({ minimum: 1, maximum: 36 })), identifier: Opt(Str(64)) });

interface AjvLikeError {
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/**
 * A Fastify validator for a body that is either one record or `{records: [...]}`: choosing the branch
 * first gives field messages for the branch the caller meant (a plain anyOf reports both).
 */
export function singleOrBatchValidator() {
  const single = Compile(UsageRecord);
  const batch = Compile(UsageBatch);
  const fn = ((data: unknown) => {
    const c = data && typeof data === 'object' && 'records' in data ? batch : single;
    if (c.Check(data)) return true;
    // A part too big (more than 5,000 records) is the whole answer, as for the other bodies
    // (src/platform/validator.ts): TypeBox's Errors looks at each record before it says so, 330-440 ms
    // for 25,000 good ones (2.6 MB).
    const tooBig = oversizedParts(c === batch ? UsageBatch : UsageRecord, data);
    if (tooBig.length) {
      fn.errors = tooBig.map((e) => ({ instancePath: e.instancePath ?? '', params: e.params ?? {}, message: e.message ?? '' }));
      return false;
    }
    const errors: AjvLikeError[] = [];
    for (const e of c.Errors(data) as Iterable<{ keyword: string; instancePath: string; params: Record<string, unknown>; message: string }>) {
      if (e.keyword === 'required') for (const p of (e.params.requiredProperties as string[]) ?? []) errors.push({ instancePath: e.instancePath, params: { missingProperty: p }, message: 'required' });
      else if (e.keyword === 'additionalProperties') for (const p of (e.params.additionalProperties as string[]) ?? []) errors.push({ instancePath: e.instancePath, params: { additionalProperty: p }, message: 'unknown field' });
      else if (e.keyword !== 'boolean') errors.push({ instancePath: e.instancePath, params: e.params, message: e.message });
    }
    fn.errors = errors;
    return false;
  }) as ((data: unknown) => boolean) & { errors?: AjvLikeError[] };
  return fn;
}
