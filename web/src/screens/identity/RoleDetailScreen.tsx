// A role: its name and the role groups attached to it (new role when there is no id). Core roles
// are immutable; SCIM roles take their name and role group from the pushed group.
import { useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { errorText } from '../../api/client.ts';
import { listAll, roleGroupsApi, rolesApi } from '../../api/identity.ts';
import type { Role, RoleGroup } from '../../api/types.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Badge, Banner, Button, ConfirmDialog, Form, FormActions, FormError, PageHeader, ReadOnlyField, Spinner, TextField, UnsavedGuard, useFormState, useToast } from '../../ui/index.ts';

export default function RoleDetailScreen() {
  const { id } = useParams();
  const isNew = !id;
  const canEdit = useCanEdit('roles');
  const navigate = useNavigate();
  const toast = useToast();
  const form = useFormState();
  const [role, setRole] = useState<Role | null>(null);
  const [groups, setGroups] = useState<RoleGroup[]>([]);
  const [name, setName] = useState('');
  const [selected, setSelected] = useState<string[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [doneTo, setDoneTo] = useState<string | null>(null);

  useEffect(() => {
    if (doneTo) navigate(doneTo);
  }, [doneTo, navigate]);

  useEffect(() => {
    setLoadError(null);
    if (id)
      rolesApi
        .get(id)
        .then((r) => {
          setRole(r);
          setName(r.name);
          setSelected(r.roleGroups.map((g) => g.id));
        })
        .catch((e) => setLoadError(errorText(e)));
    listAll(roleGroupsApi.list)
      .then(setGroups)
      .catch(() => setGroups([]));
  }, [id]);

  const original = useMemo(() => ({ name: role?.name ?? '', ids: [...(role?.roleGroups.map((g) => g.id) ?? [])].sort().join(',') }), [role]);
  const dirty = !doneTo && (name !== original.name || [...selected].sort().join(',') !== original.ids);

  if (loadError) return <div className="page"><PageHeader title="Role" breadcrumb={screenCrumbs('roles', { label: 'Role' })} /><Banner>{loadError}</Banner></div>;
  if (!isNew && !role) return <Spinner />;

  const locked = !!role && (role.isCore || role.isScim);
  const editable = canEdit && !locked;
  const title = isNew ? 'New role' : role!.name;
  // SCIM role groups belong to their own SCIM role; only ordinary role groups can be attached.
  const attachable = groups.filter((g) => !g.pushedGroup || selected.includes(g.id));

  const toggle = (gid: string) => {
    form.clearField('roleGroupIds');
    setSelected((s) => (s.includes(gid) ? s.filter((x) => x !== gid) : [...s, gid]));
  };

  const save = async () => {
    let saved: Role | null = null;
    const ok = await form.submit(async () => {
      saved = isNew ? await rolesApi.create({ name, roleGroupIds: selected }) : await rolesApi.update(role!.id, { name: name !== role!.name ? name : undefined, roleGroupIds: selected });
    });
    if (ok && saved) {
      const s = saved as Role;
      toast.success(isNew ? `Role ${s.name} created` : `Saved role ${s.name}`);
      if (isNew) setDoneTo(`/setup/roles/${encodeURIComponent(s.id)}`);
      else {
        setRole(s);
        setName(s.name);
        setSelected(s.roleGroups.map((g) => g.id));
      }
    }
  };

  const remove = async () => {
    try {
      await rolesApi.remove(role!.id);
      toast.success(`Role ${role!.name} deleted`);
      setConfirmDelete(false);
      setDoneTo('/setup/roles');
    } catch (e) {
      setConfirmDelete(false);
      toast.error(errorText(e));
    }
  };

  return (
    <div className="page">
      <PageHeader
        title={title}
        breadcrumb={screenCrumbs('roles', { label: title })}
        actions={editable && !isNew ? <Button variant="danger" onClick={() => setConfirmDelete(true)}>Delete role</Button> : undefined}
      >
        {role && (
          <div className="row">
            {role.isCore && <Badge>Core role — cannot be changed</Badge>}
            {role.isScim && <Badge tone="accent">SCIM role{role.pushedGroup ? ` from pushed group ${role.pushedGroup.name}` : ''}</Badge>}
            <span className="muted">
              {role.userCount} user{role.userCount === 1 ? '' : 's'}
            </span>
          </div>
        )}
      </PageHeader>
      {editable && <UnsavedGuard dirty={dirty} />}
      <section className="section">
        {editable ? (
          <Form onSubmit={save}>
            <FormError error={form.error} />
            <div className="grid-2">
              <TextField label="Name" value={name} onChange={(v) => { form.clearField('name'); setName(v); }} error={form.fields.name} autoFocus={isNew} />
            </div>
            <fieldset className="field fieldset">
              <legend className="field-label">Role groups</legend>
              <div className="checklist">
                {attachable.map((g) => (
                  <label key={g.id} className="checkbox">
                    <input type="checkbox" checked={selected.includes(g.id)} onChange={() => toggle(g.id)} />
                    {g.name}
                    {g.isCore && <Badge>Core</Badge>}
                  </label>
                ))}
              </div>
              <div className="field-hint">Several role groups combine: each screen gets the most permissive level among them.</div>
              {form.fields.roleGroupIds && <div className="field-error" role="alert">{form.fields.roleGroupIds}</div>}
            </fieldset>
            <FormActions busy={form.busy} dirty={isNew || dirty} saveLabel={isNew ? 'Create role' : 'Save'} onCancel={() => navigate('/setup/roles')} />
          </Form>
        ) : (
          <div className="grid-2">
            <ReadOnlyField label="Name" managedBy={role?.isScim ? 'SCIM' : undefined}>{role?.name}</ReadOnlyField>
            <ReadOnlyField label="Role groups">
              {role?.roleGroups.length
                ? role.roleGroups.map((g, i) => (
                    <span key={g.id}>
                      {i > 0 && ', '}
                      <Link to={`/setup/role-groups/${encodeURIComponent(g.id)}`}>{g.name}</Link>
                    </span>
                  ))
                : '—'}
            </ReadOnlyField>
          </div>
        )}
      </section>
      {role && (
        <ConfirmDialog
          open={confirmDelete}
          title="Delete role"
          message={<p>Delete role <strong>{role.name}</strong>? This cannot be undone.</p>}
          confirmLabel={`Delete ${role.name}`}
          onConfirm={remove}
          onClose={() => setConfirmDelete(false)}
        />
      )}
    </div>
  );
}
