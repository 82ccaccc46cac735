// Payments: record a payment (paid to the oldest invoices first; any overpayment stays as account
// credit), issue a credit note, and list both.
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Banner, Button, Dialog, EmptyState, FilterBar, Form, FormActions, FormError, Money, PageHeader, Pager, SelectField, Spinner, Table, Tabs, TextField, parseMoney, useFormState, useList, useListParams, useToast } from '../../ui/index.ts';
import { billingApi, today, type Account } from './billing.api.ts';

const METHODS = [
  { value: 'bank_transfer', label: 'Bank transfer' }, { value: 'card', label: 'Card' }, { value: 'check', label: 'Check' },
  { value: 'cash', label: 'Cash' }, { value: 'direct_debit', label: 'Direct debit' }, { value: 'other', label: 'Other' },
];

function useAccounts() {
  const [accounts, setAccounts] = useState<Account[]>([]);
  useEffect(() => {
    billingApi.accounts({ limit: 200 }).then((p) => setAccounts(p.items));
  }, []);
  return accounts;
}

function PaymentForm({ kind, onDone, onCancel, accountId: initial }: { kind: 'payment' | 'credit'; onDone: () => void; onCancel: () => void; accountId?: string }) {
  const accounts = useAccounts();
  const form = useFormState();
  const [accountId, setAccountId] = useState(initial ?? '');
  const [amount, setAmount] = useState('');
  const [receivedOn, setReceivedOn] = useState(today());
  const [method, setMethod] = useState('bank_transfer');
  const [reference, setReference] = useState('');
  const [reason, setReason] = useState('');
  const account = accounts.find((a) => a.id === accountId);
  const currency = account?.currency ?? 'USD';
  return (
    <Form onSubmit={() => void form.submit(async () => {
      const minor = parseMoney(amount, currency);
      if (kind === 'payment') await billingApi.recordPayment({ accountId, amount: minor ?? 0, currency, receivedOn, method, reference: reference || null });
      else await billingApi.issueCredit({ accountId, amount: minor ?? 0, currency, reason });
      onDone();
    })}>
      <FormError error={form.error} />
      <SelectField label="Account" value={accountId} onChange={setAccountId} placeholder="Choose an account" options={accounts.map((a) => ({ value: a.id, label: `${a.number} ${a.name} (${a.currency})` }))} error={form.fields.accountId} />
      <TextField label={`Amount (${currency})`} value={amount} onChange={setAmount} error={form.fields.amount ?? form.fields.currency} inputMode="decimal" />
      {kind === 'payment' ? (
        <>
          <TextField label="Received on" type="date" value={receivedOn} onChange={setReceivedOn} error={form.fields.receivedOn} />
          <SelectField label="Method" value={method} onChange={setMethod} options={METHODS} error={form.fields.method} />
          <TextField label="Reference" value={reference} onChange={setReference} error={form.fields.reference} hint="Bank reference, check number…" />
          <p className="muted">Pays the oldest open invoices first; anything left over stays on the account as credit.</p>
        </>
      ) : (
        <TextField label="Reason" value={reason} onChange={setReason} error={form.fields.reason} />
      )}
      <FormActions busy={form.busy} onCancel={onCancel} saveLabel={kind === 'payment' ? 'Record payment' : 'Issue credit'} />
    </Form>
  );
}

function PaymentsList({ reloadKey }: { reloadKey: number }) {
  const list = useListParams(['q', 'accountId']);
  const { page, loading, error } = useList((q, signal) => billingApi.payments(q, signal), { ...list.filters, cursor: list.cursor, limit: 50, k: reloadKey });
  return (
    <>
      <FilterBar list={list} placeholder="Reference or account number" />
      {error && <Banner>{error}</Banner>}
      {!page && loading ? <Spinner /> : page && page.items.length === 0 ? <EmptyState title="No payments recorded." /> : page ? (
        <>
          <Table caption="Payments" rowKey={(p) => p.id} rows={page.items} columns={[
            { key: 'd', header: 'Received', render: (p) => p.receivedOn },
            { key: 'a', header: 'Account', render: (p) => <Link to={`/accounts/${p.accountId}`}>{p.accountNumber} {p.accountName}</Link> },
            { key: 'm', header: 'Method', render: (p) => METHODS.find((x) => x.value === p.method)?.label ?? p.method },
            { key: 'r', header: 'Reference', render: (p) => p.reference ?? <span className="muted">—</span> },
            { key: 'amt', header: 'Amount', align: 'right', render: (p) => <Money minor={p.amount} currency={p.currency} /> },
            { key: 'u', header: 'Kept as credit', align: 'right', render: (p) => <Money minor={p.unallocated} currency={p.currency} /> },
          ]} />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
    </>
  );
}

function CreditsList({ reloadKey }: { reloadKey: number }) {
  const list = useListParams([]);
  const { page, loading, error } = useList((q, signal) => billingApi.credits(q, signal), { cursor: list.cursor, limit: 50, k: reloadKey });
  return error ? <Banner>{error}</Banner> : !page && loading ? <Spinner /> : page && page.items.length === 0 ? <EmptyState title="No credit notes." /> : page ? (
    <>
      <Table caption="Credit notes" rowKey={(c) => c.id} rows={page.items} columns={[
        { key: 'd', header: 'Issued', render: (c) => c.createdAt.slice(0, 10) },
        { key: 'a', header: 'Account', render: (c) => <Link to={`/accounts/${c.accountId}`}>{c.accountNumber} {c.accountName}</Link> },
        { key: 'r', header: 'Reason', render: (c) => c.reason },
        { key: 'amt', header: 'Amount', align: 'right', render: (c) => <Money minor={c.amount} currency={c.currency} /> },
        { key: 'u', header: 'Not yet applied', align: 'right', render: (c) => <Money minor={c.unallocated} currency={c.currency} /> },
      ]} />
      <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
    </>
  ) : null;
}

export default function PaymentsScreen() {
  const canEdit = useCanEdit('payments');
  const toast = useToast();
  const [params] = useSearchParams();
  const [tab, setTab] = useState('payments');
  const [dialog, setDialog] = useState<'payment' | 'credit' | null>(null);
  const [reloadKey, setReloadKey] = useState(0);
  return (
    <div className="page">
      <PageHeader title="Payments" breadcrumb={screenCrumbs('payments')} actions={canEdit ? (
        <div className="row">
          <Button onClick={() => setDialog('credit')}>Issue credit</Button>
          <Button variant="primary" onClick={() => setDialog('payment')}>Record payment</Button>
        </div>
      ) : undefined} />
      <Tabs label="Payments sections" value={tab} onChange={setTab} tabs={[{ key: 'payments', label: 'Payments' }, { key: 'credits', label: 'Credit notes' }]}>
        {tab === 'payments' ? <PaymentsList reloadKey={reloadKey} /> : <CreditsList reloadKey={reloadKey} />}
      </Tabs>
      <Dialog open={dialog !== null} title={dialog === 'credit' ? 'Issue credit' : 'Record payment'} onClose={() => setDialog(null)}>
        {dialog && <PaymentForm kind={dialog} accountId={params.get('accountId') ?? undefined} onCancel={() => setDialog(null)} onDone={() => { setDialog(null); setReloadKey((k) => k + 1); toast.success(dialog === 'credit' ? 'Credit issued' : 'Payment recorded'); }} />}
      </Dialog>
    </div>
  );
}
