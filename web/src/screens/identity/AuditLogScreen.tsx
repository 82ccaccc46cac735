// Operations › Audit Log: who changed what, from where; filterable, paged, details expandable.
import type { AuditEntry } from '../../api/types.ts';
import { auditApi } from '../../api/identity.ts';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, DateTime, EmptyState, FieldErrors, FilterBar, FilterDate, FilterSelect, ListResults, PageHeader, Pager, Spinner, Table, dayEnd, dayRangeErrors, dayStart, useDisplayPreferences, useExpanded, useList, useListParams, type Column } from '../../ui/index.ts';

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

/**
 * One page for the filters in the URL. Days that are not days, or a from after to, are refused here
 * with the API's words, before anything is sent: converted as they were, 2026-02-31 became 3 March
 * and zzz no filter at all, while the field showed nothing and the list looked filtered.
 * The days are the user's, as the times listed are: from the first millisecond of from to the last
 * of to in the user's time zone, sent as the times the API compares (a day sent as a day would be
 * UTC's; converted with Date, it was the browser's).
 */
function loadAudit({ preferences: _, ...q }: Record<string, string | number | null>, signal: AbortSignal) {
  const from = String(q.from ?? '');
  const to = String(q.to ?? '');
  const problems = dayRangeErrors(from, to);
  if (Object.keys(problems).length) return Promise.reject(new FieldErrors(problems));
  return auditApi.list({ ...q, from: from ? dayStart(from).toISOString() : null, to: to ? dayEnd(to).toISOString() : null }, signal);
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
  // The user's zone is part of the query: a day is the user's, so a change of zone (on another tab)
  // asks again for the new zone's days.
  const preferences = useDisplayPreferences();
  const data = useList(loadAudit, {
    preferences,
    q: f.q,
    source: f.source,
    action: f.action,
    from: f.from || null,
    to: f.to || null,
    cursor: list.cursor,
    limit: 50,
  });
  const { page, loading, fieldError } = data;
  const filtered = FILTERS.some((k) => f[k]);
  return (
    <div className="page">
      <PageHeader title="Audit Log" breadcrumb={screenCrumbs('audit-log')} />
      <FilterBar list={list} placeholder="Actor, target, summary or action name">
        <FilterSelect list={list} name="source" label="Source" options={SOURCES} />
        <FilterSelect list={list} name="action" label="Action" options={ACTIONS} />
        <FilterDate list={list} name="from" label="From" error={fieldError('from', f.from)} />
        <FilterDate list={list} name="to" label="to" error={fieldError('to', f.to)} />
      </FilterBar>
      <ListResults data={data} what="entries">
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
      </ListResults>
    </div>
  );
}
