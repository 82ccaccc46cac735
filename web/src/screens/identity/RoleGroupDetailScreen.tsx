// A role group: name, the permission matrix, SCIM Default, and "Who has this". Core role groups
// are shown read-only; SCIM role groups say which pushed group they come from.
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { SCREEN_KEYS } from '../../../../src/identity/catalogue.ts';
import { errorText } from '../../api/client.ts';
import { roleGroupsApi } from '../../api/identity.ts';
import type { RoleGroupDetail } from '../../api/types.ts';
import { useCanEdit, useSession } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import {
  Badge,
  Banner,
  Button,
  ConfirmDialog,
  EmptyState,
  Form,
  FormActions,
  FormError,
  PageHeader,
  PermissionMatrix,
  ReadOnlyField,
  Spinner,
  Table,
  Tabs,
  TextField,
  UnsavedGuard,
  useFormState,
  useToast,
  type LevelMap,
} from '../../ui/index.ts';

function fullLevels(levels: LevelMap): LevelMap {
  return Object.fromEntries(SCREEN_KEYS.map((k) => [k, levels[k] ?? 'none'])) as LevelMap;
}

export default function RoleGroupDetailScreen() {
  const { id } = useParams();
  const isNew = !id;
  const canEdit = useCanEdit('role-groups');
  const { refresh } = useSession();
  const navigate = useNavigate();
  const toast = useToast();
  const form = useFormState();
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'people' ? 'people' : 'permissions';
  const [rg, setRg] = useState<RoleGroupDetail | null>(null);
  const [name, setName] = useState('');
  const [levels, setLevels] = useState<LevelMap>(fullLevels({}));
  const [loadError, setLoadError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState<null | 'delete' | 'default'>(null);
  const [doneTo, setDoneTo] = useState<string | null>(null);

  useEffect(() => {
    if (doneTo) navigate(doneTo);
  }, [doneTo, navigate]);

  useEffect(() => {
    if (!id) return;
    setLoadError(null);
    roleGroupsApi
      .get(id)
      .then((g) => {
        setRg(g);
        setName(g.name);
        setLevels(fullLevels(g.levels));
      })
      .catch((e) => setLoadError(errorText(e)));
  }, [id]);

  const original = useMemo(() => JSON.stringify({ name: rg?.name ?? '', levels: fullLevels(rg?.levels ?? {}) }), [rg]);
  const dirty = !doneTo && JSON.stringify({ name, levels }) !== original;

  if (loadError) return <div className="page"><PageHeader title="Role group" breadcrumb={screenCrumbs('role-groups', { label: 'Role group' })} /><Banner>{loadError}</Banner></div>;
  if (!isNew && !rg) return <Spinner />;

  const editable = canEdit && !(rg?.isCore ?? false);
  const nameEditable = editable && !rg?.pushedGroup;
  const title = isNew ? 'New role group' : rg!.name;

  const save = async () => {
    let saved: RoleGroupDetail | null = null;
    const ok = await form.submit(async () => {
      saved = isNew
        ? await roleGroupsApi.create({ name, levels })
        : await roleGroupsApi.update(rg!.id, { name: nameEditable && name !== rg!.name ? name : undefined, levels });
    });
    if (ok && saved) {
      const s = saved as RoleGroupDetail;
      toast.success(isNew ? `Role group ${s.name} created` : `Saved role group ${s.name}`);
      void refresh(); // our own menu may have changed
      if (isNew) setDoneTo(`/setup/role-groups/${encodeURIComponent(s.id)}`);
      else {
        // PATCH may answer without people/references; keep what we had.
        const merged = { ...rg!, ...s, levels: s.levels ?? levels };
        setRg(merged);
        setName(merged.name);
        setLevels(fullLevels(merged.levels));
      }
    }
  };

  const makeDefault = async () => {
    try {
      const s = await roleGroupsApi.update(rg!.id, { isScimDefault: true });
      setRg({ ...rg!, ...s, isScimDefault: true });
      toast.success(`${rg!.name} is now the SCIM Default role group`);
    } catch (e) {
      toast.error(errorText(e));
    }
    setConfirm(null);
  };

  const remove = async () => {
    try {
      await roleGroupsApi.remove(rg!.id);
      toast.success(`Role group ${rg!.name} deleted`);
      setConfirm(null);
      setDoneTo('/setup/role-groups');
    } catch (e) {
      setConfirm(null);
      toast.error(errorText(e));
    }
  };

  const matrix = <PermissionMatrix levels={levels} onChange={editable ? setLevels : undefined} readOnly={!editable} />;

  const people = rg?.people ?? [];
  const permissionsPanel = editable ? (
    <Form onSubmit={save}>
      <FormError error={form.error} />
      <div className="grid-2">
        {nameEditable ? (
          <TextField label="Name" value={name} onChange={(v) => { form.clearField('name'); setName(v); }} error={form.fields.name} autoFocus={isNew} />
        ) : (
          <ReadOnlyField label="Name" managedBy="SCIM">{name}</ReadOnlyField>
        )}
      </div>
      {form.fields.levels && <div className="field-error" role="alert">{form.fields.levels}</div>}
      {matrix}
      <FormActions busy={form.busy} dirty={isNew || dirty} saveLabel={isNew ? 'Create role group' : 'Save'} onCancel={() => (dirty && !isNew ? (setName(rg!.name), setLevels(fullLevels(rg!.levels))) : navigate('/setup/role-groups'))} />
    </Form>
  ) : (
    matrix
  );

  return (
    <div className="page">
      <PageHeader
        title={title}
        breadcrumb={screenCrumbs('role-groups', { label: title })}
        actions={
          editable && rg ? (
            <>
              {!rg.isScimDefault && <Button onClick={() => setConfirm('default')}>Make SCIM Default</Button>}
              {!rg.pushedGroup && !rg.isScimDefault && (
                <Button variant="danger" onClick={() => setConfirm('delete')}>
                  Delete role group
                </Button>
              )}
            </>
          ) : undefined
        }
      >
        {rg && (
          <div className="row">
            {rg.isCore && <Badge>Core role group — cannot be changed</Badge>}
            {rg.isScimDefault && <Badge tone="green" title="Provisioned users with no pushed group get this role group">SCIM Default</Badge>}
            {rg.pushedGroup && <Badge tone="accent">From pushed group {rg.pushedGroup.name}</Badge>}
            <span className="muted">
              Used by {rg.references?.length ?? rg.roleCount} role{(rg.references?.length ?? rg.roleCount) === 1 ? '' : 's'}
              {rg.references?.length ? ': ' : ''}
              {rg.references?.map((r, i) => (
                <span key={r.id}>
                  {i > 0 && ', '}
                  <Link to={`/setup/roles/${encodeURIComponent(r.id)}`}>{r.name}</Link>
                </span>
              ))}
            </span>
          </div>
        )}
      </PageHeader>
      {editable && <UnsavedGuard dirty={dirty} />}
      {isNew ? (
        <section className="section">{permissionsPanel}</section>
      ) : (
        <Tabs
          label="Role group"
          value={tab}
          onChange={(k) => setParams(k === 'people' ? { tab: 'people' } : {}, { replace: true })}
          tabs={[
            { key: 'permissions', label: 'Permissions' },
            { key: 'people', label: `Who has this (${people.length})` },
          ]}
        >
          {tab === 'permissions' ? (
            <section className="section">{permissionsPanel}</section>
          ) : people.length === 0 ? (
            <EmptyState title="Nobody has this role group yet.">Attach it to a role and give that role to users{rg?.isScimDefault ? ', or provision users with no pushed group' : ''}.</EmptyState>
          ) : (
            <Table
              caption="People with this role group"
              rows={people}
              rowKey={(p) => p.id}
              columns={[
                { key: 'userName', header: 'User name', render: (p) => <Link to={`/setup/users/${encodeURIComponent(p.id)}`}>{p.userName}</Link> },
                { key: 'displayName', header: 'Name', render: (p) => p.displayName || <span className="muted">—</span> },
              ]}
            />
          )}
        </Tabs>
      )}
      {rg && (
        <>
          <ConfirmDialog
            open={confirm === 'delete'}
            title="Delete role group"
            message={<p>Delete role group <strong>{rg.name}</strong>? This cannot be undone.</p>}
            confirmLabel={`Delete ${rg.name}`}
            onConfirm={remove}
            onClose={() => setConfirm(null)}
          />
          <ConfirmDialog
            open={confirm === 'default'}
            title="Make SCIM Default"
            danger={false}
            message={<p>Make <strong>{rg.name}</strong> the SCIM Default role group? Provisioned users in no pushed group get its levels, and new pushed groups start from it.</p>}
            confirmLabel="Make SCIM Default"
            onConfirm={makeDefault}
            onClose={() => setConfirm(null)}
          />
        </>
      )}
    </div>
  );
}
