// The print-friendly invoice page: plain HTML with a same-origin stylesheet (the CSP forbids inline
// styles), everything escaped. Browsers print it to PDF; no PDF library needed.
import { formatMoney } from './money.ts';
import type { InvoiceDetail } from './invoices.service.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export const PRINT_CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#111;margin:2.5rem auto;max-width:48rem;padding:0 1rem}
header{display:flex;justify-content:space-between;align-items:flex-start;border-bottom:2px solid #111;padding-bottom:1rem;margin-bottom:1.5rem}
h1{font-size:1.6rem;margin:0}.muted{color:#555}.status{display:inline-block;border:1px solid #555;padding:.1rem .5rem;border-radius:3px;text-transform:uppercase;font-size:.75rem;letter-spacing:.05em}
.void{color:#a00;border-color:#a00}.cols{display:flex;gap:3rem;margin-bottom:1.5rem}
table{width:100%;border-collapse:collapse}th,td{padding:.45rem .3rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;color:#555}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tfoot td{border:none}tfoot tr.total td{font-weight:700;border-top:2px solid #111}
footer{margin-top:2rem;color:#555;font-size:.85rem}
@media print{body{margin:0;max-width:none}a{color:inherit;text-decoration:none}.noprint{display:none}}
`;

export function invoiceHtml(inv: InvoiceDetail, seller = 'Ledgerline'): string {
  const m = (n: number) => esc(formatMoney(n, inv.currency));
  const title = inv.number ? `Invoice ${inv.number}` : 'Draft invoice';
  const b = inv.billTo;
  const address = [b.addressLine1, b.addressLine2, [b.postalCode, b.city].filter(Boolean).join(' '), b.region, b.country].filter(Boolean).map(esc).join('<br>');
  const lines = inv.lines
    .map((l) => `<tr><td>${esc(l.description)}${l.periodStart ? `<div class="muted">${esc(l.periodStart)}${l.periodEnd ? ` – ${esc(l.periodEnd)}` : ''}</div>` : ''}</td><td class="num">${esc(l.quantity.toLocaleString('en-US'))}</td><td class="num">${m(l.amount)}</td></tr>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title><link rel="stylesheet" href="/api/invoices/print.css"></head><body>
<header><div><h1>${esc(title)}</h1><div class="muted">${esc(seller)}</div></div><div><span class="status ${inv.status === 'void' ? 'void' : ''}">${esc(inv.status)}</span></div></header>
<div class="cols"><div><strong>Bill to</strong><br>${esc(b.name)} (${esc(b.number)})${b.contactName ? `<br>Attn: ${esc(b.contactName)}` : ''}${address ? `<br>${address}` : ''}</div>
<div><strong>Service period</strong><br>${esc(inv.periodStart)} to ${esc(inv.periodEnd)}<br>${inv.issueDate ? `<strong>Issued</strong> ${esc(inv.issueDate)}<br><strong>Due</strong> ${esc(inv.dueDate)}` : 'Not yet issued'}</div></div>
<table><thead><tr><th>Description</th><th class="num">Quantity</th><th class="num">Amount</th></tr></thead><tbody>${lines}</tbody>
<tfoot><tr><td></td><td class="num">Subtotal</td><td class="num">${m(inv.subtotal)}</td></tr><tr><td></td><td class="num">Tax (${esc(inv.taxRate)}%)</td><td class="num">${m(inv.tax)}</td></tr>
<tr class="total"><td></td><td class="num">Total ${esc(inv.currency)}</td><td class="num">${m(inv.total)}</td></tr>
${inv.amountPaid ? `<tr><td></td><td class="num">Paid</td><td class="num">${m(inv.amountPaid)}</td></tr><tr><td></td><td class="num">Amount due</td><td class="num">${m(inv.total - inv.amountPaid)}</td></tr>` : ''}</tfoot></table>
${inv.status === 'void' ? `<p class="void"><strong>Void:</strong> ${esc(inv.voidReason)}</p>` : ''}${inv.memo ? `<p>${esc(inv.memo)}</p>` : ''}
<footer>Amounts in ${esc(inv.currency)}. Please quote ${esc(inv.number ?? 'the invoice number')} with your payment.</footer>
</body></html>`;
}
