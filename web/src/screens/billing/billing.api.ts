// The billing screens' view of the admin API (types mirror src/billing/*.service.ts responses).
import { get, patch, post, del, withQuery } from '../../api/client.ts';
import type { Page } from '../../api/types.ts';

type Q = Record<string, string | number | boolean | null | undefined>;

export interface Account {
  id: string; number: string; name: string; contactName: string | null; contactEmail: string | null; contactPhone: string | null;
  addressLine1: string | null; addressLine2: string | null; city: string | null; region: string | null; postalCode: string | null; country: string | null;
  currency: string; paymentTermsDays: number; status: 'active' | 'suspended' | 'closed'; notes: string | null; taxRate: string; version: number;
  /** absent unless the user may read Invoices */
  openBalance?: number;
}
export interface Balance { currency: string; invoiced: number; payments: number; credits: number; balance: number; openReceivables: number; availableCredit: number }
export interface InvoiceSummary { id: string; number: string | null; accountId: string; accountNumber?: string; accountName?: string; periodStart: string; periodEnd: string; currency: string; status: 'draft' | 'finalized' | 'paid' | 'void'; subtotal: number; tax: number; taxRate: string; total: number; amountPaid: number; amountDue: number; issueDate: string | null; dueDate: string | null; memo: string | null; voidReason: string | null; createdAt: string; billRunId: string | null }
export interface InvoiceLine { id: string; kind: string; description: string; quantity: number; periodStart: string | null; periodEnd: string | null; amount: number }
export interface InvoiceDetail extends InvoiceSummary { lines: InvoiceLine[]; /** absent unless the user may read Payments */
  allocations?: { id: string; amount: number; at: string; paymentId: string | null; creditId: string | null; method: string | null; reference: string | null; reason: string | null }[]; billTo: { number: string; name: string } }
/** Sections from other screens are absent unless the user may read them (src/billing/accounts.service.ts, EmbeddedReads). */
export interface AccountOverview {
  account: Account;
  /** Invoices and Payments */
  balance?: Balance;
  /** Invoices */
  openInvoices?: { id: string; number: string | null; status: string; issueDate: string | null; dueDate: string | null; total: number; amountDue: number; periodStart: string; periodEnd: string; currency: string }[];
  subscriptions: { id: string; productId: string; productName: string; productCode: string; quantity: number; startDate: string; endDate: string | null; status: string; version: number }[];
  /** Payments */
  recentPayments?: { id: string; amount: number; currency: string; receivedOn: string; method: string; reference: string | null; unallocated: number }[];
  /** Usage */
  usageLast30Days?: { identifier: string; quantity: number; records: number }[];
  /** Usage */
  recentUsage?: { id: number; identifier: string; quantity: number; occurredAt: string; idempotencyKey: string }[];
}
export interface Tier { upTo: number | null; unitPrice: string; flatFee?: number }
export type Pricing = { model: 'unit'; unitPrice: string } | { model: 'graduated' | 'volume'; tiers: Tier[] };
export interface Charge { id?: string; name: string; kind: 'recurring' | 'one_time' | 'usage'; interval?: 'month' | 'year' | null; amount?: number | null; usageIdentifier?: string | null; pricing?: Pricing | null }
export interface Product { id: string; code: string; name: string; description: string | null; currency: string; status: 'active' | 'archived'; version: number; charges: Charge[] }
export interface UsageRecord { id: number; accountId: string; accountNumber?: string; accountName?: string; identifier: string; quantity: number; occurredAt: string; idempotencyKey: string; uploadId: string | null; createdAt: string }
export interface UploadResult { id: string; fileName: string; totalRows: number; accepted: number; duplicates: number; rejected: number; errors: { line: number; message: string; raw: string }[]; createdAt: string }
export interface UploadSummary { id: string; fileName: string; totalRows: number; accepted: number; duplicates: number; rejected: number; createdBy: string; createdAt: string }
export interface BillRun { id: string; periodStart: string; periodEnd: string; accountId: string | null; status: string; totalAccounts: number; pending: number; billed: number; skipped: number; failed: number; progress: number; createdBy: string; createdAt: string; heartbeatAt: string | null; finishedAt: string | null; error: string | null }
export interface Payment { id: string; accountId: string; accountNumber: string; accountName: string; amount: number; currency: string; receivedOn: string; method: string; reference: string | null; unallocated: number; createdAt: string }
export interface Credit { id: string; accountId: string; accountNumber: string; accountName: string; amount: number; currency: string; reason: string; unallocated: number; createdAt: string }
type Buckets = { current: number; days1to30: number; days31to60: number; days61to90: number; days90plus: number; total: number };
export interface Aging { asOf: string; buckets: { key: keyof Omit<Buckets, 'total'>; label: string }[]; items: ({ accountId: string; accountNumber: string; accountName: string; currency: string } & Buckets)[]; totals: ({ currency: string } & Buckets)[] }
export interface Revenue { from: string; to: string; series: { currency: string; months: { month: string; invoiced: number; tax: number; invoices: number; collected: number }[] }[] }
export interface UsageReport { from: string; to: string; products: { identifier: string; productName: string; productCode: string | null; months: { month: string; quantity: number; records: number }[] }[] }
export interface Home {
  asOf: string; openReceivables: { currency: string; amount: number; count: number }[];
  invoicesThisMonth: { count: number; byCurrency: { currency: string; amount: number; count: number }[] };
  overdue: { count: number; byCurrency: { currency: string; amount: number; count: number }[] };
  draftInvoices: number; failedUsageRows: { rows: number; uploads: number; since: string };
  runningBillRuns: { id: string; periodStart: string; periodEnd: string; totalAccounts: number; billed: number }[];
}

