// Account overview: balance, open invoices, subscriptions (subscribe, cancel), recent usage and
// payments, and the account's details (editable with Full Permission). The API leaves out a section
// the user may not read on its own screen (balance needs Invoices and Payments, open invoices
// Invoices, payments Payments, usage Usage); an absent section's panel is not drawn at all.
import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { errorText } from '../../api/client.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Banner, Button, DateTime, Dialog, EmptyState, Form, FormActions, FormError, Money, PageHeader, SelectField, Spinner, Table, Tabs, TextField, formatNumber, useFormState, useToast } from '../../ui/index.ts';
import { AccountForm } from './AccountForm.tsx';
import { billingApi, today, type AccountOverview, type Product } from './billing.api.ts';
import { AccountStatus, FigureCard, InvoiceStatus } from './parts.tsx';

function SubscribeForm({ accountId, currency, onDone, onCancel }: { accountId: string; currency: string; onDone: () => void; onCancel: () => void }) {
  const form = useFormState();
  const [products, setProducts] = useState<Product[]>([]);
  const [productId, setProductId] = useState('');
  const [quantity, setQuantity] = useState('1');
  const [startDate, setStartDate] = useState(today());
  const [endDate, setEndDate] = useState('');
  useEffect(() => {
    billingApi.products({ status: 'active', limit: 200 }).then((p) => setProducts(p.items.filter((x) => x.currency === currency)));
  }, [currency]);
  return (
    <Form onSubmit={() => void form.submit(async () => {
      await billingApi.subscribe({ accountId, productId, quantity: Number(quantity), startDate, endDate: endDate || null });
      onDone();
    })}>
      <FormError error={form.error} />
      <SelectField label="Product" value={productId} placeholder="Choose a product" options={products.map((p) => ({ value: p.id, label: `${p.name} (${p.code})` }))} onChange={setProductId} error={form.fields.productId} hint={`Products priced in ${currency}`} />
      <TextField label="Quantity" value={quantity} onChange={setQuantity} error={form.fields.quantity} inputMode="numeric" />
      <TextField label="Start date" type="date" value={startDate} onChange={setStartDate} error={form.fields.startDate} />
      <TextField label="End date (optional)" type="date" value={endDate} onChange={setEndDate} error={form.fields.endDate} hint="Service stops on this day" />
      <FormActions busy={form.busy} onCancel={onCancel} saveLabel="Subscribe" />
    </Form>
  );
}

function CancelForm({ subscriptionId, onDone, onCancel }: { subscriptionId: string; onDone: () => void; onCancel: () => void }) {
  const form = useFormState();
  const [endDate, setEndDate] = useState(today());
  return (
    <Form onSubmit={() => void form.submit(async () => {
      await billingApi.cancelSubscription(subscriptionId, endDate);
      onDone();
    })}>
      <FormError error={form.error} />
      <TextField label="End date" type="date" value={endDate} onChange={setEndDate} error={form.fields.endDate} hint="Service stops on this day; the next bill run prorates the last period." />
      <FormActions busy={form.busy} onCancel={onCancel} saveLabel="Cancel subscription" />
    </Form>
  );
}

type Sub = AccountOverview['subscriptions'][number];

function QuantityForm({ subscription, onDone, onCancel }: { subscription: Sub; onDone: () => void; onCancel: () => void }) {
  const form = useFormState();
  const [quantity, setQuantity] = useState(String(subscription.quantity));
  return (
    <Form onSubmit={() => void form.submit(async () => {
      // Sent as typed: the API refuses anything but a whole number from 1 and says so next to the field.
      const n = /^\s*\d+\s*$/.test(quantity) ? Number(quantity) : quantity;
      await billingApi.updateSubscription(subscription.id, { quantity: n as number, version: subscription.version });
      onDone();
    })}>
      <FormError error={form.error} />
      <TextField label="Quantity" value={quantity} onChange={setQuantity} error={form.fields.quantity} inputMode="numeric" hint="Applies to the whole period of the next bill run; periods already invoiced keep their quantity." />
      <FormActions busy={form.busy} onCancel={onCancel} saveLabel="Change quantity" />
    </Form>
  );
}

