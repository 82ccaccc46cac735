// A read-only value with a Copy button (SAML values, one-time tokens and passwords).
import { useId, useRef, useState, type ReactNode } from 'react';
import { Button } from './Button.tsx';

export function CopyBox({ label, value, warning, secret }: { label: string; value: string; warning?: ReactNode; secret?: boolean }) {
  const id = useId();
  const ref = useRef<HTMLInputElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      // Clipboard API refused (non-secure context): fall back to selecting the text.
      ref.current?.select();
      document.execCommand?.('copy');
    }
    setCopied(true);
    setTimeout(() => setCopied(false), 2000);
  };
  return (
    <div className={['copybox', secret ? 'copybox-secret' : ''].join(' ')}>
      <label className="field-label" htmlFor={id}>
        {label}
      </label>
      <div className="copybox-row">
        <input id={id} ref={ref} className="input copybox-value" readOnly value={value} onFocus={(e) => e.target.select()} />
        <Button small onClick={copy} aria-label={`Copy ${label}`}>
          {copied ? 'Copied' : 'Copy'}
        </Button>
      </div>
      {warning && <div className="copybox-warning">{warning}</div>}
    </div>
  );
}
