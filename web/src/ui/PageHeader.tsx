import { useEffect, type ReactNode } from 'react';
import { Link } from 'react-router';

export interface Crumb {
  label: string;
  to?: string;
}

/**
 * Title, breadcrumb (Setup / Users & Accounts / Role Groups) and the primary action on the right. The
 * title also names the browser tab ("Audit Log · Ledgerline"), so that tabs, history and bookmarks
 * tell screens apart (they all read "Ledgerline" before).
 */
export function PageHeader({ title, breadcrumb = [], actions, children }: { title: ReactNode; breadcrumb?: Crumb[]; actions?: ReactNode; children?: ReactNode }) {
  useDocumentTitle(typeof title === 'string' ? title : null);
  return (
    <header className="page-header">
      <div className="page-header-text">
        {breadcrumb.length > 0 && (
          <nav aria-label="Breadcrumb" className="breadcrumb">
            <ol>
              {breadcrumb.map((c, i) => (
                <li key={i}>{c.to ? <Link to={c.to}>{c.label}</Link> : <span>{c.label}</span>}</li>
              ))}
            </ol>
          </nav>
        )}
        <h1>{title}</h1>
        {children}
      </div>
      {actions && <div className="page-actions">{actions}</div>}
    </header>
  );
}

/** Names the browser tab after a screen ("Audit Log · Ledgerline"); null leaves it as it is. */
export function useDocumentTitle(title: string | null): void {
  useEffect(() => {
    if (title) document.title = `${title} · Ledgerline`;
  }, [title]);
}
