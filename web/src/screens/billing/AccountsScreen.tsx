// Accounts: search by name, number or contact; status filter; create an account (Full Permission).
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { useCanEdit, useSession } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Banner, Button, Dialog, EmptyState, FilterBar, FilterSelect, Money, PageHeader, Pager, Spinner, Table, useList, useListParams, type Column } from '../../ui/index.ts';
import { AccountForm } from './AccountForm.tsx';
import { billingApi, type Account } from './billing.api.ts';
import { AccountStatus } from './parts.tsx';

const FILTERS = ['q', 'status'];
// Open balance comes from invoices: the API sends it, and the column is shown, only to those who may read Invoices.
const columns = (openBalance: boolean): Column<Account>[] => [
  { key: 'number', header: 'Number', sortValue: (a) => a.number, render: (a) => <Link to={`/accounts/${encodeURIComponent(a.id)}`}>{a.number}</Link> },
  { key: 'name', header: 'Name', sortValue: (a) => a.name, render: (a) => <Link to={`/accounts/${encodeURIComponent(a.id)}`}>{a.name}</Link> },
  { key: 'contact', header: 'Billing contact', sortValue: (a) => a.contactName ?? '', render: (a) => [a.contactName, a.contactEmail].filter(Boolean).join(' · ') || <span className="muted">—</span> },
  { key: 'currency', header: 'Currency', sortValue: (a) => a.currency, render: (a) => a.currency },
  ...(openBalance ? [{ key: 'open', header: 'Open balance', align: 'right' as const, sortValue: (a: Account) => a.openBalance ?? 0, render: (a: Account) => <Money minor={a.openBalance ?? 0} currency={a.currency} /> }] : []),
  { key: 'status', header: 'Status', sortValue: (a) => a.status, render: (a) => <AccountStatus status={a.status} /> },
];

export default function AccountsScreen() {
  const canEdit = useCanEdit('accounts');
  const canReadInvoices = useSession().canRead('invoices');
  const navigate = useNavigate();
  const list = useListParams(FILTERS);
  const [creating, setCreating] = useState(false);
  const { page, loading, error } = useList((q, signal) => billingApi.accounts(q, signal), { ...list.filters, cursor: list.cursor, limit: 50 });
  const filtered = FILTERS.some((k) => list.filters[k]);
  const newButton = canEdit ? <Button variant="primary" onClick={() => setCreating(true)}>New account</Button> : undefined;
  return (
    <div className="page">
      <PageHeader title="Accounts" breadcrumb={screenCrumbs('accounts')} actions={newButton} />
      <FilterBar list={list} placeholder="Name, number or contact">
        <FilterSelect list={list} name="status" label="Status" options={[{ value: 'active', label: 'Active' }, { value: 'suspended', label: 'Suspended' }, { value: 'closed', label: 'Closed' }]} />
      </FilterBar>
      {error && <Banner>{error}</Banner>}
      {!page && loading ? (
        <Spinner />
      ) : page && page.items.length === 0 ? (
        <EmptyState title={filtered ? 'No account matches these filters.' : 'There are no accounts yet.'} action={filtered ? undefined : newButton}>
          {filtered ? 'Try another search or clear the filters.' : 'Create the first customer account to start billing.'}
        </EmptyState>
      ) : page ? (
        <>
          <Table columns={columns(canReadInvoices)} rows={page.items} rowKey={(a) => a.id} sort={list.sort} onSort={list.setSort} caption="Accounts" />
          <Pager list={list} nextCursor={page.nextCursor} count={page.items.length} />
        </>
      ) : null}
      <Dialog open={creating} title="New account" onClose={() => setCreating(false)}>
        {creating && (
          <AccountForm
            saveLabel="Create account"
            onCancel={() => setCreating(false)}
            onSave={async (body) => {
              const a = await billingApi.createAccount(body);
              setCreating(false);
              navigate(`/accounts/${encodeURIComponent(a.id)}`);
            }}
          />
        )}
      </Dialog>
    </div>
  );
}
