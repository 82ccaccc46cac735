// Setup › Users & Accounts › Users: search, status/source filters, cursor paging.
import { Link } from 'react-router';
import { usersApi } from '../../api/identity.ts';
import type { UserSummary } from '../../api/types.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, Banner, ButtonLink, DateTime, EmptyState, FilterBar, FilterSelect, PageHeader, Pager, Spinner, Table, useList, useListParams, type Column } from '../../ui/index.ts';
import { SOURCE_LABEL, SOURCE_OPTIONS, STATUS_LABEL, STATUS_OPTIONS, STATUS_TONE, pushedGroupsNote, scimRoleNames } from './labels.ts';

const FILTERS = ['q', 'status', 'source'];

const columns: Column<UserSummary>[] = [
  {
    key: 'userName',
    header: 'User name',
    sortValue: (u) => u.userName,
    render: (u) => <Link to={`/setup/users/${encodeURIComponent(u.id)}`}>{u.userName}</Link>,
  },
  { key: 'displayName', header: 'Name', sortValue: (u) => u.displayName ?? '', render: (u) => u.displayName || <span className="muted">—</span> },
  { key: 'email', header: 'Email', sortValue: (u) => u.email ?? '', render: (u) => u.email || <span className="muted">—</span> },
  {
    key: 'role',
    header: 'Role',
    sortValue: (u) => (u.source === 'idp' && u.pushedGroups.length > 0 ? scimRoleNames(u.pushedGroups) : (u.role?.name ?? '')),
    // SCIM roles as the Roles screen shows them: their own names and a "SCIM role" badge.
    render: (u) =>
      u.source === 'idp' && u.pushedGroups.length > 0 ? (
        <span title={pushedGroupsNote(u.pushedGroups)}>
          {scimRoleNames(u.pushedGroups)} <Badge tone="accent">{u.pushedGroups.length === 1 ? 'SCIM role' : 'SCIM roles'}</Badge>
        </span>
      ) : (
        u.role?.name ?? <span className="muted">{u.source === 'idp' ? 'SCIM Default' : '—'}</span>
      ),
  },
  { key: 'source', header: 'Source', sortValue: (u) => u.source, render: (u) => SOURCE_LABEL[u.source] ?? u.source },
  { key: 'status', header: 'Status', sortValue: (u) => u.status, render: (u) => <Badge tone={STATUS_TONE[u.status]}>{STATUS_LABEL[u.status] ?? u.status}</Badge> },
  { key: 'updatedAt', header: 'Last changed', sortValue: (u) => u.updatedAt, render: (u) => <DateTime value={u.updatedAt} /> },
];

export default function UsersScreen() {
  const canEdit = useCanEdit('users');
  const list = useListParams(FILTERS);
  const { page, loading, error } = useList((q, signal) => usersApi.list(q, signal), { ...list.filters, cursor: list.cursor, limit: 50 });
  const filtered = FILTERS.some((k) => list.filters[k]);
  return (
    <div className="page">
      <PageHeader title="Users" breadcrumb={screenCrumbs('users')} actions={canEdit ? <ButtonLink to="/setup/users/new" variant="primary">New user</ButtonLink> : undefined} />
      <FilterBar list={list} placeholder="User name, name or email">
        <FilterSelect list={list} name="status" label="Status" options={STATUS_OPTIONS} />
        <FilterSelect list={list} name="source" label="Source" options={SOURCE_OPTIONS} />
      </FilterBar>
      {error && <Banner>{error}</Banner>}
      {!page && loading ? (
        <Spinner />
      ) : page && page.items.length === 0 ? (
        <EmptyState
          title={filtered ? 'No user matches these filters.' : 'There are no users yet.'}
          action={filtered ? <ButtonLink to="/setup/users">Clear filters</ButtonLink> : canEdit ? <ButtonLink to="/setup/users/new" variant="primary">New user</ButtonLink> : undefined}
        >
          {filtered ? 'Try another search or clear the filters.' : 'Create a local user, or connect your identity provider under SAML Settings so it provisions them.'}
        </EmptyState>
      ) : page ? (
        <>
          <Table columns={columns} rows={page.items} rowKey={(u) => u.id} sort={list.sort} onSort={list.setSort} caption="Users" />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
    </div>
  );
}