export default function AccountDetailScreen() {
  const { id = '' } = useParams();
  const canEdit = useCanEdit('accounts');
  const toast = useToast();
  const [data, setData] = useState<AccountOverview | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tab, setTab] = useState('overview');
  const [subscribing, setSubscribing] = useState(false);
  const [cancelling, setCancelling] = useState<string | null>(null);
  const [changing, setChanging] = useState<Sub | null>(null);
  const load = useCallback(() => billingApi.account(id).then(setData, (e) => setError(errorText(e))), [id]);
  useEffect(() => {
    void load();
  }, [load]);
  if (error) return <div className="page"><Banner>{error}</Banner></div>;
  if (!data) return <div className="page"><Spinner /></div>;
  const { account: a, balance: b, openInvoices, recentPayments, usageLast30Days, recentUsage } = data;
  const cancel = (subId: string) => setCancelling(subId);
  return (
    <div className="page">
      <PageHeader title={`${a.name}`} breadcrumb={screenCrumbs('accounts', { label: a.number })} actions={<AccountStatus status={a.status} />}>
        <p className="muted">{a.number} · billed in {a.currency} · {a.paymentTermsDays} days to pay{a.taxRate !== '0' ? ` · tax ${a.taxRate}%` : ''}</p>
      </PageHeader>
      {b && (
        <div className="bl-cards">
          <FigureCard label="Balance" value={<Money minor={b.balance} currency={a.currency} />} note="invoiced − payments − credits" />
          <FigureCard label="Open receivables" value={<Money minor={b.openReceivables} currency={a.currency} />} note={openInvoices ? `${openInvoices.filter((i) => i.status === 'finalized').length} open invoices` : undefined} />
          <FigureCard label="Account credit" value={<Money minor={b.availableCredit} currency={a.currency} />} note="applied to the next invoices" />
        </div>
      )}
      <Tabs label="Account sections" value={tab} onChange={setTab} tabs={[{ key: 'overview', label: 'Overview' }, { key: 'details', label: 'Details' }]}>
        {tab === 'overview' ? (
          <>
            <section className="bl-section">
              <div className="section-head"><h2>Subscriptions</h2>{canEdit && <Button variant="primary" onClick={() => setSubscribing(true)}>Subscribe</Button>}</div>
              {data.subscriptions.length === 0 ? <EmptyState title="No subscriptions yet." /> : (
                <Table caption="Subscriptions" rowKey={(s) => s.id} rows={data.subscriptions} columns={[
                  { key: 'product', header: 'Product', render: (s) => `${s.productName} (${s.productCode})` },
                  { key: 'qty', header: 'Quantity', align: 'right', render: (s) => formatNumber(s.quantity) },
                  { key: 'start', header: 'Start', render: (s) => s.startDate },
                  { key: 'end', header: 'End', render: (s) => s.endDate ?? <span className="muted">—</span> },
                  { key: 'status', header: 'Status', render: (s) => s.status === 'cancelled' ? 'Cancelled' : 'Active' },
                  ...(canEdit ? [{ key: 'act', header: '', render: (s: Sub) => s.status === 'active' ? <span className="bl-actions"><Button small onClick={() => setChanging(s)} aria-label={`Change quantity of ${s.productName}`}>Quantity…</Button> <Button small onClick={() => cancel(s.id)}>Cancel…</Button></span> : null }] : []),
                ]} />
              )}
            </section>
            {openInvoices && <section className="bl-section">
              <h2>Open invoices</h2>
              {openInvoices.length === 0 ? <EmptyState title="No open or draft invoices." /> : (
                <Table caption="Open invoices" rowKey={(i) => i.id} rows={openInvoices} columns={[
                  { key: 'number', header: 'Invoice', render: (i) => <Link to={`/invoices/${i.id}`}>{i.number ?? 'Draft'}</Link> },
                  { key: 'period', header: 'Period', render: (i) => `${i.periodStart} – ${i.periodEnd}` },
                  { key: 'due', header: 'Due', render: (i) => i.dueDate ?? '—' },
                  { key: 'status', header: 'Status', render: (i) => <InvoiceStatus status={i.status} overdue={i.status === 'finalized' && !!i.dueDate && i.dueDate < today()} /> },
                  { key: 'total', header: 'Total', align: 'right', render: (i) => <Money minor={i.total} currency={i.currency} /> },
                  { key: 'dueAmt', header: 'Amount due', align: 'right', render: (i) => <Money minor={i.amountDue} currency={i.currency} /> },
                ]} />
              )}
            </section>}
            {(usageLast30Days || recentPayments) && <section className={usageLast30Days && recentPayments ? 'bl-section grid-2' : 'bl-section'}>
              {usageLast30Days && <div>
                <h2>Usage, last 30 days</h2>
                {usageLast30Days.length === 0 ? <p className="muted">No usage recorded.</p> : (
                  <Table caption="Usage" rowKey={(u) => u.identifier} rows={usageLast30Days} columns={[
                    { key: 'id', header: 'Identifier', render: (u) => <Link to={`/usage?accountId=${a.id}&identifier=${u.identifier}`}>{u.identifier}</Link> },
                    { key: 'q', header: 'Quantity', align: 'right', render: (u) => formatNumber(u.quantity) },
                    { key: 'r', header: 'Records', align: 'right', render: (u) => formatNumber(u.records) },
                  ]} />
                )}
              </div>}
              {recentPayments && <div>
                <h2>Recent payments</h2>
                {recentPayments.length === 0 ? <p className="muted">No payments yet.</p> : (
                  <Table caption="Payments" rowKey={(p) => p.id} rows={recentPayments} columns={[
                    { key: 'd', header: 'Received', render: (p) => p.receivedOn },
                    { key: 'm', header: 'Method', render: (p) => p.method.replace('_', ' ') },
                    { key: 'a', header: 'Amount', align: 'right', render: (p) => <Money minor={p.amount} currency={p.currency} /> },
                  ]} />
                )}
              </div>}
            </section>}
            {recentUsage && recentUsage.length > 0 && (
              <section className="bl-section">
                <h2>Latest usage records</h2>
                <Table caption="Latest usage" rowKey={(u) => String(u.id)} rows={recentUsage} dense columns={[
                  { key: 't', header: 'Occurred', render: (u) => <DateTime value={u.occurredAt} /> },
                  { key: 'i', header: 'Identifier', render: (u) => u.identifier },
                  { key: 'q', header: 'Quantity', align: 'right', render: (u) => formatNumber(u.quantity) },
                  { key: 'k', header: 'Idempotency key', render: (u) => <code>{u.idempotencyKey}</code> },
                ]} />
              </section>
            )}
          </>
        ) : (
          <section className="bl-section">
            <AccountForm key={a.version} account={a} readOnly={!canEdit} onSave={async (body) => {
              await billingApi.updateAccount(a.id, body);
              toast.success('Account saved');
              await load();
            }} />
          </section>
        )}
      </Tabs>
      <Dialog open={cancelling !== null} title="Cancel subscription" onClose={() => setCancelling(null)}>
        {cancelling && <CancelForm subscriptionId={cancelling} onCancel={() => setCancelling(null)} onDone={() => { setCancelling(null); toast.success('Subscription cancelled'); void load(); }} />}
      </Dialog>
      <Dialog open={changing !== null} title={changing ? `Change quantity: ${changing.productName}` : 'Change quantity'} onClose={() => setChanging(null)}>
        {changing && <QuantityForm subscription={changing} onCancel={() => setChanging(null)} onDone={() => { setChanging(null); toast.success('Quantity changed'); void load(); }} />}
      </Dialog>
      <Dialog open={subscribing} title={`Subscribe ${a.name}`} onClose={() => setSubscribing(false)}>
        {subscribing && <SubscribeForm accountId={a.id} currency={a.currency} onCancel={() => setSubscribing(false)} onDone={() => { setSubscribing(false); void load(); }} />}
      </Dialog>
    </div>
  );
}
