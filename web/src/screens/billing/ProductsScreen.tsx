// Products: the catalog with its charges; create or edit a product and its charges (Full Permission).
import { useId, useState } from 'react';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, Banner, Button, Dialog, EmptyState, FieldErrors, FilterBar, Form, FormActions, FormError, PageHeader, Pager, SelectField, Spinner, Table, TextField, formatMoney, parseMoney, useFormState, useList, useListParams, type Column } from '../../ui/index.ts';
import { billingApi, type Charge, type Product, type Tier } from './billing.api.ts';

const KIND_LABEL: Record<string, string> = { recurring: 'Recurring', one_time: 'One-time', usage: 'Usage' };

export function describeCharge(c: Charge, currency: string): string {
  if (c.kind === 'recurring') return `${formatMoney(c.amount ?? 0, currency)} per ${c.interval === 'year' ? 'year' : 'month'}`;
  if (c.kind === 'one_time') return `${formatMoney(c.amount ?? 0, currency)} once`;
  const p = c.pricing;
  if (!p) return c.usageIdentifier ?? '';
  if (p.model === 'unit') return `${c.usageIdentifier}: ${p.unitPrice} ${currency} per unit`;
  return `${c.usageIdentifier}: ${p.model} tiers ` + p.tiers.map((t) => `${t.upTo === null ? 'then' : `≤${t.upTo.toLocaleString('en-US')}`} @ ${t.unitPrice}`).join(', ');
}

interface ChargeDraft { name: string; kind: Charge['kind']; interval: string; amount: string; usageIdentifier: string; model: string; unitPrice: string; tiers: string }

const tiersText = (tiers: Tier[]) => tiers.map((t) => `${t.upTo ?? '*'}:${t.unitPrice}${t.flatFee ? `:${t.flatFee}` : ''}`).join('\n');
const WHOLE = /^\d+$/;
/**
 * The tiers as typed, and what is wrong with each that is not one. Number() read "abc", "1e" or "1,000"
 * as NaN, which JSON sends as null: the tier was saved open-ended. Prices are the server's to check.
 */
function parseTiers(text: string): { tiers: Tier[]; problems: string[] } {
  const problems: string[] = [];
  const tiers = text.split(/\n|;/).map((l) => l.trim()).filter(Boolean).map((l, i) => {
    const [upTo, unitPrice, flat] = l.split(':').map((s) => s.trim());
    if (upTo !== '*' && upTo !== '' && !(WHOLE.test(upTo) && Number.isSafeInteger(Number(upTo)))) problems.push(`Tier ${i + 1}: "${upTo}" is not a whole number of units; write * for an open-ended last tier`);
    if (flat && !(WHOLE.test(flat) && Number.isSafeInteger(Number(flat)))) problems.push(`Tier ${i + 1}: the flat fee "${flat}" is not a whole number of minor units`);
    return { upTo: upTo === '*' || upTo === '' ? null : Number(upTo), unitPrice: unitPrice ?? '', ...(flat ? { flatFee: Number(flat) } : {}) };
  });
  return { tiers, problems };
}

const TIER_PART: Record<string, string> = { upTo: 'up-to', unitPrice: 'unit price', flatFee: 'flat fee' };
/**
 * The errors on a charge's price, shown under its one tiers field: each of a tier names it as the
 * form's own do ("Tier 2 unit price: Enter a price of zero or more"); the server's field names
 * (charges.0.pricing.tiers.1.unitPrice) say which, the textarea cannot.
 */
function pricingError(fields: Record<string, string>, charge: number): string | undefined {
  const prefix = `charges.${charge}.pricing`;
  return Object.entries(fields).filter(([k]) => k === prefix || k.startsWith(`${prefix}.`)).map(([k, message]) => {
    const tier = /^\.tiers\.(\d+)(?:\.(\w+))?$/.exec(k.slice(prefix.length));
    return tier ? `Tier ${Number(tier[1]) + 1}${tier[2] ? ` ${TIER_PART[tier[2]] ?? tier[2]}` : ''}: ${message}` : message;
  }).join('; ') || undefined;
}

