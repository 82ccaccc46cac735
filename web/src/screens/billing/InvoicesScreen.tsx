// Invoices: list and filter; run bills for a period (one account or all) and watch the progress.
import { useEffect, useRef, useState } from 'react';
import { Link } from 'react-router';
import { errorText } from '../../api/client.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Banner, Button, Dialog, EmptyState, FilterBar, FilterSelect, Form, FormActions, FormError, Money, PageHeader, Pager, Spinner, Table, TextField, useFormState, useList, useListParams, type Column } from '../../ui/index.ts';
import { billingApi, monthStart, nextMonth, prevMonth, today, type BillRun, type InvoiceSummary } from './billing.api.ts';
import { InvoiceStatus, ProgressBar } from './parts.tsx';

const FILTERS = ['q', 'status', 'overdue'];
const columns: Column<InvoiceSummary>[] = [
  { key: 'number', header: 'Invoice', sortValue: (i) => i.number ?? '', render: (i) => <Link to={`/invoices/${i.id}`}>{i.number ?? 'Draft'}</Link> },
  { key: 'account', header: 'Account', sortValue: (i) => i.accountName ?? '', render: (i) => <Link to={`/accounts/${i.accountId}`}>{i.accountNumber} {i.accountName}</Link> },
  { key: 'period', header: 'Period', sortValue: (i) => i.periodStart, render: (i) => `${i.periodStart} – ${i.periodEnd}` },
  { key: 'due', header: 'Due', sortValue: (i) => i.dueDate ?? '', render: (i) => i.dueDate ?? <span className="muted">—</span> },
  { key: 'status', header: 'Status', sortValue: (i) => i.status, render: (i) => <InvoiceStatus status={i.status} overdue={i.status === 'finalized' && !!i.dueDate && i.dueDate < today()} /> },
  { key: 'total', header: 'Total', align: 'right', sortValue: (i) => i.total, render: (i) => <Money minor={i.total} currency={i.currency} /> },
  { key: 'dueAmt', header: 'Amount due', align: 'right', sortValue: (i) => i.amountDue, render: (i) => <Money minor={i.amountDue} currency={i.currency} /> },
];

/** A run that stopped with accounts still pending (server stopped, error, or a node that died: no heartbeat for 2 minutes). */
export function canResume(run: BillRun, now = Date.now()): boolean {
  if (run.pending === 0 || run.status === 'completed') return false;
  if (run.status === 'interrupted' || run.status === 'failed') return true;
  return run.status === 'running' && !!run.heartbeatAt && now - Date.parse(run.heartbeatAt) > 120_000;
}

function RunProgress({ runId, onDone, canEdit }: { runId: string; onDone: () => void; canEdit: boolean }) {
  const [run, setRun] = useState<BillRun | null>(null);
  const [generation, setGeneration] = useState(0);
  const [resuming, setResuming] = useState(false);
  const [resumeError, setResumeError] = useState<string | null>(null);
  const done = useRef(false);
  useEffect(() => {
    let stop = false;
    done.current = false;
    const poll = async () => {
      while (!stop) {
        try {
          const r = await billingApi.billRun(runId);
          setRun(r);
          if (r.status !== 'running') {
            if (!done.current) onDone();
            done.current = true;
            return;
          }
        } catch {
          /* keep polling */
        }
        await new Promise((res) => setTimeout(res, 700));
      }
    };
    void poll();
    return () => {
      stop = true;
    };
  }, [runId, generation]);
  const resume = async () => {
    setResuming(true);
    setResumeError(null);
    try {
      setRun(await billingApi.resumeBillRun(runId));
      setGeneration((g) => g + 1);
    } catch (e) {
      setResumeError(errorText(e));
    } finally {
      setResuming(false);
    }
  };
  if (!run) return <Spinner label="Starting the bill run…" />;
  const stopped = canResume(run);
  return (
    <div className="bl-section stack" aria-live="polite">
      <strong>Bill run {run.periodStart} to {run.periodEnd}: {stopped && run.status === 'running' ? 'stopped (no progress for over 2 minutes)' : run.status}</strong>
      <ProgressBar value={run.progress} label="Bill run progress" />
      <span>{run.billed} invoiced · {run.skipped} skipped · {run.failed} failed · {run.pending} to go (of {run.totalAccounts} accounts)</span>
      {run.error && <Banner>{run.error}</Banner>}
      {resumeError && <Banner>{resumeError}</Banner>}
      {stopped && canEdit && (
        <div>
          <Button variant="primary" disabled={resuming} onClick={() => void resume()}>{resuming ? 'Resuming…' : 'Resume'}</Button>{' '}
          <span className="muted">Bills the {run.pending} remaining account{run.pending === 1 ? '' : 's'}; accounts already done are not billed again.</span>
        </div>
      )}
    </div>
  );
}

