// The profile fields of a user, shared by New user and User detail. IdP-owned fields of
// provisioned users render read-only with the "managed by your identity provider" note.
import { SelectField, TextField, type FormState, type Option } from '../../ui/index.ts';
import type { UserStatus } from '../../api/types.ts';
import { STATUS_OPTIONS } from './labels.ts';

export interface UserFormValues {
  userName: string;
  displayName: string;
  givenName: string;
  familyName: string;
  email: string;
  roleId: string;
  status: UserStatus;
  timeZone: string;
  locale: string;
}

export const EMPTY_USER: UserFormValues = {
  userName: '',
  displayName: '',
  givenName: '',
  familyName: '',
  email: '',
  roleId: '',
  status: 'active',
  timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC',
  locale: 'en-US',
};

let zones: Option[] | null = null;
export function timeZoneOptions(current: string): Option[] {
  if (!zones) {
    let list: string[] = [];
    try {
      list = Intl.supportedValuesOf('timeZone');
    } catch {
      list = ['UTC'];
    }
    if (!list.includes('UTC')) list = ['UTC', ...list];
    zones = list.map((z) => ({ value: z, label: z.replace(/_/g, ' ') }));
  }
  return current && !zones.some((z) => z.value === current) ? [{ value: current, label: current }, ...zones] : zones;
}

export interface UserFormProps {
  values: UserFormValues;
  onChange: (v: UserFormValues) => void;
  form: FormState;
  roles: Option[];
  /** Field names the identity provider owns (read-only). */
  managed: string[];
  /** Read Only users see values, no inputs. */
  readOnly: boolean;
  /** Shown instead of the role select for provisioned users (their pushed groups). */
  roleNote?: string;
  idpName?: string;
}

export function UserForm({ values, onChange, form, roles, managed, readOnly, roleNote, idpName = 'SCIM' }: UserFormProps) {
  const set = <K extends keyof UserFormValues>(k: K) => (v: string) => {
    form.clearField(k);
    onChange({ ...values, [k]: v as UserFormValues[K] });
  };
  const m = (k: string) => (managed.includes(k) ? idpName : undefined);
  const text = (k: keyof UserFormValues, label: string, extra: { type?: string; autoComplete?: string } = {}) => (
    <TextField label={label} value={values[k]} onChange={set(k)} error={form.fields[k]} managedBy={m(k)} readOnlyView={readOnly} name={k} {...extra} />
  );
  return (
    <div className="grid-2">
      {text('userName', 'User name', { autoComplete: 'off' })}
      {text('displayName', 'Display name')}
      {text('givenName', 'First name')}
      {text('familyName', 'Last name')}
      {text('email', 'Email', { type: 'email' })}
      <SelectField label="Status" name="status" value={values.status} options={STATUS_OPTIONS} onChange={set('status')} error={form.fields.status} managedBy={m('status')} readOnlyView={readOnly} />
      {roleNote !== undefined ? (
        <TextField label="Role" value={roleNote} managedBy={idpName} />
      ) : (
        <SelectField label="Role" name="roleId" value={values.roleId} options={roles} placeholder="Choose a role" onChange={set('roleId')} error={form.fields.roleId} readOnlyView={readOnly} />
      )}
      <SelectField label="Time zone" name="timeZone" value={values.timeZone} options={timeZoneOptions(values.timeZone)} onChange={set('timeZone')} error={form.fields.timeZone} readOnlyView={readOnly} />
      {text('locale', 'Locale')}
    </div>
  );
}

/** Only what changed, for PATCH (the server refuses IdP-owned fields even when unchanged values differ in type). */
export function changedFields(before: UserFormValues, after: UserFormValues): Partial<UserFormValues> {
  const out: Partial<UserFormValues> = {};
  for (const k of Object.keys(after) as (keyof UserFormValues)[]) {
    if (after[k] !== before[k]) (out as Record<string, string>)[k] = after[k];
  }
  return out;
}