function toDraft(c: Charge, currency: string): ChargeDraft {
  const p = c.pricing;
  return {
    name: c.name, kind: c.kind, interval: c.interval ?? 'month', amount: c.amount != null ? formatMoney(c.amount, currency).replace(/ [A-Z]{3}$/, '') : '',
    usageIdentifier: c.usageIdentifier ?? '', model: p?.model ?? 'unit', unitPrice: p && p.model === 'unit' ? p.unitPrice : '', tiers: p && p.model !== 'unit' ? tiersText(p.tiers) : '',
  };
}

function ProductForm({ product, onDone, onCancel }: { product?: Product; onDone: () => void; onCancel: () => void }) {
  const form = useFormState();
  const [code, setCode] = useState(product?.code ?? '');
  const [name, setName] = useState(product?.name ?? '');
  const [description, setDescription] = useState(product?.description ?? '');
  const [currency, setCurrency] = useState(product?.currency ?? 'USD');
  const [charges, setCharges] = useState<ChargeDraft[]>(() => (product?.charges ?? []).map((c) => toDraft(c, product!.currency)));
  const edit = (i: number, k: keyof ChargeDraft) => (v: string) => setCharges((cs) => cs.map((c, j) => (j === i ? { ...c, [k]: v } : c)));
  /** The request body, or FieldErrors (shown under the tiers, nothing sent) for tiers that are not numbers. */
  const body = () => {
    const problems: Record<string, string> = {};
    const product = {
      code, name, description: description || null, currency,
      charges: charges.map((c, i): Charge => {
        if (c.kind === 'usage') {
          if (c.model === 'unit') return { name: c.name, kind: 'usage', usageIdentifier: c.usageIdentifier, pricing: { model: 'unit', unitPrice: c.unitPrice } };
          const { tiers, problems: wrong } = parseTiers(c.tiers);
          if (wrong.length) problems[`charges.${i}.pricing.tiers`] = wrong.join('; ');
          return { name: c.name, kind: 'usage', usageIdentifier: c.usageIdentifier, pricing: { model: c.model as 'graduated' | 'volume', tiers } };
        }
        const amount = parseMoney(c.amount, currency);
        return { name: c.name, kind: c.kind, ...(c.kind === 'recurring' ? { interval: c.interval as 'month' | 'year' } : {}), amount: amount ?? -1 };
      }),
    };
    if (Object.keys(problems).length) throw new FieldErrors(problems);
    return product;
  };
  const f = (k: string) => form.fields[k];
  return (
    <Form onSubmit={() => void form.submit(async () => {
      if (product) await billingApi.updateProduct(product.id, { ...body(), version: product.version } as Partial<Product>);
      else await billingApi.createProduct(body() as never);
      onDone();
    })}>
      <FormError error={form.error} />
      <div className="bl-form-grid">
        <TextField label="Code" value={code} onChange={setCode} error={f('code')} hint="Short, unique: PRO, API-2026" />
        <TextField label="Name" value={name} onChange={setName} error={f('name')} />
        <TextField label="Currency" value={currency} onChange={(v) => setCurrency(v.toUpperCase())} error={f('currency')} maxLength={3} />
      </div>
      <TextField label="Description" value={description} onChange={setDescription} error={f('description')} />
      <h3>Charges</h3>
      {charges.map((c, i) => (
        <fieldset key={i} className="bl-charge">
          <legend>Charge {i + 1}</legend>
          <div className="bl-form-grid">
            <TextField label="Charge name" value={c.name} onChange={edit(i, 'name')} error={f(`charges.${i}.name`)} />
            <SelectField label="Kind" value={c.kind} onChange={edit(i, 'kind')} options={[{ value: 'recurring', label: 'Recurring' }, { value: 'one_time', label: 'One-time' }, { value: 'usage', label: 'Usage' }]} />
            {c.kind === 'recurring' && <SelectField label="Billed" value={c.interval} onChange={edit(i, 'interval')} options={[{ value: 'month', label: 'Monthly' }, { value: 'year', label: 'Annually' }]} error={f(`charges.${i}.interval`)} />}
            {c.kind !== 'usage' && <TextField label={`Price (${currency})`} value={c.amount} onChange={edit(i, 'amount')} error={f(`charges.${i}.amount`)} inputMode="decimal" hint="Prorated by day for partial months" />}
            {c.kind === 'usage' && <TextField label="Usage identifier" value={c.usageIdentifier} onChange={edit(i, 'usageIdentifier')} error={f(`charges.${i}.usageIdentifier`)} hint="e.g. api_calls" />}
            {c.kind === 'usage' && <SelectField label="Pricing" value={c.model} onChange={edit(i, 'model')} options={[{ value: 'unit', label: 'Unit price' }, { value: 'graduated', label: 'Graduated tiers' }, { value: 'volume', label: 'Volume tiers' }]} />}
            {c.kind === 'usage' && c.model === 'unit' && <TextField label={`Unit price (${currency})`} value={c.unitPrice} onChange={edit(i, 'unitPrice')} error={f(`charges.${i}.pricing.unitPrice`) ?? f(`charges.${i}.pricing`)} hint="May have sub-cent precision: 0.0015" />}
          </div>
          {c.kind === 'usage' && c.model !== 'unit' && (
            <Field2 label="Tiers, one per line as up-to:unit price[:flat fee in minor units]; * for the last" value={c.tiers} onChange={edit(i, 'tiers')} error={pricingError(form.fields, i)} />
          )}
          <Button small variant="ghost" onClick={() => setCharges((cs) => cs.filter((_, j) => j !== i))}>Remove charge</Button>
        </fieldset>
      ))}
      <Button small onClick={() => setCharges((cs) => [...cs, { name: '', kind: 'recurring', interval: 'month', amount: '', usageIdentifier: '', model: 'unit', unitPrice: '', tiers: '1000:0\n*:0.002' }])}>Add charge</Button>
      <FormActions busy={form.busy} onCancel={onCancel} saveLabel={product ? 'Save product' : 'Create product'} />
    </Form>
  );
}

