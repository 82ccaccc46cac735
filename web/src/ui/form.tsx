// The form pattern: Save / Cancel at the bottom, an unsaved-change guard (in-app navigation and
// tab close), field errors from ApiError shown under their field.
import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { useBlocker } from 'react-router';
import { ApiError, errorText } from '../api/client.ts';
import { Button } from './Button.tsx';
import { ConfirmDialog } from './Dialog.tsx';
import { Banner } from './EmptyState.tsx';

/** Asks before leaving a page with unsaved changes. */
export function UnsavedGuard({ dirty }: { dirty: boolean }) {
  const blocker = useBlocker(({ currentLocation, nextLocation }) => dirty && currentLocation.pathname !== nextLocation.pathname);
  useEffect(() => {
    if (!dirty) return;
    const onUnload = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', onUnload);
    return () => window.removeEventListener('beforeunload', onUnload);
  }, [dirty]);
  return (
    <ConfirmDialog
      open={blocker.state === 'blocked'}
      title="Leave without saving?"
      message="You have unsaved changes on this page. They will be lost."
      confirmLabel="Leave without saving"
      onConfirm={() => blocker.proceed?.()}
      onClose={() => blocker.reset?.()}
    />
  );
}

/** Field errors a form finds before sending anything: `submit` shows them as it shows the server's. */
export class FieldErrors extends Error {
  readonly fields: Record<string, string>;
  constructor(fields: Record<string, string>) {
    super('Some fields need attention');
    this.name = 'FieldErrors';
    this.fields = fields;
  }
}

export interface FormState {
  busy: boolean;
  error: string | null;
  fields: Record<string, string>;
  /** Runs a save; maps an ApiError (or FieldErrors) to field errors and a banner. Returns true on success. */
  submit: (fn: () => Promise<unknown>) => Promise<boolean>;
  clearField: (name: string) => void;
}

export function useFormState(): FormState {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fields, setFields] = useState<Record<string, string>>({});
  return {
    busy,
    error,
    fields,
    clearField: (name) => setFields((f) => (name in f ? Object.fromEntries(Object.entries(f).filter(([k]) => k !== name)) : f)),
    submit: async (fn) => {
      setBusy(true);
      setError(null);
      setFields({});
      try {
        await fn();
        return true;
      } catch (e) {
        if (e instanceof ApiError || e instanceof FieldErrors) {
          setFields(e.fields);
          setError(Object.keys(e.fields).length ? 'Check the highlighted fields.' : errorText(e));
        } else setError(errorText(e));
        return false;
      } finally {
        setBusy(false);
      }
    },
  };
}

export function Form({ onSubmit, children, className }: { onSubmit: () => void; children: ReactNode; className?: string }) {
  return (
    <form
      className={['form', className ?? ''].filter(Boolean).join(' ')}
      noValidate
      onSubmit={(e: FormEvent) => {
        e.preventDefault();
        onSubmit();
      }}
    >
      {children}
    </form>
  );
}

export function FormError({ error }: { error: string | null }) {
  return error ? <Banner tone="error">{error}</Banner> : null;
}

export function FormActions({ busy, onCancel, saveLabel = 'Save', dirty = true }: { busy?: boolean; onCancel?: () => void; saveLabel?: string; dirty?: boolean }) {
  return (
    <div className="form-actions">
      <Button type="submit" variant="primary" busy={busy} disabled={!dirty}>
        {busy ? 'Saving…' : saveLabel}
      </Button>
      {onCancel && (
        <Button onClick={onCancel} disabled={busy}>
          Cancel
        </Button>
      )}
    </div>
  );
}
