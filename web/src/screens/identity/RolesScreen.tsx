// Setup › Users & Accounts › Roles: each role, its role groups and how many users have it.
import { Link } from 'react-router';
import { rolesApi } from '../../api/identity.ts';
import type { Role } from '../../api/types.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, Banner, ButtonLink, EmptyState, FilterBar, PageHeader, Pager, Spinner, Table, useList, useListParams, type Column } from '../../ui/index.ts';

const columns: Column<Role>[] = [
  { key: 'name', header: 'Role', sortValue: (r) => r.name, render: (r) => <Link to={`/setup/roles/${encodeURIComponent(r.id)}`}>{r.name}</Link> },
  {
    key: 'kind',
    header: 'Kind',
    sortValue: (r) => (r.isCore ? 0 : r.isScim ? 1 : 2),
    render: (r) => (r.isCore ? <Badge>Core</Badge> : r.isScim ? <Badge tone="accent" title={r.pushedGroup ? `Pushed group ${r.pushedGroup.name}` : undefined}>SCIM role</Badge> : <span className="muted">Custom</span>),
  },
  { key: 'roleGroups', header: 'Role groups', render: (r) => r.roleGroups.map((g) => g.name).join(', ') || <span className="muted">—</span> },
  { key: 'userCount', header: 'Users', align: 'right', sortValue: (r) => r.userCount, render: (r) => r.userCount },
];

export default function RolesScreen() {
  const canEdit = useCanEdit('roles');
  const list = useListParams(['q']);
  const { page, loading, error } = useList((q, signal) => rolesApi.list(q, signal), { q: list.filters.q, cursor: list.cursor, limit: 50 });
  return (
    <div className="page">
      <PageHeader title="Roles" breadcrumb={screenCrumbs('roles')} actions={canEdit ? <ButtonLink variant="primary" to="/setup/roles/new">New role</ButtonLink> : undefined} />
      <FilterBar list={list} placeholder="Role name" />
      {error && <Banner>{error}</Banner>}
      {!page && loading ? (
        <Spinner />
      ) : page && page.items.length === 0 ? (
        <EmptyState title={list.filters.q ? 'No role matches this search.' : 'There are no roles yet.'} action={canEdit ? <ButtonLink variant="primary" to="/setup/roles/new">New role</ButtonLink> : undefined}>
          A role bundles role groups; give each user one role.
        </EmptyState>
      ) : page ? (
        <>
          <Table columns={columns} rows={page.items} rowKey={(r) => r.id} sort={list.sort} onSort={list.setSort} caption="Roles" />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
    </div>
  );
}
