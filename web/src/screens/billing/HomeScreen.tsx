// Home: the few figures a billing lead checks each morning, each a link into the screen behind it.
import { useEffect, useState } from 'react';
import { errorText } from '../../api/client.ts';
import { useSession } from '../../auth/session.tsx';
import { Banner, PageHeader, Spinner } from '../../ui/index.ts';
import { billingApi, type Home } from './billing.api.ts';
import { FigureCard, money } from './parts.tsx';

const amounts = (rows: { currency: string; amount: number }[]) => (rows.length ? rows.map((r) => money(r.amount, r.currency)).join(' · ') : money(0, 'USD'));

export default function HomeScreen() {
  const { canRead } = useSession();
  const [home, setHome] = useState<Home | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    billingApi.home().then(setHome, (e) => setError(errorText(e)));
  }, []);
  const link = (screen: Parameters<typeof canRead>[0], to: string) => (canRead(screen) ? to : undefined);
  return (
    <div className="page">
      <PageHeader title="Home" />
      {error && <Banner>{error}</Banner>}
      {!home && !error && <Spinner />}
      {home && (
        <>
          <div className="bl-cards">
            <FigureCard label="Open receivables" value={amounts(home.openReceivables)} note={`${home.openReceivables.reduce((s, r) => s + r.count, 0)} open invoices`} to={link('invoices', '/invoices?status=finalized')} />
            <FigureCard label="Invoices this month" value={home.invoicesThisMonth.count} note={amounts(home.invoicesThisMonth.byCurrency)} to={link('invoices', '/invoices')} />
            <FigureCard label="Overdue" value={home.overdue.count} note={home.overdue.count ? amounts(home.overdue.byCurrency) : 'Nothing overdue'} to={link('reports', '/reports')} />
            <FigureCard label="Failed usage rows" value={home.failedUsageRows.rows} note={`in ${home.failedUsageRows.uploads} upload${home.failedUsageRows.uploads === 1 ? '' : 's'} since ${home.failedUsageRows.since}`} to={link('usage', '/usage?tab=uploads')} />
            <FigureCard label="Draft invoices" value={home.draftInvoices} note="waiting to be finalized" to={link('invoices', '/invoices?status=draft')} />
          </div>
          {home.runningBillRuns.length > 0 && (
            <Banner tone="info">
              Bill run in progress for {home.runningBillRuns[0].periodStart} to {home.runningBillRuns[0].periodEnd}: {home.runningBillRuns[0].billed} of {home.runningBillRuns[0].totalAccounts} accounts invoiced.
            </Banner>
          )}
        </>
      )}
    </div>
  );
}
