// The account form (create and edit). Read Only users see the same fields as text.
import { useState } from 'react';
import { Form, FormActions, FormError, SelectField, TextField, useFormState } from '../../ui/index.ts';
import type { Account } from './billing.api.ts';

const CURRENCIES = ['USD', 'EUR', 'GBP', 'CAD', 'AUD', 'CHF', 'JPY', 'SEK', 'NOK', 'DKK', 'NZD', 'SGD', 'INR', 'BRL', 'MXN', 'ZAR'].map((c) => ({ value: c, label: c }));
const STATUSES = [{ value: 'active', label: 'Active' }, { value: 'suspended', label: 'Suspended' }, { value: 'closed', label: 'Closed' }];

type Draft = Record<string, string>;
const TEXT_FIELDS: [keyof Account, string][] = [
  ['contactName', 'Billing contact'], ['contactEmail', 'Contact email'], ['contactPhone', 'Contact phone'],
  ['addressLine1', 'Address line 1'], ['addressLine2', 'Address line 2'], ['city', 'City'], ['region', 'State / region'], ['postalCode', 'Postal code'], ['country', 'Country'],
];

export function AccountForm({ account, readOnly, onSave, onCancel, saveLabel }: { account?: Account; readOnly?: boolean; onSave: (body: Partial<Account>) => Promise<unknown>; onCancel?: () => void; saveLabel?: string }) {
  const form = useFormState();
  const [d, setD] = useState<Draft>(() => ({
    name: account?.name ?? '', currency: account?.currency ?? 'USD', status: account?.status ?? 'active', paymentTermsDays: String(account?.paymentTermsDays ?? 30), taxRate: account?.taxRate ?? '0', notes: account?.notes ?? '',
    ...Object.fromEntries(TEXT_FIELDS.map(([k]) => [k, (account?.[k] as string | null) ?? ''])),
  }));
  const set = (k: string) => (v: string) => {
    setD((x) => ({ ...x, [k]: v }));
    form.clearField(k);
  };
  const submit = () =>
    form.submit(() =>
      onSave({
        name: d.name, currency: d.currency, status: d.status as Account['status'], paymentTermsDays: Number(d.paymentTermsDays), taxRate: d.taxRate.trim() || '0', notes: d.notes || null,
        ...Object.fromEntries(TEXT_FIELDS.map(([k]) => [k, d[k] || null])),
        ...(account ? { version: account.version } : {}),
      }),
    );
  return (
    <Form onSubmit={() => void submit()}>
      <FormError error={form.error} />
      <div className="bl-form-grid">
        <TextField label="Account name" value={d.name} onChange={set('name')} error={form.fields.name} readOnlyView={readOnly} required />
        <SelectField label="Currency" value={d.currency} options={CURRENCIES} onChange={set('currency')} error={form.fields.currency} readOnlyView={readOnly} />
        <SelectField label="Status" value={d.status} options={STATUSES} onChange={set('status')} error={form.fields.status} readOnlyView={readOnly} />
        <TextField label="Payment terms (days)" value={d.paymentTermsDays} onChange={set('paymentTermsDays')} error={form.fields.paymentTermsDays} readOnlyView={readOnly} inputMode="numeric" />
        <TextField label="Tax rate (%)" value={d.taxRate} onChange={set('taxRate')} error={form.fields.taxRate} readOnlyView={readOnly} hint="e.g. 8.875; 0 for none" />
        {TEXT_FIELDS.map(([k, label]) => (
          <TextField key={k} label={label} value={d[k]} onChange={set(k)} error={form.fields[k]} readOnlyView={readOnly} />
        ))}
      </div>
      <TextField label="Notes" value={d.notes} onChange={set('notes')} error={form.fields.notes} readOnlyView={readOnly} />
      {!readOnly && <FormActions busy={form.busy} onCancel={onCancel} saveLabel={saveLabel ?? 'Save'} />}
    </Form>
  );
}
