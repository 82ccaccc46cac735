// Setup › Users & Accounts › Role Groups: list; the SCIM Default and core groups are marked.
import { Link } from 'react-router';
import { roleGroupsApi } from '../../api/identity.ts';
import type { RoleGroup } from '../../api/types.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, Banner, ButtonLink, EmptyState, FilterBar, PageHeader, Pager, Spinner, Table, useList, useListParams, type Column } from '../../ui/index.ts';

const columns: Column<RoleGroup>[] = [
  { key: 'name', header: 'Role group', sortValue: (g) => g.name, render: (g) => <Link to={`/setup/role-groups/${encodeURIComponent(g.id)}`}>{g.name}</Link> },
  {
    key: 'kind',
    header: 'Kind',
    sortValue: (g) => (g.isCore ? 0 : g.pushedGroup ? 1 : 2),
    render: (g) => (g.isCore ? <Badge>Core</Badge> : g.pushedGroup ? <Badge tone="accent">SCIM · {g.pushedGroup.name}</Badge> : <span className="muted">Custom</span>),
  },
  { key: 'scimDefault', header: 'SCIM Default', sortValue: (g) => (g.isScimDefault ? 0 : 1), render: (g) => (g.isScimDefault ? <Badge tone="green">SCIM Default</Badge> : null) },
  { key: 'roleCount', header: 'Roles', align: 'right', sortValue: (g) => g.roleCount, render: (g) => g.roleCount },
];

export default function RoleGroupsScreen() {
  const canEdit = useCanEdit('role-groups');
  const list = useListParams(['q']);
  const { page, loading, error } = useList((q, signal) => roleGroupsApi.list(q, signal), { q: list.filters.q, cursor: list.cursor, limit: 50 });
  return (
    <div className="page">
      <PageHeader title="Role Groups" breadcrumb={screenCrumbs('role-groups')} actions={canEdit ? <ButtonLink variant="primary" to="/setup/role-groups/new">New role group</ButtonLink> : undefined} />
      <FilterBar list={list} placeholder="Role group name" />
      {error && <Banner>{error}</Banner>}
      {!page && loading ? (
        <Spinner />
      ) : page && page.items.length === 0 ? (
        <EmptyState title={list.filters.q ? 'No role group matches this search.' : 'There are no role groups yet.'} action={canEdit ? <ButtonLink variant="primary" to="/setup/role-groups/new">New role group</ButtonLink> : undefined}>
          A role group sets a level for every screen; attach it to roles.
        </EmptyState>
      ) : page ? (
        <>
          <Table columns={columns} rows={page.items} rowKey={(g) => g.id} sort={list.sort} onSort={list.setSort} caption="Role groups" />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
    </div>
  );
}
