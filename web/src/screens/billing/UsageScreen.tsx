// Usage: records (filter by account, identifier, period), CSV upload with a progress bar and a
// per-row error report, and the history of uploads.
import { useEffect, useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { errorText } from '../../api/client.ts';
import { useCanEdit, useSession } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Banner, Button, DateTime, EmptyState, FilterBar, ListResults, PageHeader, Pager, Spinner, Table, Tabs, TextField, formatNumber, useList, useListParams } from '../../ui/index.ts';
import { billingApi, uploadUsageCsv, type UploadResult } from './billing.api.ts';
import { ProgressBar } from './parts.tsx';

function Records() {
  const list = useListParams(['q', 'accountId', 'identifier', 'from', 'to']);
  const f = list.filters;
  const data = useList((q, signal) => billingApi.usage(q, signal), { ...f, cursor: list.cursor, limit: 100 });
  const { page, loading, fieldError } = data;
  // What is typed, applied with Apply. When the URL changes under the fields (back/forward, a link
  // to the screen), they show what it holds, as the list does; they kept what was last typed.
  const [identifier, setIdentifier] = useState(f.identifier);
  const [from, setFrom] = useState(f.from);
  const [to, setTo] = useState(f.to);
  useEffect(() => {
    setIdentifier(f.identifier);
    setFrom(f.from);
    setTo(f.to);
  }, [f.identifier, f.from, f.to]);
  // The server's word on the dates goes under their fields while they hold what it was said of
  // (fieldError); while one is wrong, ListResults shows no records, as they are not for those dates.
  return (
    <>
      <FilterBar list={list} placeholder="Account number or idempotency key" />
      <div className="row row-fields">
        <TextField label="Identifier" value={identifier} onChange={setIdentifier} />
        <TextField label="From" type="date" value={from} onChange={setFrom} error={fieldError('from', from)} />
        <TextField label="To (exclusive)" type="date" value={to} onChange={setTo} error={fieldError('to', to)} />
        <Button onClick={() => list.setFilters({ identifier, from, to }, { step: true })}>Apply</Button>
      </div>
      <ListResults data={data} what="usage records">
        {!page && loading ? <Spinner /> : page && page.items.length === 0 ? <EmptyState title="No usage records match." /> : page ? (
          <>
            <Table caption="Usage records" rowKey={(u) => String(u.id)} rows={page.items} dense columns={[
              { key: 'at', header: 'Occurred', render: (u) => <DateTime value={u.occurredAt} /> },
              { key: 'acct', header: 'Account', render: (u) => <Link to={`/accounts/${u.accountId}`}>{u.accountNumber} {u.accountName}</Link> },
              { key: 'id', header: 'Identifier', render: (u) => u.identifier },
              { key: 'q', header: 'Quantity', align: 'right', render: (u) => formatNumber(u.quantity) },
              { key: 'k', header: 'Idempotency key', render: (u) => <code>{u.idempotencyKey}</code> },
            ]} />
            <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
          </>
        ) : null}
      </ListResults>
    </>
  );
}

function UploadReport({ result }: { result: UploadResult }) {
  return (
    <section className="bl-section" aria-label="Upload result">
      <Banner tone={result.rejected ? 'warning' : 'success'}>
        {result.fileName}: {formatNumber(result.totalRows)} rows — {formatNumber(result.accepted)} accepted, {formatNumber(result.duplicates)} duplicates ignored, {formatNumber(result.rejected)} rejected.
      </Banner>
      {result.errors.length > 0 && (
        <Table caption="Rejected rows" rowKey={(e) => String(e.line)} rows={result.errors} dense columns={[
          { key: 'line', header: 'Line', align: 'right', render: (e) => e.line },
          { key: 'msg', header: 'Problem', render: (e) => e.message },
          { key: 'raw', header: 'Row as sent', render: (e) => <code>{e.raw}</code> },
        ]} />
      )}
    </section>
  );
}

function Upload() {
  const { me } = useSession();
  const [file, setFile] = useState<File | null>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [result, setResult] = useState<UploadResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const go = async () => {
    if (!file) return;
    setError(null);
    setResult(null);
    setProgress(0);
    try {
      setResult(await uploadUsageCsv(file, me.csrfToken, setProgress));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setProgress(null);
    }
  };
  return (
    <section className="bl-section">
      <p>CSV with a header row: <code>account_number,identifier,quantity,occurred_at,idempotency_key</code> (the key is optional; without it a row's content is its key, so uploading the same file twice counts nothing twice). Good rows are kept; every bad row is listed with its line number.</p>
      <div className="row">
        <label className="field-label" htmlFor="usage-file">CSV file</label>
        <input id="usage-file" type="file" accept=".csv,text/csv" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />
        <Button variant="primary" disabled={!file || progress !== null} busy={progress !== null} onClick={() => void go()}>Upload</Button>
      </div>
      {progress !== null && (
        <div className="stack">
          <ProgressBar value={progress} label="Upload progress" />
          <span className="muted">{progress < 1 ? `Sending… ${Math.round(progress * 100)}%` : 'Checking rows…'}</span>
        </div>
      )}
      {error && <Banner>{error}</Banner>}
      {result && <UploadReport result={result} />}
    </section>
  );
}

function Uploads() {
  const list = useListParams([]);
  const [open, setOpen] = useState<UploadResult | null>(null);
  const { page, loading, error } = useList((q, signal) => billingApi.uploads(q, signal), { cursor: list.cursor, limit: 50 });
  return (
    <>
      {error && <Banner>{error}</Banner>}
      {!page && loading ? <Spinner /> : page && page.items.length === 0 ? <EmptyState title="No uploads yet." /> : page ? (
        <>
          <Table caption="Uploads" rowKey={(u) => u.id} rows={page.items} columns={[
            { key: 'at', header: 'Uploaded', render: (u) => <DateTime value={u.createdAt} /> },
            { key: 'f', header: 'File', render: (u) => u.fileName },
            { key: 'by', header: 'By', render: (u) => u.createdBy },
            { key: 'a', header: 'Accepted', align: 'right', render: (u) => formatNumber(u.accepted) },
            { key: 'd', header: 'Duplicates', align: 'right', render: (u) => formatNumber(u.duplicates) },
            { key: 'r', header: 'Rejected', align: 'right', render: (u) => (u.rejected ? <Button small onClick={() => void billingApi.upload(u.id).then(setOpen)}>{formatNumber(u.rejected)} — show</Button> : '0') },
          ]} />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
      {open && <UploadReport result={open} />}
    </>
  );
}

export default function UsageScreen() {
  const canEdit = useCanEdit('usage');
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') ?? 'records';
  const setTab = (t: string) => setParams(t === 'records' ? {} : { tab: t });
  useEffect(() => {
    if (tab === 'upload' && !canEdit) setParams({});
  }, [tab, canEdit]);
  const tabs = [{ key: 'records', label: 'Records' }, ...(canEdit ? [{ key: 'upload', label: 'Upload CSV' }] : []), { key: 'uploads', label: 'Uploads' }];
  return (
    <div className="page">
      <PageHeader title="Usage" breadcrumb={screenCrumbs('usage')} />
      <Tabs label="Usage sections" value={tab} onChange={setTab} tabs={tabs}>
        {tab === 'upload' ? <Upload /> : tab === 'uploads' ? <Uploads /> : <Records />}
      </Tabs>
    </div>
  );
}
