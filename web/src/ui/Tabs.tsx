// Tabs with arrow-key movement (WAI-ARIA tabs pattern).
import { useRef, type KeyboardEvent, type ReactNode } from 'react';

export interface Tab {
  key: string;
  label: ReactNode;
}

export function Tabs({ tabs, value, onChange, children, label }: { tabs: Tab[]; value: string; onChange: (key: string) => void; children: ReactNode; label: string }) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const onKey = (e: KeyboardEvent, i: number) => {
    let j = -1;
    if (e.key === 'ArrowRight') j = (i + 1) % tabs.length;
    if (e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
    if (e.key === 'Home') j = 0;
    if (e.key === 'End') j = tabs.length - 1;
    if (j >= 0) {
      e.preventDefault();
      onChange(tabs[j].key);
      refs.current[j]?.focus();
    }
  };
  return (
    <div className="tabs">
      <div role="tablist" aria-label={label} className="tablist">
        {tabs.map((t, i) => (
          <button
            key={t.key}
            ref={(el) => {
              refs.current[i] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${t.key}`}
            aria-selected={t.key === value}
            aria-controls={`panel-${t.key}`}
            tabIndex={t.key === value ? 0 : -1}
            className={['tab', t.key === value ? 'tab-active' : ''].join(' ')}
            onClick={() => onChange(t.key)}
            onKeyDown={(e) => onKey(e, i)}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${value}`} aria-labelledby={`tab-${value}`} className="tabpanel">
        {children}
      </div>
    </div>
  );
}
