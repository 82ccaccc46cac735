// Setup › Users › a user: profile form (IdP-owned fields read-only), status, role, reset password,
// sign out everywhere, and the Effective permissions table saying which role group grants what.
import { useCallback, useEffect, useMemo, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { LEVEL_LABEL, type Level } from '../../../../src/identity/catalogue.ts';
import { errorText } from '../../api/client.ts';
import { listAll, rolesApi, usersApi } from '../../api/identity.ts';
import type { EffectivePermission, UserDetail } from '../../api/types.ts';
import { useCanEdit, useSession } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import {
  Badge,
  Banner,
  Button,
  ConfirmDialog,
  CopyBox,
  DateTime,
  Dialog,
  Form,
  FormActions,
  FormError,
  PageHeader,
  ReadOnlyField,
  Spinner,
  Table,
  TextField,
  UnsavedGuard,
  useFormState,
  useToast,
  type BadgeTone,
  type Column,
  type Option,
} from '../../ui/index.ts';
import { SOURCE_LABEL, STATUS_LABEL, STATUS_TONE, scimRoleNames } from './labels.ts';
import { changedFields, UserForm, type UserFormValues } from './UserForm.tsx';

const LEVEL_TONE: Record<Level, BadgeTone> = { none: 'neutral', read: 'amber', full: 'green' };

const permissionColumns: Column<EffectivePermission>[] = [
  { key: 'menu', header: 'Menu', sortValue: (p) => p.menu, render: (p) => p.menu },
  { key: 'screen', header: 'Screen', sortValue: (p) => p.label, render: (p) => p.label },
  { key: 'level', header: 'Level', sortValue: (p) => ({ none: 0, read: 1, full: 2 })[p.level], render: (p) => <Badge tone={LEVEL_TONE[p.level]}>{LEVEL_LABEL[p.level]}</Badge> },
  {
    key: 'grantedBy',
    header: 'Granted by',
    render: (p) =>
      p.grantedBy.length ? (
        p.grantedBy.map((g, i) => (
          <span key={g.id}>
            {i > 0 && ', '}
            <Link to={`/setup/role-groups/${encodeURIComponent(g.id)}`}>{g.name}</Link>
          </span>
        ))
      ) : (
        <span className="muted">—</span>
      ),
  },
];

function toValues(u: UserDetail): UserFormValues {
  return {
    userName: u.userName,
    displayName: u.displayName ?? '',
    givenName: u.givenName ?? '',
    familyName: u.familyName ?? '',
    email: u.email ?? '',
    roleId: u.role?.id ?? '',
    status: u.status,
    timeZone: u.timeZone ?? 'UTC',
    locale: u.locale ?? '',
  };
}

export default function UserDetailScreen() {
  const { id = '' } = useParams();
  const canEdit = useCanEdit('users');
  const { me, refresh } = useSession();
  const toast = useToast();
  const navigate = useNavigate();
  const [user, setUser] = useState<UserDetail | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [values, setValues] = useState<UserFormValues | null>(null);
  const [roles, setRoles] = useState<Option[]>([]);
  const [dialog, setDialog] = useState<null | 'password' | 'signout'>(null);
  const [newPassword, setNewPassword] = useState('');
  const [shownPassword, setShownPassword] = useState<string | null>(null);
  const [pwError, setPwError] = useState<string | null>(null);
  const [pwBusy, setPwBusy] = useState(false);
  const form = useFormState();

  const load = useCallback(() => {
    setLoadError(null);
    return usersApi
      .get(id)
      .then((u) => {
        setUser(u);
        setValues(toValues(u));
      })
      .catch((e) => setLoadError(errorText(e)));
  }, [id]);

  useEffect(() => {
    setUser(null);
    void load();
  }, [load]);

  useEffect(() => {
    if (!canEdit) return;
    listAll(rolesApi.list)
      .then((rs) => setRoles(rs.filter((r) => !r.isScim).map((r) => ({ value: r.id, label: r.name }))))
      .catch(() => setRoles([]));
  }, [canEdit]);

  const before = useMemo(() => (user ? toValues(user) : null), [user]);
  const dirty = !!(before && values && JSON.stringify(before) !== JSON.stringify(values));

  if (loadError) return <div className="page"><PageHeader title="User" breadcrumb={screenCrumbs('users', { label: 'User' })} /><Banner>{loadError}</Banner></div>;
  if (!user || !values || !before) return <Spinner />;

  const isIdp = user.source === 'idp';
  const name = user.displayName || user.userName;
  const roleOptions = user.role && !roles.some((r) => r.value === user.role!.id) ? [{ value: user.role.id, label: user.role.name }, ...roles] : roles;

  const save = async () => {
    const changes = changedFields(before, values);
    const ok = await form.submit(async () => {
      const updated = await usersApi.update(user.id, changes);
      setUser(updated);
      setValues(toValues(updated));
    });
    if (ok) {
      toast.success(`Saved ${name}`);
      if (user.id === me.user.id) void refresh();
    }
  };

  const resetPassword = async () => {
    setPwBusy(true);
    setPwError(null);
    try {
      const res = await usersApi.resetPassword(user.id, newPassword || undefined);
      setNewPassword('');
      if (res?.password) setShownPassword(res.password);
      else {
        setDialog(null);
        toast.success(`Password of ${name} changed`);
      }
    } catch (e) {
      setPwError(errorText(e));
    } finally {
      setPwBusy(false);
    }
  };

  const signOutEverywhere = async () => {
    try {
      const res = await usersApi.signOutEverywhere(user.id);
      toast.success(`Ended ${res.ended} session${res.ended === 1 ? '' : 's'} of ${name}`);
      setDialog(null);
      if (user.id === me.user.id) window.location.assign('/login');
      else void load();
    } catch (e) {
      toast.error(errorText(e));
    }
  };

  const roleNote = isIdp ? (user.pushedGroups.length ? `${scimRoleNames(user.pushedGroups)} (${user.pushedGroups.length === 1 ? 'SCIM role' : 'SCIM roles'})` : 'SCIM Default (no pushed group)') : undefined;

  return (
    <div className="page">
      <PageHeader
        title={name}
        breadcrumb={screenCrumbs('users', { label: name })}
        actions={
          canEdit ? (
            <>
              {!isIdp && <Button onClick={() => setDialog('password')}>Reset password</Button>}
              <Button onClick={() => setDialog('signout')}>Sign out everywhere</Button>
            </>
          ) : undefined
        }
      >
        <div className="row">
          <Badge tone={STATUS_TONE[user.status]}>{STATUS_LABEL[user.status]}</Badge>
          <Badge tone={isIdp ? 'accent' : 'neutral'}>{SOURCE_LABEL[user.source]}</Badge>
          <span className="muted">
            {user.activeSessions} active session{user.activeSessions === 1 ? '' : 's'} · created <DateTime value={user.createdAt} /> · changed <DateTime value={user.updatedAt} />
          </span>
        </div>
      </PageHeader>

      {canEdit && <UnsavedGuard dirty={dirty} />}
      <section className="section" aria-labelledby="profile-title">
        <h2 id="profile-title">Profile</h2>
        {isIdp && <Banner tone="info">This user comes from your identity provider. Their name, email and status are managed there; change them in the identity provider.</Banner>}
        {canEdit ? (
          <Form onSubmit={save}>
            <FormError error={form.error} />
            <UserForm values={values} onChange={setValues} form={form} roles={roleOptions} managed={user.managedFields} readOnly={false} roleNote={roleNote} />
            <FormActions busy={form.busy} dirty={dirty} onCancel={() => (dirty ? setValues(before) : navigate('/setup/users'))} />
          </Form>
        ) : (
          <UserForm values={values} onChange={setValues} form={form} roles={roleOptions} managed={user.managedFields} readOnly roleNote={roleNote} />
        )}
        {isIdp && user.pushedGroups.length > 0 && (
          <div className="grid-2">
            <ReadOnlyField label="Pushed groups" managedBy="SCIM">
              {user.pushedGroups.map((g, i) => (
                <span key={g.id}>
                  {i > 0 && ', '}
                  {g.name}
                  {g.scimRole && <span className="muted"> (SCIM role {g.scimRole.name})</span>}
                </span>
              ))}
            </ReadOnlyField>
          </div>
        )}
      </section>

      <section className="section" aria-labelledby="perm-title">
        <div className="section-head">
          <h2 id="perm-title">Effective permissions</h2>
          <span className="muted">Most permissive level across the role groups of {isIdp ? 'their pushed groups' : 'their role'}.</span>
        </div>
        <Table columns={permissionColumns} rows={user.effectivePermissions} rowKey={(p) => p.screen} dense caption="Effective permissions" />
      </section>

      <Dialog
        open={dialog === 'password'}
        title={`Reset password of ${name}`}
        onClose={() => {
          setDialog(null);
          setShownPassword(null);
          setPwError(null);
        }}
        footer={
          shownPassword ? (
            <Button variant="primary" onClick={() => { setDialog(null); setShownPassword(null); }}>
              Done
            </Button>
          ) : (
            <>
              <Button onClick={() => setDialog(null)}>Cancel</Button>
              <Button variant="primary" busy={pwBusy} onClick={resetPassword}>
                Reset password
              </Button>
            </>
          )
        }
      >
        {shownPassword ? (
          <CopyBox label="New password" value={shownPassword} secret warning="Shown once. Give it to the user through a safe channel." />
        ) : (
          <>
            <p>Their current password stops working at once. Leave the field empty to generate a password.</p>
            <TextField label="New password" type="password" autoComplete="new-password" value={newPassword} onChange={setNewPassword} error={pwError ?? undefined} />
          </>
        )}
      </Dialog>

      <ConfirmDialog
        open={dialog === 'signout'}
        title="Sign out everywhere"
        message={
          user.id === me.user.id ? (
            <p>
              End all your sessions, in every browser, including this one? You will be taken to the sign-in page.
            </p>
          ) : user.activeSessions === 0 ? (
            <p>
              <strong>{name}</strong> had no active session when this page was loaded. Signing them out ends any they have started since.
            </p>
          ) : (
            <p>
              End all {user.activeSessions} active session{user.activeSessions === 1 ? '' : 's'} of <strong>{name}</strong>? They will have to sign in again.
            </p>
          )
        }
        confirmLabel={user.id === me.user.id ? 'Sign me out everywhere' : `Sign out ${name}`}
        onConfirm={signOutEverywhere}
        onClose={() => setDialog(null)}
      />
    </div>
  );
}
