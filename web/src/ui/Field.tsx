// Form fields: label above, the error under the field that caused it, read-only values without
// input borders, and the "managed by your identity provider" note for IdP-owned fields.
import { useId, type InputHTMLAttributes, type ReactNode, type SelectHTMLAttributes } from 'react';
import { isDate } from '../../../src/platform/time.ts';

/**
 * The input type for a date field holding `value`: 'date', unless the value is not a day. A date
 * input shows such a value (2026-02-31 or zzz from a bookmarked URL) as empty, so the field would
 * hide what its error is about; as text it stays visible and can be corrected.
 */
export function dateInputType(value: string): 'date' | 'text' {
  return value === '' || isDate(value) ? 'date' : 'text';
}

export interface FieldProps {
  label: string;
  error?: string;
  hint?: ReactNode;
  /** Set when the identity provider owns this value (shows the note, value read-only). */
  managedBy?: string;
  children: (id: string, describedBy: string | undefined) => ReactNode;
  className?: string;
}

export function Field({ label, error, hint, managedBy, children, className }: FieldProps) {
  const id = useId();
  const errId = `${id}-err`;
  const hintId = `${id}-hint`;
  const describedBy = [error ? errId : '', hint || managedBy ? hintId : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div className={['field', error ? 'field-invalid' : '', className ?? ''].filter(Boolean).join(' ')}>
      <label htmlFor={id} className="field-label">
        {label}
      </label>
      {children(id, describedBy)}
      {(hint || managedBy) && (
        <div id={hintId} className={managedBy ? 'field-managed' : 'field-hint'}>
          {managedBy ? `Managed by your identity provider (${managedBy})` : hint}
        </div>
      )}
      {error && (
        <div id={errId} className="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

export interface TextFieldProps extends Omit<InputHTMLAttributes<HTMLInputElement>, 'onChange' | 'value'> {
  label: string;
  value: string;
  onChange?: (value: string) => void;
  error?: string;
  hint?: ReactNode;
  managedBy?: string;
  /** Shows the value as text (no input) — for Read Only users and IdP-owned fields. */
  readOnlyView?: boolean;
}

export function TextField({ label, value, onChange, error, hint, managedBy, readOnlyView, className, type, ...rest }: TextFieldProps) {
  return (
    <Field label={label} error={error} hint={hint} managedBy={managedBy} className={className}>
      {(id, describedBy) =>
        readOnlyView || managedBy ? (
          <output id={id} className="ro-value" aria-describedby={describedBy}>
            {value || '—'}
          </output>
        ) : (
          <input
            id={id}
            className="input"
            value={value}
            onChange={(e) => onChange?.(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={describedBy}
            type={type === 'date' ? dateInputType(value) : type}
            {...rest}
          />
        )
      }
    </Field>
  );
}

export interface Option {
  value: string;
  label: string;
}

export interface SelectFieldProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, 'onChange' | 'value'> {
  label: string;
  value: string;
  options: Option[];
  onChange?: (value: string) => void;
  error?: string;
  hint?: ReactNode;
  managedBy?: string;
  readOnlyView?: boolean;
  placeholder?: string;
}

export function SelectField({ label, value, options, onChange, error, hint, managedBy, readOnlyView, placeholder, className, ...rest }: SelectFieldProps) {
  return (
    <Field label={label} error={error} hint={hint} managedBy={managedBy} className={className}>
      {(id, describedBy) =>
        readOnlyView || managedBy ? (
          <output id={id} className="ro-value" aria-describedby={describedBy}>
            {options.find((o) => o.value === value)?.label ?? (value || '—')}
          </output>
        ) : (
          <Select id={id} value={value} options={options} onChange={onChange} placeholder={placeholder} aria-invalid={error ? true : undefined} aria-describedby={describedBy} {...rest} />
        )
      }
    </Field>
  );
}

export interface SelectProps extends Omit<SelectHTMLAttributes<HTMLSelectElement>, 'onChange' | 'value'> {
  value: string;
  options: Option[];
  onChange?: (value: string) => void;
  placeholder?: string;
}

/** A bare select (filter bars); SelectField wraps it with a label. */
export function Select({ value, options, onChange, placeholder, className, ...rest }: SelectProps) {
  return (
    <select className={['select', className ?? ''].filter(Boolean).join(' ')} value={value} onChange={(e) => onChange?.(e.target.value)} {...rest}>
      {placeholder !== undefined && <option value="">{placeholder}</option>}
      {options.map((o) => (
        <option key={o.value} value={o.value}>
          {o.label}
        </option>
      ))}
    </select>
  );
}

/** A label + read-only value pair for detail views. */
export function ReadOnlyField({ label, children, managedBy }: { label: string; children: ReactNode; managedBy?: string }) {
  return (
    <div className="field">
      <div className="field-label">{label}</div>
      <div className="ro-value">{children}</div>
      {managedBy && <div className="field-managed">Managed by your identity provider ({managedBy})</div>}
    </div>
  );
}
