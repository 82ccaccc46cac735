// Reports: receivables aging (current / 1–30 / 31–60 / 61–90 / 90+), revenue by month (invoiced and
// collected) and usage by product, each as an SVG chart with a table beside it and a CSV export.
import { useEffect, useState } from 'react';
import { Link } from 'react-router';
import { errorText } from '../../api/client.ts';
import { screenCrumbs } from '../../shell/nav.ts';
import { Banner, EmptyState, PageHeader, Spinner, Table, Tabs, formatMoney, formatNumber } from '../../ui/index.ts';
import { billingApi, type Aging, type Revenue, type UsageReport } from './billing.api.ts';
import { BarChart, StackedBars, fmtInt } from './parts.tsx';

const compact = (minor: number, currency: string) => formatMoney(minor, currency).replace(/\.\d+ /, ' ');

function Export({ href, label }: { href: string; label: string }) {
  return <a className="btn btn-secondary btn-small" href={href} download>{label}</a>;
}

function AgingReport() {
  const [r, setR] = useState<Aging | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => void billingApi.aging().then(setR, (e) => setError(errorText(e))), []);
  if (error) return <Banner>{error}</Banner>;
  if (!r) return <Spinner />;
  return (
    <section className="bl-section" aria-label="Aging">
      <div className="section-head"><h2>Accounts receivable aging, as of {r.asOf}</h2><Export href={billingApi.csvUrl('aging')} label="Export CSV" /></div>
      {r.items.length === 0 ? <EmptyState title="Nothing is owed.">Every finalized invoice is paid.</EmptyState> : (
        <>
          {r.totals.map((t) => (
            <StackedBars key={t.currency} title={`Aging by account in ${t.currency}`} segments={r.buckets.map((b) => b.label)} format={(v) => compact(v, t.currency)}
              rows={r.items.filter((i) => i.currency === t.currency).slice(0, 15).map((i) => ({ label: `${i.accountNumber} ${i.accountName}`.slice(0, 28), values: r.buckets.map((b) => i[b.key]) }))} />
          ))}
          <Table caption="Aging" rowKey={(i) => i.accountId + i.currency} rows={r.items} columns={[
            { key: 'a', header: 'Account', render: (i) => <Link to={`/accounts/${i.accountId}`}>{i.accountNumber} {i.accountName}</Link> },
            ...r.buckets.map((b) => ({ key: b.key, header: b.label, align: 'right' as const, render: (i: Aging['items'][number]) => formatMoney(i[b.key], i.currency) })),
            { key: 't', header: 'Total', align: 'right', render: (i) => <strong>{formatMoney(i.total, i.currency)}</strong> },
          ]} />
          {r.totals.map((t) => <p key={t.currency}><strong>Total {t.currency}:</strong> {formatMoney(t.total, t.currency)} ({r.buckets.map((b) => `${b.label} ${formatMoney(t[b.key], t.currency)}`).join(' · ')})</p>)}
        </>
      )}
    </section>
  );
}

function RevenueReport() {
  const [r, setR] = useState<Revenue | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => void billingApi.revenue({ months: 12 }).then(setR, (e) => setError(errorText(e))), []);
  if (error) return <Banner>{error}</Banner>;
  if (!r) return <Spinner />;
  return (
    <section className="bl-section" aria-label="Revenue">
      <div className="section-head"><h2>Revenue by month</h2><Export href={billingApi.csvUrl('revenue', { months: 12 })} label="Export CSV" /></div>
      {r.series.length === 0 ? <EmptyState title="No invoices or payments in the last 12 months." /> : r.series.map((s) => (
        <div key={s.currency}>
          <h3>{s.currency}</h3>
          <BarChart title={`Invoiced and collected per month in ${s.currency}`} categories={s.months.map((m) => m.month.slice(2))} series={[{ name: 'Invoiced', values: s.months.map((m) => m.invoiced) }, { name: 'Collected', values: s.months.map((m) => m.collected) }]} format={(v) => compact(v, s.currency)} />
          <Table caption={`Revenue ${s.currency}`} rowKey={(m) => m.month} rows={s.months} dense columns={[
            { key: 'm', header: 'Month', render: (m) => m.month },
            { key: 'n', header: 'Invoices', align: 'right', render: (m) => formatNumber(m.invoices) },
            { key: 'i', header: 'Invoiced', align: 'right', render: (m) => formatMoney(m.invoiced, s.currency) },
            { key: 't', header: 'of which tax', align: 'right', render: (m) => formatMoney(m.tax, s.currency) },
            { key: 'c', header: 'Collected', align: 'right', render: (m) => formatMoney(m.collected, s.currency) },
          ]} />
        </div>
      ))}
    </section>
  );
}

function UsageByProduct() {
  const [r, setR] = useState<UsageReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => void billingApi.usageReport({ months: 6 }).then(setR, (e) => setError(errorText(e))), []);
  if (error) return <Banner>{error}</Banner>;
  if (!r) return <Spinner />;
  return (
    <section className="bl-section" aria-label="Usage by product">
      <div className="section-head"><h2>Usage by product</h2><Export href={billingApi.csvUrl('usage', { months: 6 })} label="Export CSV" /></div>
      {r.products.length === 0 ? <EmptyState title="No usage in the last 6 months." /> : (
        <>
          <BarChart title="Usage quantity per month by product" categories={r.products[0].months.map((m) => m.month.slice(2))} series={r.products.slice(0, 5).map((p) => ({ name: `${p.productName} (${p.identifier})`, values: p.months.map((m) => m.quantity) }))} format={fmtInt} />
          <Table caption="Usage by product" rowKey={(p) => p.identifier} rows={r.products} dense columns={[
            { key: 'p', header: 'Product', render: (p) => `${p.productName} (${p.identifier})` },
            ...r.products[0].months.map((mm, idx) => ({ key: mm.month, header: mm.month, align: 'right' as const, render: (p: UsageReport['products'][number]) => formatNumber(p.months[idx].quantity) })),
          ]} />
        </>
      )}
    </section>
  );
}

export default function ReportsScreen() {
  const [tab, setTab] = useState('aging');
  return (
    <div className="page">
      <PageHeader title="Reports" breadcrumb={screenCrumbs('reports')} />
      <Tabs label="Reports" value={tab} onChange={setTab} tabs={[{ key: 'aging', label: 'Aging' }, { key: 'revenue', label: 'Revenue' }, { key: 'usage', label: 'Usage by product' }]}>
        {tab === 'aging' ? <AgingReport /> : tab === 'revenue' ? <RevenueReport /> : <UsageByProduct />}
      </Tabs>
    </div>
  );
}