function RunBillsForm({ onStarted, onCancel }: { onStarted: (run: BillRun) => void; onCancel: () => void }) {
  const form = useFormState();
  const last = prevMonth(monthStart());
  const [periodStart, setStart] = useState(last);
  const [periodEnd, setEnd] = useState(nextMonth(last));
  return (
    <Form onSubmit={() => void form.submit(async () => onStarted(await billingApi.startBillRun({ periodStart, periodEnd })))}>
      <FormError error={form.error} />
      <p>Drafts an invoice for every open account for the period. An account already invoiced for this period is skipped, so running it again is safe.</p>
      <TextField label="Period start" type="date" value={periodStart} onChange={setStart} error={form.fields.periodStart} />
      <TextField label="Period end (exclusive)" type="date" value={periodEnd} onChange={setEnd} error={form.fields.periodEnd} />
      <FormActions busy={form.busy} onCancel={onCancel} saveLabel="Run bills" />
    </Form>
  );
}

export default function InvoicesScreen() {
  const canEdit = useCanEdit('invoices');
  const list = useListParams(FILTERS);
  const [running, setRunning] = useState(false);
  const [runId, setRunId] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  const { page, loading, error, reload } = useList((q, signal) => billingApi.invoices({ ...q, overdue: q.overdue ? 'true' : undefined }, signal), { ...list.filters, cursor: list.cursor, limit: 50 });
  useEffect(() => {
    // Show a run that is still going, or stopped with accounts left (to resume), when the screen opens.
    billingApi.billRuns({ limit: 1 }).then((p) => {
      const last = p.items[0];
      if (last && (last.status === 'running' || canResume(last))) setRunId(last.id);
    }, (e) => setErr(errorText(e)));
  }, []);
  return (
    <div className="page">
      <PageHeader title="Invoices" breadcrumb={screenCrumbs('invoices')} actions={canEdit ? <Button variant="primary" onClick={() => setRunning(true)}>Run bills</Button> : undefined} />
      {runId && <RunProgress runId={runId} onDone={reload} canEdit={canEdit} />}
      <FilterBar list={list} placeholder="Invoice number, account number or name">
        <FilterSelect list={list} name="status" label="Status" options={[{ value: 'draft', label: 'Draft' }, { value: 'finalized', label: 'Open' }, { value: 'paid', label: 'Paid' }, { value: 'void', label: 'Void' }]} />
        <FilterSelect list={list} name="overdue" label="Overdue" options={[{ value: 'true', label: 'Overdue only' }]} />
      </FilterBar>
      {(error || err) && <Banner>{error ?? err}</Banner>}
      {!page && loading ? <Spinner /> : page && page.items.length === 0 ? (
        <EmptyState title="No invoices match.">Run bills for a period to draft invoices.</EmptyState>
      ) : page ? (
        <>
          <Table columns={columns} rows={page.items} rowKey={(i) => i.id} sort={list.sort} onSort={list.setSort} caption="Invoices" />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
      <Dialog open={running} title="Run bills" onClose={() => setRunning(false)}>
        {running && <RunBillsForm onCancel={() => setRunning(false)} onStarted={(r) => { setRunning(false); setRunId(r.id); }} />}
      </Dialog>
    </div>
  );
}
