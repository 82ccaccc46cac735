import type { ButtonHTMLAttributes, ReactNode } from 'react';
import { Link } from 'react-router';

export type ButtonVariant = 'primary' | 'secondary' | 'danger' | 'ghost';

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: ButtonVariant;
  small?: boolean;
  busy?: boolean;
}

function classes(variant: ButtonVariant, small?: boolean, extra?: string): string {
  return ['btn', `btn-${variant}`, small ? 'btn-small' : '', extra ?? ''].filter(Boolean).join(' ');
}

/** A button; `type="button"` unless told otherwise so it never submits a form by accident. */
export function Button({ variant = 'secondary', small, busy, className, type = 'button', disabled, children, ...rest }: ButtonProps) {
  return (
    <button type={type} className={classes(variant, small, className)} disabled={disabled || busy} aria-busy={busy || undefined} {...rest}>
      {children}
    </button>
  );
}

/** A link that looks like a button (for primary actions that navigate, e.g. "New user"). */
export function ButtonLink({ to, variant = 'secondary', small, children }: { to: string; variant?: ButtonVariant; small?: boolean; children: ReactNode }) {
  return (
    <Link to={to} className={classes(variant, small)}>
      {children}
    </Link>
  );
}
