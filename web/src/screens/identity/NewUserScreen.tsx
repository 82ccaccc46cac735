// Setup › Users › New user: a local user with a role; a generated password is shown once.
import { useEffect, useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { listAll, rolesApi, usersApi } from '../../api/identity.ts';
import type { UserInput } from '../../api/types.ts';
import { screenCrumbs } from '../../shell/nav.ts';
import { ButtonLink, CopyBox, Form, FormActions, FormError, PageHeader, TextField, UnsavedGuard, useFormState, useToast, type Option } from '../../ui/index.ts';
import { EMPTY_USER, UserForm, type UserFormValues } from './UserForm.tsx';

export default function NewUserScreen() {
  const [values, setValues] = useState<UserFormValues>(EMPTY_USER);
  const [password, setPassword] = useState('');
  const [roles, setRoles] = useState<Option[]>([]);
  const [created, setCreated] = useState<{ id: string; userName: string; password?: string } | null>(null);
  const [savedId, setSavedId] = useState<string | null>(null);
  const form = useFormState();
  const toast = useToast();
  const navigate = useNavigate();

  useEffect(() => {
    listAll(rolesApi.list)
      .then((rs) => setRoles(rs.filter((r) => !r.isScim).map((r) => ({ value: r.id, label: r.name }))))
      .catch(() => setRoles([]));
  }, []);

  // Navigate only after the re-render that clears `dirty`, so the unsaved-change guard stays quiet.
  useEffect(() => {
    if (savedId) navigate(`/setup/users/${encodeURIComponent(savedId)}`);
  }, [savedId, navigate]);

  const dirty = !created && !savedId && (JSON.stringify(values) !== JSON.stringify(EMPTY_USER) || password !== '');

  const save = async () => {
    let res: Awaited<ReturnType<typeof usersApi.create>> | null = null;
    const body: UserInput = { ...values };
    for (const k of ['displayName', 'givenName', 'familyName', 'email'] as const) if (!body[k]) delete body[k];
    if (password) body.password = password;
    const ok = await form.submit(async () => {
      res = await usersApi.create(body);
    });
    if (ok && res) {
      const r = res as Awaited<ReturnType<typeof usersApi.create>>;
      toast.success(`User ${r.userName} created`);
      if (r.initialPassword) setCreated({ id: r.id, userName: r.userName, password: r.initialPassword });
      else setSavedId(r.id);
    }
  };

  if (created)
    return (
      <div className="page">
        <PageHeader title={`User ${created.userName} created`} breadcrumb={screenCrumbs('users', { label: 'New user' })} />
        <section className="section stack">
          <CopyBox label="Initial password" value={created.password ?? ''} secret warning="Shown once. Give it to the user through a safe channel; they cannot see it again here." />
          <div className="row">
            <ButtonLink variant="primary" to={`/setup/users/${encodeURIComponent(created.id)}`}>
              Open user
            </ButtonLink>
            <Link to="/setup/users">Back to users</Link>
          </div>
        </section>
      </div>
    );

  return (
    <div className="page">
      <PageHeader title="New user" breadcrumb={screenCrumbs('users', { label: 'New user' })} />
      <UnsavedGuard dirty={dirty} />
      <section className="section">
        <Form onSubmit={save}>
          <FormError error={form.error} />
          <UserForm values={values} onChange={setValues} form={form} roles={roles} managed={[]} readOnly={false} />
          <div className="grid-2">
            <TextField
              label="Password"
              type="password"
              autoComplete="new-password"
              value={password}
              onChange={(v) => {
                form.clearField('password');
                setPassword(v);
              }}
              error={form.fields.password}
              hint="Leave empty to generate one; it is shown once after saving."
            />
          </div>
          <FormActions busy={form.busy} saveLabel="Create user" onCancel={() => navigate('/setup/users')} />
        </Form>
      </section>
    </div>
  );
}
