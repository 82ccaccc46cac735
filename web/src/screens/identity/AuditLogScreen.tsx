// Operations › Audit Log: who changed what, from where; filterable, paged, details expandable.
import type { AuditEntry } from '../../api/types.ts';
import { auditApi } from '../../api/identity.ts';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, Banner, DateTime, EmptyState, FilterBar, FilterSelect, PageHeader, Pager, Spinner, Table, useExpanded, useList, useListParams, type Column } from '../../ui/index.ts';

const SOURCES = ['ui', 'api', 'cli', 'scim', 'saml', 'system'].map((s) => ({ value: s, label: s.toUpperCase() }));
const ACTIONS = [
  { value: 'auth.', label: 'Sign-in and sign-out' },
  { value: 'user.', label: 'Users' },
  { value: 'role.', label: 'Roles' },
  { value: 'role_group.', label: 'Role groups' },
  { value: 'pushed_group.', label: 'Pushed groups' },
  { value: 'saml.', label: 'SAML settings' },
  { value: 'scim', label: 'SCIM tokens' },
  { value: 'account.', label: 'Accounts' },
  { value: 'product.', label: 'Products' },
  { value: 'subscription.', label: 'Subscriptions' },
  { value: 'invoice', label: 'Invoices' },
  { value: 'payment', label: 'Payments' },
];
const FILTERS = ['q', 'source', 'action', 'from', 'to'];

function dayStartIso(d: string, end = false): string | undefined {
  if (!d) return undefined;
  const t = new Date(`${d}T${end ? '23:59:59.999' : '00:00:00'}`);
  return Number.isNaN(t.getTime()) ? undefined : t.toISOString();
}

const columns: Column<AuditEntry>[] = [
  { key: 'at', header: 'Time', width: '168px', sortValue: (e) => e.at, render: (e) => <DateTime value={e.at} seconds /> },
  { key: 'actor', header: 'Actor', sortValue: (e) => e.actorName ?? '', render: (e) => e.actorName || <span className="muted">system</span> },
  { key: 'source', header: 'Source', sortValue: (e) => e.source, render: (e) => <Badge>{e.source.toUpperCase()}</Badge> },
  { key: 'action', header: 'Action', sortValue: (e) => e.action, render: (e) => <code className={e.action.endsWith('_failed') ? 'status-4xx' : undefined}>{e.action}</code> },
  { key: 'target', header: 'Target', sortValue: (e) => e.targetName ?? '', render: (e) => (e.targetName ? <span title={e.targetType ?? undefined}>{e.targetName}</span> : <span className="muted">—</span>) },
  { key: 'summary', header: 'Summary', render: (e) => e.summary },
];

function Details({ e }: { e: AuditEntry }) {
  return (
    <div className="stack">
      <dl className="kv">
        <dt>Target</dt>
        <dd>
          {e.targetType ?? '—'} {e.targetId ? <code>{e.targetId}</code> : null}
        </dd>
        {e.ip && (
          <>
            <dt>Address</dt>
            <dd>{e.ip}</dd>
          </>
        )}
        {e.requestId && (
          <>
            <dt>Request id</dt>
            <dd>
              <code>{e.requestId}</code>
            </dd>
          </>
        )}
      </dl>
      {e.details != null && <pre className="code-block">{JSON.stringify(e.details, null, 2)}</pre>}
    </div>
  );
}

export default function AuditLogScreen() {
  const list = useListParams(FILTERS);
  const [expanded, toggle] = useExpanded();
  const f = list.filters;
  const { page, loading, error } = useList((q, signal) => auditApi.list(q, signal), {
    q: f.q,
    source: f.source,
    action: f.action,
    from: dayStartIso(f.from) ?? null,
    to: dayStartIso(f.to, true) ?? null,
    cursor: list.cursor,
    limit: 50,
  });
  const filtered = FILTERS.some((k) => f[k]);
  return (
    <div className="page">
      <PageHeader title="Audit Log" breadcrumb={screenCrumbs('audit-log')} />
      <FilterBar list={list} placeholder="Actor, target or summary">
        <FilterSelect list={list} name="source" label="Source" options={SOURCES} />
        <FilterSelect list={list} name="action" label="Action" options={ACTIONS} />
        <span className="filter-select">
          <label htmlFor="audit-from">From</label>
          <input id="audit-from" type="date" className="input" value={f.from} onChange={(e) => list.setFilters({ from: e.target.value })} />
          <label htmlFor="audit-to">to</label>
          <input id="audit-to" type="date" className="input" value={f.to} onChange={(e) => list.setFilters({ to: e.target.value })} />
        </span>
      </FilterBar>
      {error && <Banner>{error}</Banner>}
      {!page && loading ? (
        <Spinner />
      ) : page && page.items.length === 0 ? (
        <EmptyState title={filtered ? 'No entry matches these filters.' : 'Nothing has been recorded yet.'}>
          {filtered ? 'Widen the dates or clear a filter.' : 'Sign-ins and every change to users, roles, role groups, settings and tokens appear here.'}
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
            dense
            caption="Audit log"
          />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
    </div>
  );
}