function Field2({ label, value, onChange, error }: { label: string; value: string; onChange: (v: string) => void; error?: string }) {
  const errId = `${useId()}-err`;
  return (
    <div className={['field', error ? 'field-invalid' : ''].join(' ')}>
      <label className="field-label">
        {label}
        <textarea className="input" rows={4} value={value} onChange={(e) => onChange(e.target.value)} aria-invalid={error ? true : undefined} aria-describedby={error ? errId : undefined} />
      </label>
      {error && <div id={errId} className="field-error" role="alert">{error}</div>}
    </div>
  );
}

export default function ProductsScreen() {
  const canEdit = useCanEdit('products');
  const list = useListParams(['q']);
  const [editing, setEditing] = useState<Product | 'new' | null>(null);
  const { page, loading, error, reload } = useList((q, signal) => billingApi.products(q, signal), { ...list.filters, cursor: list.cursor, limit: 50 });
  const columns: Column<Product>[] = [
    { key: 'code', header: 'Code', sortValue: (p) => p.code, render: (p) => p.code },
    { key: 'name', header: 'Name', sortValue: (p) => p.name, render: (p) => p.name },
    { key: 'currency', header: 'Currency', render: (p) => p.currency },
    { key: 'charges', header: 'Charges', render: (p) => <ul className="plain">{p.charges.map((c, i) => <li key={i}><Badge>{KIND_LABEL[c.kind]}</Badge> {c.name}: {describeCharge(c, p.currency)}</li>)}</ul> },
    { key: 'status', header: 'Status', render: (p) => (p.status === 'active' ? 'Active' : 'Archived') },
    ...(canEdit ? [{ key: 'edit', header: '', render: (p: Product) => <Button small onClick={() => setEditing(p)}>Edit</Button> }] : []),
  ];
  const newButton = canEdit ? <Button variant="primary" onClick={() => setEditing('new')}>New product</Button> : undefined;
  return (
    <div className="page">
      <PageHeader title="Products" breadcrumb={screenCrumbs('products')} actions={newButton} />
      <FilterBar list={list} placeholder="Name or code" />
      {error && <Banner>{error}</Banner>}
      {!page && loading ? <Spinner /> : page && page.items.length === 0 ? (
        <EmptyState title="The catalog is empty." action={newButton}>Add a product with its recurring, one-time or usage charges.</EmptyState>
      ) : page ? (
        <>
          <Table columns={columns} rows={page.items} rowKey={(p) => p.id} sort={list.sort} onSort={list.setSort} caption="Products" />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
      <Dialog open={editing !== null} title={editing === 'new' ? 'New product' : `Edit ${editing?.name ?? ''}`} onClose={() => setEditing(null)}>
        {editing !== null && <ProductForm product={editing === 'new' ? undefined : editing} onCancel={() => setEditing(null)} onDone={() => { setEditing(null); reload(); }} />}
      </Dialog>
    </div>
  );
}
