// Small pieces shared by the billing screens: figure cards, status badges, progress bar, SVG charts.
// Charts label their bars directly (values and series names next to the marks) so nobody hunts a legend.
import type { ReactNode } from 'react';
import { Link } from 'react-router';
import { Badge, formatMoney, formatNumber, type BadgeTone } from '../../ui/index.ts';
import './billing.css';

export function FigureCard({ label, value, note, to }: { label: string; value: ReactNode; note?: ReactNode; to?: string }) {
  const body = (
    <>
      <div className="bl-card-label">{label}</div>
      <div className="bl-card-value">{value}</div>
      {note && <div className="bl-card-note">{note}</div>}
    </>
  );
  return to ? <Link className="bl-card" to={to}>{body}</Link> : <div className="bl-card">{body}</div>;
}

const INVOICE_TONE: Record<string, BadgeTone> = { draft: 'neutral', finalized: 'accent', paid: 'green', void: 'red' };
const INVOICE_LABEL: Record<string, string> = { draft: 'Draft', finalized: 'Open', paid: 'Paid', void: 'Void' };
export const InvoiceStatus = ({ status, overdue }: { status: string; overdue?: boolean }) =>
  overdue ? <Badge tone="amber">Overdue</Badge> : <Badge tone={INVOICE_TONE[status] ?? 'neutral'}>{INVOICE_LABEL[status] ?? status}</Badge>;

const ACCOUNT_TONE: Record<string, BadgeTone> = { active: 'green', suspended: 'amber', closed: 'neutral' };
export const AccountStatus = ({ status }: { status: string }) => <Badge tone={ACCOUNT_TONE[status] ?? 'neutral'}>{status[0].toUpperCase() + status.slice(1)}</Badge>;

export function ProgressBar({ value, label }: { value: number; label: string }) {
  const pct = Math.max(0, Math.min(1, value)) * 100;
  return (
    <div className="bl-progress" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(pct)}>
      <div style={{ width: `${pct}%` }} />
    </div>
  );
}

export const money = (minor: number, currency: string) => formatMoney(minor, currency);

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export interface BarSeries {
  name: string;
  values: number[];
}

/** Grouped vertical bars, one group per category, values printed above each bar. */
export function BarChart({ title, categories, series, format }: { title: string; categories: string[]; series: BarSeries[]; format: (v: number) => string }) {
  const W = 880, H = 300, L = 70, B = 40, T = 24;
  const max = niceMax(Math.max(0, ...series.flatMap((s) => s.values)));
  const gw = (W - L - 10) / Math.max(1, categories.length);
  const bw = Math.min(28, (gw - 8) / Math.max(1, series.length));
  const y = (v: number) => T + (H - T - B) * (1 - v / max);
  return (
    <figure>
      <div className="bl-legend" aria-hidden="true">
        {series.map((s, i) => (
          <span key={s.name}><span className={`bl-swatch bl-c${i + 1}`} />{s.name}</span>
        ))}
      </div>
      <svg className="bl-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <title>{title}</title>
        {[0, 0.25, 0.5, 0.75, 1].map((f) => (
          <g key={f}>
            <line className="grid" x1={L} x2={W - 10} y1={y(max * f)} y2={y(max * f)} />
            <text x={L - 6} y={y(max * f) + 4} textAnchor="end">{format(max * f)}</text>
          </g>
        ))}
        <line className="axis" x1={L} x2={W - 10} y1={y(0)} y2={y(0)} />
        {categories.map((c, ci) => {
          const gx = L + ci * gw + (gw - bw * series.length) / 2;
          return (
            <g key={c}>
              {series.map((s, si) => {
                const v = s.values[ci] ?? 0;
                const x = gx + si * bw;
                return (
                  <g key={s.name}>
                    <rect className={`bl-c${si + 1}`} x={x} y={y(v)} width={bw - 2} height={Math.max(0, y(0) - y(v))}>
                      <title>{`${s.name}, ${c}: ${format(v)}`}</title>
                    </rect>
                    {v > 0 && series.length * categories.length <= 24 && <text x={x + (bw - 2) / 2} y={y(v) - 4} textAnchor="middle" fontSize="10">{format(v)}</text>}
                  </g>
                );
              })}
              <text x={L + ci * gw + gw / 2} y={H - B + 16} textAnchor="middle">{c}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

/** One horizontal stacked bar per row (aging by account), segment labels inside when they fit. */
export function StackedBars({ title, rows, segments, format }: { title: string; rows: { label: string; values: number[] }[]; segments: string[]; format: (v: number) => string }) {
  const W = 880, L = 200, R = 100, RH = 26;
  const H = rows.length * RH + 10;
  const max = Math.max(1, ...rows.map((r) => r.values.reduce((a, b) => a + b, 0)));
  const sx = (v: number) => ((W - L - R) * v) / max;
  return (
    <figure>
      <div className="bl-legend" aria-hidden="true">
        {segments.map((s, i) => (
          <span key={s}><span className={`bl-swatch bl-c${i + 1}`} />{s}</span>
        ))}
      </div>
      <svg className="bl-chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        <title>{title}</title>
        {rows.map((r, ri) => {
          let x = L;
          const total = r.values.reduce((a, b) => a + b, 0);
          return (
            <g key={r.label} transform={`translate(0, ${ri * RH + 5})`}>
              <text x={L - 8} y={RH / 2 + 4} textAnchor="end">{r.label}</text>
              {r.values.map((v, si) => {
                const w = sx(v);
                const el = v > 0 ? (
                  <g key={si}>
                    <rect className={`bl-c${si + 1}`} x={x} y={3} width={w} height={RH - 8}><title>{`${r.label}, ${segments[si]}: ${format(v)}`}</title></rect>
                    {w > 70 && <text x={x + 4} y={RH / 2 + 4} fill="#fff" style={{ fill: '#fff' }}>{segments[si]}</text>}
                  </g>
                ) : null;
                x += w;
                return el;
              })}
              <text x={x + 6} y={RH / 2 + 4}>{format(total)}</text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}

export const fmtInt = (v: number) => formatNumber(Math.round(v));