export const billingApi = {
  home: () => get<Home>('/api/home'),
  accounts: (q: Q, signal?: AbortSignal) => get<Page<Account>>('/api/accounts', q, signal),
  account: (id: string) => get<AccountOverview>(`/api/accounts/${encodeURIComponent(id)}`),
  createAccount: (body: Partial<Account>) => post<Account>('/api/accounts', body),
  updateAccount: (id: string, body: Partial<Account>) => patch<Account>(`/api/accounts/${encodeURIComponent(id)}`, body),
  subscribe: (body: { accountId: string; productId: string; quantity: number; startDate: string; endDate?: string | null }) => post('/api/subscriptions', body),
  updateSubscription: (id: string, body: { quantity?: number; version?: number }) => patch(`/api/subscriptions/${encodeURIComponent(id)}`, body),
  cancelSubscription: (id: string, endDate: string) => post(`/api/subscriptions/${encodeURIComponent(id)}/cancel`, { endDate }),
  products: (q: Q, signal?: AbortSignal) => get<Page<Product>>('/api/products', q, signal),
  createProduct: (body: Omit<Product, 'id' | 'version' | 'status'>) => post<Product>('/api/products', body),
  updateProduct: (id: string, body: Partial<Product>) => patch<Product>(`/api/products/${encodeURIComponent(id)}`, body),
  usage: (q: Q, signal?: AbortSignal) => get<Page<UsageRecord>>('/api/usage', q, signal),
  uploads: (q: Q, signal?: AbortSignal) => get<Page<UploadSummary>>('/api/usage/uploads', q, signal),
  upload: (id: string) => get<UploadResult>(`/api/usage/uploads/${encodeURIComponent(id)}`),
  billRuns: (q: Q) => get<Page<BillRun>>('/api/bill-runs', q),
  billRun: (id: string) => get<BillRun>(`/api/bill-runs/${encodeURIComponent(id)}`),
  resumeBillRun: (id: string) => post<BillRun>(`/api/bill-runs/${encodeURIComponent(id)}/resume`, {}),
  startBillRun: (body: { periodStart: string; periodEnd: string; accountId?: string | null }) => post<BillRun>('/api/bill-runs', body),
  invoices: (q: Q, signal?: AbortSignal) => get<Page<InvoiceSummary>>('/api/invoices', q, signal),
  invoice: (id: string) => get<InvoiceDetail>(`/api/invoices/${encodeURIComponent(id)}`),
  finalize: (id: string) => post<InvoiceDetail>(`/api/invoices/${encodeURIComponent(id)}/finalize`, {}),
  voidInvoice: (id: string, reason: string) => post<InvoiceDetail>(`/api/invoices/${encodeURIComponent(id)}/void`, { reason }),
  updateInvoice: (id: string, memo: string | null) => patch<InvoiceDetail>(`/api/invoices/${encodeURIComponent(id)}`, { memo }),
  addAdjustment: (id: string, description: string, amount: number) => post<InvoiceDetail>(`/api/invoices/${encodeURIComponent(id)}/lines`, { description, amount }),
  removeLine: (id: string, lineId: string) => del<InvoiceDetail>(`/api/invoices/${encodeURIComponent(id)}/lines/${encodeURIComponent(lineId)}`),
  payments: (q: Q, signal?: AbortSignal) => get<Page<Payment>>('/api/payments', q, signal),
  recordPayment: (body: { accountId: string; amount: number; currency: string; receivedOn?: string; method: string; reference?: string | null }) => post<Payment>('/api/payments', body),
  credits: (q: Q, signal?: AbortSignal) => get<Page<Credit>>('/api/credits', q, signal),
  issueCredit: (body: { accountId: string; amount: number; currency: string; reason: string }) => post<Credit>('/api/credits', body),
  aging: (q: Q = {}) => get<Aging>('/api/reports/aging', q),
  revenue: (q: Q = {}) => get<Revenue>('/api/reports/revenue', q),
  usageReport: (q: Q = {}) => get<UsageReport>('/api/reports/usage', q),
  csvUrl: (report: 'aging' | 'revenue' | 'usage', q: Q = {}) => withQuery(`/api/reports/${report}`, { ...q, format: 'csv' }),
};

/** CSV upload with upload progress (fetch cannot report it): resolves with the server's answer. */
export function uploadUsageCsv(file: File, csrfToken: string | null, onProgress: (fraction: number) => void): Promise<UploadResult> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', withQuery('/api/usage/uploads', { fileName: file.name }));
    xhr.setRequestHeader('content-type', 'text/csv');
    xhr.setRequestHeader('x-ledgerline-client', 'ui');
    if (csrfToken) xhr.setRequestHeader('x-csrf-token', csrfToken);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let body: any = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        /* not JSON */
      }
      if (xhr.status === 201) resolve(body as UploadResult);
      else reject(new Error(body?.error ? `${body.error.message}${body.error.fields?.file ? ` — ${body.error.fields.file}` : ''}` : `Upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new Error('The server could not be reached.'));
    xhr.send(file);
  });
}

export const today = () => new Date().toISOString().slice(0, 10);
export function monthStart(d = today()) {
  return d.slice(0, 8) + '01';
}
export function nextMonth(d: string) {
  const [y, m] = d.split('-').map(Number);
  return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
}
export function prevMonth(d: string) {
  const [y, m] = d.split('-').map(Number);
  return m === 1 ? `${y - 1}-12-01` : `${y}-${String(m - 1).padStart(2, '0')}-01`;
}
