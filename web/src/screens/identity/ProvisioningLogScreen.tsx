// Setup › Provisioning Log: one line per SCIM request in plain words, status colour, expandable to
// the request and response bodies (the server masks secrets before storing them).
import type { ProvisioningEntry } from '../../api/types.ts';
import { provisioningApi } from '../../api/identity.ts';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, Banner, Button, DateTime, EmptyState, FilterBar, FilterSelect, PageHeader, Pager, Spinner, Table, useExpanded, useList, useListParams, type Column } from '../../ui/index.ts';

const STATUS = [
  { value: 'success', label: 'Succeeded' },
  { value: 'error', label: 'Failed' },
];
const RESOURCES = [
  { value: 'User', label: 'Users' },
  { value: 'Group', label: 'Groups' },
];
const FILTERS = ['q', 'status', 'resource'];

function statusClass(s: number): string {
  if (s >= 500) return 'status-5xx';
  if (s >= 400) return 'status-4xx';
  return 'status-2xx';
}

function Body({ label, value }: { label: string; value: unknown }) {
  if (value === null || value === undefined || value === '') return null;
  let text: string;
  if (typeof value === 'string') {
    try {
      text = JSON.stringify(JSON.parse(value), null, 2);
    } catch {
      text = value;
    }
  } else text = JSON.stringify(value, null, 2);
  return (
    <div>
      <h3>{label}</h3>
      <pre className="code-block">{text}</pre>
    </div>
  );
}

/**
 * What the error adds to the summary. A failed request's summary already ends with the SCIM error's
 * detail, and its error is "scimType: detail": printing both said the detail twice. Rows logged with
 * other wording keep their whole error.
 */
function errorBesideSummary(summary: string, error: string | null): string | null {
  if (!error || summary.includes(error)) return null;
  const typed = /^([A-Za-z]+): ([\s\S]+)$/.exec(error);
  if (typed && summary.includes(typed[2])) return typed[1];
  return error;
}

function Summary({ e }: { e: ProvisioningEntry }) {
  const extra = errorBesideSummary(e.summary, e.error);
  return extra ? (
    <span>
      {e.summary} <span className="status-4xx">— {extra}</span>
    </span>
  ) : (
    <>{e.summary}</>
  );
}

const columns: Column<ProvisioningEntry>[] = [
  { key: 'at', header: 'Time', width: '168px', sortValue: (e) => e.at, render: (e) => <DateTime value={e.at} seconds /> },
  { key: 'status', header: 'Status', align: 'right', width: '72px', sortValue: (e) => e.status, render: (e) => <span className={statusClass(e.status)}>{e.status}</span> },
  { key: 'summary', header: 'What happened', render: (e) => <Summary e={e} /> },
  { key: 'resource', header: 'Resource', sortValue: (e) => e.userName ?? e.resourceType ?? '', render: (e) => e.userName || e.resourceType || <span className="muted">—</span> },
  { key: 'client', header: 'Client', sortValue: (e) => e.client ?? '', render: (e) => (e.client ? <Badge>{e.client}</Badge> : <span className="muted">—</span>) },
  { key: 'duration', header: 'Time taken', align: 'right', sortValue: (e) => e.durationMs, render: (e) => `${e.durationMs} ms` },
];

function Details({ e }: { e: ProvisioningEntry }) {
  return (
    <div className="stack">
      <div>
        <code>
          {e.method} {e.path}
        </code>{' '}
        → <span className={statusClass(e.status)}>{e.status}</span>
        {e.resourceId && (
          <span className="muted">
            {' '}
            · {e.resourceType} <code>{e.resourceId}</code>
          </span>
        )}
      </div>
      <div className="detail-grid">
        <Body label="Request body" value={e.requestBody} />
        <Body label="Response body" value={e.responseBody} />
      </div>
    </div>
  );
}

export default function ProvisioningLogScreen() {
  const list = useListParams(FILTERS);
  const [expanded, toggle] = useExpanded();
  const { page, loading, error, reload } = useList((q, signal) => provisioningApi.list(q, signal), { ...list.filters, cursor: list.cursor, limit: 50 });
  const filtered = FILTERS.some((k) => list.filters[k]);
  // A text search stops after about half a second (the log has no text index) and says how far back
  // it got; this goes on from there.
  const searchOlder = page?.nextCursor ? (
    <Button small onClick={() => list.next(page.nextCursor!)} busy={loading}>
      Search older requests
    </Button>
  ) : null;
  return (
    <div className="page">
      <PageHeader title="Provisioning Log" breadcrumb={screenCrumbs('provisioning-log')} />
      <FilterBar list={list} placeholder="User name, path or message">
        <FilterSelect list={list} name="status" label="Result" options={STATUS} />
        <FilterSelect list={list} name="resource" label="Resource" options={RESOURCES} />
      </FilterBar>
      {page && <p className="muted">Requests are kept for {page.retentionDays === 1 ? '1 day' : `${page.retentionDays} days`}.</p>}
      {error && <Banner>{error}</Banner>}
      {page?.stillWriting && (
        <p className="search-progress" role="status">
          The newest requests are still being stored: another server process is holding the log. They are stored once it lets go; if there are too many to keep meanwhile, the Audit Log says how many are missing.{' '}
          <Button small onClick={reload} busy={loading}>
            Refresh
          </Button>
        </p>
      )}
      {!page && loading ? (
        <Spinner />
      ) : page && page.items.length === 0 && page.searchedTo ? (
        <EmptyState title="No request matches yet." action={searchOlder}>
          Searched back to <DateTime value={page.searchedTo} seconds />; older requests are not searched yet.
        </EmptyState>
      ) : page && page.items.length === 0 ? (
        <EmptyState title={filtered ? 'No request matches these filters.' : 'No SCIM requests yet.'}>
          {filtered ? 'Clear a filter to see more.' : 'Create a SCIM access token under SAML Settings and give it to your identity provider; every request it sends appears here.'}
        </EmptyState>
      ) : page ? (
        <>
          <Table
            columns={columns}
            rows={page.items}
            rowKey={(e) => String(e.id)}
            sort={list.sort}
            onSort={list.setSort}
            renderExpanded={(e) => <Details e={e} />}
            expanded={expanded}
            onToggle={toggle}
            rowClassName={(e) => (e.status >= 400 ? 'row-failed' : undefined)}
            dense
            caption="Provisioning log"
          />
          {page.searchedTo && (
            <p className="search-progress" role="status">
              {page.items.length === 1 ? '1 match' : `${page.items.length} matches`} back to <DateTime value={page.searchedTo} seconds />; older requests are not searched yet. {searchOlder}
            </p>
          )}
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
    </div>
  );
}
