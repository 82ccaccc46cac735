// One invoice as a document: lines, totals, payments applied. Drafts can be adjusted and finalized;
// a finalized invoice is immutable and can only be paid or voided (with a reason). Prints cleanly.
import { useCallback, useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { errorText } from '../../api/client.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import { Banner, Button, ConfirmDialog, Dialog, Form, FormActions, FormError, PageHeader, Spinner, TextField, formatMoney, formatNumber, parseMoney, useFormState, useToast } from '../../ui/index.ts';
import { billingApi, today, type InvoiceDetail } from './billing.api.ts';
import { InvoiceStatus } from './parts.tsx';

export default function InvoiceDetailScreen() {
  const { id = '' } = useParams();
  const canEdit = useCanEdit('invoices');
  const toast = useToast();
  const [inv, setInv] = useState<InvoiceDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [confirmFinalize, setConfirmFinalize] = useState(false);
  const [voiding, setVoiding] = useState(false);
  const [adjusting, setAdjusting] = useState(false);
  const load = useCallback(() => billingApi.invoice(id).then(setInv, (e) => setError(errorText(e))), [id]);
  useEffect(() => {
    void load();
  }, [load]);
  const voidForm = useFormState();
  const adjForm = useFormState();
  const [reason, setReason] = useState('');
  const [adjDesc, setAdjDesc] = useState('');
  const [adjAmount, setAdjAmount] = useState('');
  if (error && !inv) return <div className="page"><Banner>{error}</Banner></div>;
  if (!inv) return <div className="page"><Spinner /></div>;
  const m = (n: number) => formatMoney(n, inv.currency);
  const draft = inv.status === 'draft';
  return (
    <div className="page">
      <PageHeader
        title={inv.number ? `Invoice ${inv.number}` : 'Draft invoice'}
        breadcrumb={screenCrumbs('invoices', { label: inv.number ?? 'Draft' })}
        actions={
          <div className="row bl-noprint">
            <a className="btn btn-secondary" href={`/api/invoices/${inv.id}/print`} target="_blank" rel="noopener">Print view</a>
            <Button onClick={() => window.print()}>Print</Button>
            {canEdit && draft && <Button onClick={() => setAdjusting(true)}>Add adjustment</Button>}
            {canEdit && draft && <Button variant="primary" onClick={() => setConfirmFinalize(true)}>Finalize</Button>}
            {canEdit && inv.status !== 'void' && <Button variant="danger" onClick={() => setVoiding(true)}>Void…</Button>}
          </div>
        }
      />
      {error && <Banner>{error}</Banner>}
      {inv.status === 'void' && <Banner tone="warning">Void: {inv.voidReason}</Banner>}
      <article className="bl-doc" aria-label="Invoice">
        <div className="row" style={{ justifyContent: 'space-between', alignItems: 'flex-start' }}>
          <div>
            <strong>Bill to</strong>
            <div><Link to={`/accounts/${inv.accountId}`}>{inv.billTo.name}</Link> ({inv.billTo.number})</div>
          </div>
          <div>
            <InvoiceStatus status={inv.status} overdue={inv.status === 'finalized' && !!inv.dueDate && inv.dueDate < today()} />
            <div>Period {inv.periodStart} to {inv.periodEnd}</div>
            <div>{inv.issueDate ? `Issued ${inv.issueDate} · due ${inv.dueDate}` : 'Not yet issued'}</div>
          </div>
        </div>
        <table>
          <thead><tr><th>Description</th><th className="bl-num">Quantity</th><th className="bl-num">Amount</th>{canEdit && draft && <th className="bl-noprint" />}</tr></thead>
          <tbody>
            {inv.lines.map((l) => (
              <tr key={l.id}>
                <td>{l.description}{l.periodStart && <div className="muted">{l.periodStart}{l.periodEnd ? ` – ${l.periodEnd}` : ''}</div>}</td>
                <td className="bl-num">{formatNumber(l.quantity)}</td>
                <td className="bl-num">{m(l.amount)}</td>
                {canEdit && draft && <td className="bl-noprint"><Button small variant="ghost" onClick={() => void billingApi.removeLine(inv.id, l.id).then(setInv, (e) => setError(errorText(e)))}>Remove</Button></td>}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr><td /><td className="bl-num">Subtotal</td><td className="bl-num">{m(inv.subtotal)}</td></tr>
            <tr><td /><td className="bl-num">Tax ({inv.taxRate}%)</td><td className="bl-num">{m(inv.tax)}</td></tr>
            <tr className="bl-total"><td /><td className="bl-num">Total</td><td className="bl-num">{m(inv.total)}</td></tr>
            {inv.amountPaid > 0 && <tr><td /><td className="bl-num">Paid</td><td className="bl-num">{m(inv.amountPaid)}</td></tr>}
            {(inv.status === 'finalized' || inv.status === 'paid') && <tr><td /><td className="bl-num">Amount due</td><td className="bl-num">{m(inv.total - inv.amountPaid)}</td></tr>}
          </tfoot>
        </table>
        {inv.memo && <p>{inv.memo}</p>}
        {inv.allocations && inv.allocations.length > 0 && (
          <>
            <h3>Payments and credits applied</h3>
            <ul className="plain">
              {inv.allocations.map((a) => <li key={a.id}>{m(a.amount)} — {a.paymentId ? `payment (${(a.method ?? '').replace('_', ' ')}${a.reference ? `, ${a.reference}` : ''})` : `credit: ${a.reason}`}</li>)}
            </ul>
          </>
        )}
      </article>
      <ConfirmDialog
        open={confirmFinalize}
        danger={false}
        title="Finalize this invoice?"
        message="It gets the next invoice number and can no longer be changed. Any account credit is applied to it."
        confirmLabel="Finalize"
        onClose={() => setConfirmFinalize(false)}
        onConfirm={async () => {
          try {
            setInv(await billingApi.finalize(inv.id));
            toast.success('Invoice finalized');
          } catch (e) {
            setError(errorText(e));
          }
          setConfirmFinalize(false);
        }}
      />
      <Dialog open={voiding} title="Void invoice" onClose={() => setVoiding(false)}>
        <Form onSubmit={() => void voidForm.submit(async () => { setInv(await billingApi.voidInvoice(inv.id, reason)); setVoiding(false); toast.success('Invoice voided'); })}>
          <FormError error={voidForm.error} />
          <TextField label="Reason" value={reason} onChange={setReason} error={voidForm.fields.reason} hint="Shown on the invoice and in the audit log. Payments applied return to the account as credit." />
          <FormActions busy={voidForm.busy} onCancel={() => setVoiding(false)} saveLabel="Void invoice" />
        </Form>
      </Dialog>
      <Dialog open={adjusting} title="Add adjustment" onClose={() => setAdjusting(false)}>
        <Form onSubmit={() => void adjForm.submit(async () => { setInv(await billingApi.addAdjustment(inv.id, adjDesc, parseMoney(adjAmount, inv.currency) ?? NaN)); setAdjusting(false); })}>
          <FormError error={adjForm.error} />
          <TextField label="Description" value={adjDesc} onChange={setAdjDesc} error={adjForm.fields.description} />
          <TextField label={`Amount (${inv.currency})`} value={adjAmount} onChange={setAdjAmount} error={adjForm.fields.amount} hint="Negative for a discount" />
          <FormActions busy={adjForm.busy} onCancel={() => setAdjusting(false)} saveLabel="Add" />
        </Form>
      </Dialog>
    </div>
  );
}
