// Setup › Users & Accounts › SAML Settings: three stacked panels (UI.md).
//  1. Values for your identity provider — what to paste into Okta / Entra, each with Copy.
//  2. Identity provider — Entity ID, metadata URL or pasted XML, Test Settings checklist, what was
//     parsed (SSO URL, certificates with expiry), Enabled, options.
//  3. SCIM Access Token — Get / Refresh (with a grace period) / Clear, each new token with an optional
//     name, and the table of working tokens, each with Revoke.
// Read Only users see every value; they cannot change, test (it fetches a URL) or refresh anything.
import { useCallback, useEffect, useState, type ChangeEvent } from 'react';
import { errorText } from '../../api/client.ts';
import { useCanEdit } from '../../auth/session.tsx';
import { screenCrumbs } from '../../shell/nav.ts';
import {
  Badge,
  Banner,
  Button,
  ConfirmDialog,
  CopyBox,
  DateTime,
  Dialog,
  EmptyState,
  Field,
  FieldErrors,
  Form,
  FormActions,
  FormError,
  PageHeader,
  SelectField,
  Spinner,
  Table,
  TextField,
  UnsavedGuard,
  useFormState,
  useToast,
  type BadgeTone,
  type Column,
} from '../../ui/index.ts';
import { samlApi, scimTokensApi, type ScimTokenItem, type SettingsView, type TestItem } from './samlApi.ts';

export default function SamlSettingsScreen() {
  const [view, setView] = useState<SettingsView | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const load = useCallback(() => {
    samlApi.get().then(setView, (e) => setLoadError(errorText(e)));
  }, []);
  useEffect(load, [load]);

  return (
    <div className="page">
      <PageHeader title="SAML Settings" breadcrumb={screenCrumbs('saml-settings')} />
      {loadError && <Banner>{loadError}</Banner>}
      {!view && !loadError && <Spinner />}
      {view && (
        <>
          <SpValuesPanel view={view} />
          <IdentityProviderPanel view={view} onSaved={setView} />
          <ScimTokenPanel scimBaseUrl={view.sp.scimBaseUrl} />
        </>
      )}
    </div>
  );
}

function SpValuesPanel({ view }: { view: SettingsView }) {
  return (
    <section className="section" aria-labelledby="sp-values">
      <h2 id="sp-values">Values for your identity provider</h2>
      <p className="muted">
        Paste these into the SAML app of your identity provider (in Okta: General › SAML Settings; the SCIM URL goes on the Provisioning tab). Single Logout URL: Okta’s Single Logout
        URL, Entra ID’s Logout Url. Sign on URL: Entra ID’s Sign on URL, optional.
      </p>
      <div className="grid-2">
        <CopyBox label="Single sign-on URL" value={view.sp.acsUrl} />
        <CopyBox label="Audience URI (SP Entity ID)" value={view.sp.entityId} />
        <CopyBox label="SP metadata URL" value={view.sp.metadataUrl} />
        <CopyBox label="SCIM connector base URL" value={view.sp.scimBaseUrl} />
        <CopyBox label="Single Logout URL" value={view.sp.logoutUrl} />
        <CopyBox label="Sign on URL" value={view.sp.loginUrl} />
      </div>
    </section>
  );
}

const CERT_TONE: Record<string, BadgeTone> = { valid: 'green', expiring: 'amber', expired: 'red', not_yet_valid: 'amber' };
const CERT_LABEL: Record<string, string> = { valid: 'Valid', expiring: 'Expires soon', expired: 'Expired', not_yet_valid: 'Not yet valid' };

type Source = 'url' | 'xml';

interface Draft {
  idpEntityId: string;
  source: Source;
  metadataUrl: string;
  metadataXml: string;
  enabled: boolean;
  allowIdpInitiated: boolean;
  jitProvisioning: boolean;
  signRequests: boolean;
  userNameFrom: 'nameId' | 'attribute';
  userNameAttribute: string;
  clockSkewSeconds: string;
}

function draftOf(v: SettingsView): Draft {
  return {
    idpEntityId: v.idpEntityId ?? '',
    source: v.metadataSource === 'xml' ? 'xml' : 'url',
    metadataUrl: v.metadataUrl ?? '',
    metadataXml: '',
    enabled: v.enabled,
    allowIdpInitiated: v.allowIdpInitiated,
    jitProvisioning: v.jitProvisioning,
    signRequests: v.signRequests,
    userNameFrom: v.userNameSource === 'nameId' ? 'nameId' : 'attribute',
    userNameAttribute: v.userNameSource === 'nameId' ? '' : v.userNameSource,
    clockSkewSeconds: String(v.clockSkewSeconds),
  };
}

/** The fields Test Settings reads. */
const TESTED: readonly (keyof Draft)[] = ['idpEntityId', 'source', 'metadataUrl', 'metadataXml'];

function IdentityProviderPanel({ view, onSaved }: { view: SettingsView; onSaved: (v: SettingsView) => void }) {
  const canEdit = useCanEdit('saml-settings');
  const toast = useToast();
  const form = useFormState();
  const [draft, setDraft] = useState<Draft>(() => draftOf(view));
  const [saved, setSaved] = useState<Draft>(() => draftOf(view));
  const [checks, setChecks] = useState<{ ok: boolean; checks: TestItem[] } | null>(null);
  const [testing, setTesting] = useState(false);
  const [refreshing, setRefreshing] = useState(false);
  const dirty = JSON.stringify(draft) !== JSON.stringify(saved);
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setDraft((d) => ({ ...d, [k]: v }));
    form.clearField(k);
    // A checklist describes the Entity ID and metadata it tested: once they change it no longer holds.
    if (TESTED.includes(k)) setChecks(null);
  };

  const metadataBody = () =>
    draft.source === 'url' ? { metadataUrl: draft.metadataUrl.trim() || null } : draft.metadataXml.trim() ? { metadataXml: draft.metadataXml } : {};

  const save = () =>
    form.submit(async () => {
      const skew = Number(draft.clockSkewSeconds);
      const next = await samlApi.save({
        idpEntityId: draft.idpEntityId.trim() || null,
        ...metadataBody(),
        enabled: draft.enabled,
        allowIdpInitiated: draft.allowIdpInitiated,
        jitProvisioning: draft.jitProvisioning,
        // Sent only when changed, so an untouched setting keeps following the IdP metadata.
        ...(draft.signRequests !== saved.signRequests ? { signRequests: draft.signRequests } : {}),
        userNameSource: draft.userNameFrom === 'nameId' ? 'nameId' : draft.userNameAttribute.trim(),
        clockSkewSeconds: Number.isInteger(skew) ? skew : -1,
      });
      const d = draftOf(next);
      setDraft(d);
      setSaved(d);
      onSaved(next);
      toast.success(next.enabled ? 'SAML settings saved. Single sign-on is enabled.' : 'SAML settings saved.');
    });

  const test = async () => {
    setTesting(true);
    setChecks(null); // a test that fails to run must not leave the last one's results on show
    try {
      setChecks(await samlApi.test({ idpEntityId: draft.idpEntityId.trim() || null, ...metadataBody() }));
    } catch (e) {
      toast.error(errorText(e));
    } finally {
      setTesting(false);
    }
  };

  const refresh = async () => {
    setRefreshing(true);
    try {
      const r = await samlApi.refresh();
      onSaved(r.settings);
      if (r.refreshed) toast.success('Metadata refreshed from the identity provider.');
      else toast.error(`Metadata refresh failed: ${r.error}. The last good certificates stay in use.`);
    } catch (e) {
      toast.error(errorText(e));
    } finally {
      setRefreshing(false);
    }
  };

  const onFile = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (file) set('metadataXml', await file.text());
  };

  return (
    <section className="section" aria-labelledby="idp-config">
      <div className="section-head">
        <h2 id="idp-config">Identity provider</h2>
        <Badge tone={view.enabled ? 'green' : 'neutral'}>{view.enabled ? 'SSO enabled' : 'SSO disabled'}</Badge>
      </div>
      {view.warnings.map((w) => (
        <Banner key={w} tone="warning">
          {w}
        </Banner>
      ))}
      <Form onSubmit={save}>
        <UnsavedGuard dirty={canEdit && dirty} />
        <FormError error={form.error} />
        <div className="grid-2">
          <TextField
            label="Entity ID"
            value={draft.idpEntityId}
            onChange={(v) => set('idpEntityId', v)}
            error={form.fields.idpEntityId}
            hint="The entityID on the first line of the IdP metadata, e.g. http://www.okta.com/exk…"
            readOnlyView={!canEdit}
            spellCheck={false}
          />
          <fieldset className="fieldset">
            <legend className="field-label">Metadata</legend>
            <div className="row">
              <label className="checkbox">
                <input type="radio" name="metadata-source" checked={draft.source === 'url'} onChange={() => set('source', 'url')} disabled={!canEdit} /> Provider Metadata URL
              </label>
              <label className="checkbox">
                <input type="radio" name="metadata-source" checked={draft.source === 'xml'} onChange={() => set('source', 'xml')} disabled={!canEdit} /> Paste or upload metadata XML
              </label>
            </div>
          </fieldset>
        </div>
        {draft.source === 'url' ? (
          <TextField
            label="Provider Metadata URL"
            value={draft.metadataUrl}
            onChange={(v) => set('metadataUrl', v)}
            error={form.fields.metadataUrl}
            hint="In Okta: Sign On › SAML Signing Certificates › the SHA-2 certificate › Actions › View IdP metadata; copy that page's URL. Refreshed daily."
            readOnlyView={!canEdit}
            type="url"
            spellCheck={false}
          />
        ) : (
          <Field label="Metadata XML" error={form.fields.metadataXml} hint={view.metadataSource === 'xml' ? 'Metadata pasted earlier is in use; paste again to replace it.' : 'For servers that cannot reach the identity provider.'}>
            {(id, describedBy) => (
              <div className="stack">
                <textarea
                  id={id}
                  className="input mono"
                  rows={6}
                  value={draft.metadataXml}
                  onChange={(e) => set('metadataXml', e.target.value)}
                  aria-describedby={describedBy}
                  readOnly={!canEdit}
                  spellCheck={false}
                  placeholder="<md:EntityDescriptor …>"
                />
                {canEdit && <input type="file" accept=".xml,application/xml,text/xml" onChange={onFile} aria-label="Upload metadata XML file" />}
              </div>
            )}
          </Field>
        )}

        <div className="row">
          {canEdit && (
            <Button onClick={test} busy={testing}>
              {testing ? 'Testing…' : 'Test Settings'}
            </Button>
          )}
          {canEdit && view.metadataUrl && (
            <Button onClick={refresh} busy={refreshing}>
              Refresh metadata now
            </Button>
          )}
          {view.lastRefreshAt && (
            <span className="muted">
              Metadata last read <DateTime value={view.lastRefreshAt} />
            </span>
          )}
        </div>
        {checks && <TestChecklist result={checks} />}

        <ParsedMetadata view={view} />

        <fieldset className="fieldset stack">
          <legend className="field-label">Options</legend>
          <label className="checkbox">
            <input type="checkbox" role="switch" checked={draft.enabled} onChange={(e) => set('enabled', e.target.checked)} disabled={!canEdit} aria-describedby="enabled-hint" />
            <strong>Enabled</strong>
          </label>
          <div id="enabled-hint" className="field-hint">
            When on, the sign-in page shows “Log in with SSO”. It cannot be turned on without a valid signing certificate.
          </div>
          {form.fields.enabled && (
            <div className="field-error" role="alert">
              {form.fields.enabled}
            </div>
          )}
          <label className="checkbox">
            <input type="checkbox" checked={draft.allowIdpInitiated} onChange={(e) => set('allowIdpInitiated', e.target.checked)} disabled={!canEdit} />
            Allow IdP-initiated sign-in (the app tile on the Okta dashboard); each response is accepted once
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={draft.jitProvisioning} onChange={(e) => set('jitProvisioning', e.target.checked)} disabled={!canEdit} />
            Create unknown users just in time from the assertion (leave off when SCIM provisions users)
          </label>
          <label className="checkbox">
            <input type="checkbox" checked={draft.signRequests} onChange={(e) => set('signRequests', e.target.checked)} disabled={!canEdit} aria-describedby="sign-requests-hint" />
            Sign AuthnRequests and LogoutRequests (RSA-SHA256)
          </label>
          <div id="sign-requests-hint" className="field-hint">
            Needed for Okta Single Logout. Give the IdP the SP certificate first: it is in the SP metadata, or{' '}
            <a href="/AuthorizationServer/Saml2/Certificate" download>
              download the SP certificate
            </a>
            {view.spCertificate ? ` (${view.spCertificate.subject}, valid until ${view.spCertificate.notAfter.slice(0, 10)})` : ''}. The same
            certificate is the encryption certificate for Okta’s Assertion Encryption or Entra ID’s token encryption.{' '}
            {view.signRequestsSource === 'metadata'
              ? view.idpWantsSignedRequests
                ? 'On because the IdP metadata asks for signed requests.'
                : 'Off because the IdP metadata does not ask for signed requests.'
              : ''}
          </div>
        </fieldset>
        <div className="grid-3">
          <SelectField
            label="Match users by"
            value={draft.userNameFrom}
            options={[
              { value: 'nameId', label: 'NameID (Okta application username)' },
              { value: 'attribute', label: 'An assertion attribute' },
            ]}
            onChange={(v) => set('userNameFrom', v as Draft['userNameFrom'])}
            readOnlyView={!canEdit}
            error={draft.userNameFrom === 'nameId' ? form.fields.userNameSource : undefined}
          />
          {draft.userNameFrom === 'attribute' && (
            <TextField label="Attribute name" value={draft.userNameAttribute} onChange={(v) => set('userNameAttribute', v)} error={form.fields.userNameSource} readOnlyView={!canEdit} hint="Its value must equal the SCIM userName." />
          )}
          <TextField
            label="Clock skew (seconds)"
            value={draft.clockSkewSeconds}
            onChange={(v) => set('clockSkewSeconds', v)}
            error={form.fields.clockSkewSeconds}
            readOnlyView={!canEdit}
            type="number"
            min={0}
            max={300}
            hint="Tolerance for clock differences with the IdP: 60 by default, 300 at most."
          />
        </div>
        {canEdit && <FormActions busy={form.busy} dirty={dirty} onCancel={dirty ? () => setDraft(saved) : undefined} />}
      </Form>
    </section>
  );
}

function TestChecklist({ result }: { result: { ok: boolean; checks: TestItem[] } }) {
  return (
    <div className="stack" aria-live="polite">
      <Banner tone={result.ok ? 'success' : 'error'}>{result.ok ? 'Every check passed.' : 'Some checks failed; see below.'}</Banner>
      <ul className="stack" aria-label="Test Settings results">
        {result.checks.map((c) => (
          <li key={c.key}>
            <Badge tone={c.ok ? 'green' : 'red'}>{c.ok ? 'Pass' : 'Fail'}</Badge> <strong>{c.label}</strong> — {c.message}
          </li>
        ))}
      </ul>
    </div>
  );
}

function ParsedMetadata({ view }: { view: SettingsView }) {
  const m = view.metadata;
  if (!m) return <EmptyState title="No IdP metadata loaded yet">Enter the Provider Metadata URL (or paste the XML) and save.</EmptyState>;
  const columns: Column<(typeof m.certificates)[number]>[] = [
    { key: 'subject', header: 'Signing certificate', render: (c) => <span className="mono">{c.subject}</span> },
    { key: 'from', header: 'Valid from', render: (c) => <DateTime value={c.notBefore} dateOnly /> },
    { key: 'to', header: 'Expires', render: (c) => <DateTime value={c.notAfter} dateOnly /> },
    { key: 'state', header: 'State', render: (c) => <Badge tone={CERT_TONE[c.state]}>{c.state === 'expiring' ? `Expires in ${c.daysLeft} days` : CERT_LABEL[c.state]}</Badge> },
  ];
  return (
    <div className="stack">
      <dl className="kv">
        <dt>IdP entity ID</dt>
        <dd className="mono">{m.entityId}</dd>
        <dt>Sign-on URL</dt>
        <dd className="mono">{m.ssoUrl}</dd>
        <dt>Single logout</dt>
        <dd className="mono">{m.sloUrl ?? 'Not offered by the IdP'}</dd>
      </dl>
      <Table columns={columns} rows={m.certificates} rowKey={(c) => c.fingerprint256} caption="IdP signing certificates" dense />
    </div>
  );
}

/** The panel's dialogs: one open at a time. */
type TokenDialog = { kind: 'create' } | { kind: 'refresh' } | { kind: 'clear' } | { kind: 'revoke'; token: ScimTokenItem } | null;

function ScimTokenPanel({ scimBaseUrl }: { scimBaseUrl: string }) {
  const canEdit = useCanEdit('saml-settings');
  const toast = useToast();
  const [items, setItems] = useState<ScimTokenItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  // The token just issued, shown once; its id so that revoking it also takes it off the screen.
  const [fresh, setFresh] = useState<{ token: string; id: string } | null>(null);
  const [dialog, setDialog] = useState<TokenDialog>(null);
  const close = () => setDialog(null);
  // Revoked and expired tokens no longer work: the table, the empty state and the buttons follow the working ones.
  const load = useCallback(() => {
    scimTokensApi.list().then((r) => setItems(r.items.filter((t) => t.state === 'active' || t.state === 'expiring')), (e) => setError(errorText(e)));
  }, []);
  useEffect(load, [load]);

  const issued = (r: { token: string; item: ScimTokenItem }, done: string) => {
    setDialog(null);
    setFresh({ token: r.token, id: r.item.id });
    toast.success(done);
    load();
  };
  /** Revoke and Clear: the dialog closes either way, a refusal is a toast. */
  const end = async (fn: () => Promise<unknown>, done: string, keepFresh: (id: string) => boolean) => {
    try {
      await fn();
      toast.success(done);
      setFresh((f) => (f && keepFresh(f.id) ? f : null));
    } catch (e) {
      toast.error(errorText(e));
    }
    setDialog(null);
    load();
  };

  const columns: Column<ScimTokenItem>[] = [
    { key: 'name', header: 'Name', render: (t) => t.name },
    { key: 'created', header: 'Created', render: (t) => <DateTime value={t.createdAt} /> },
    { key: 'used', header: 'Last used', render: (t) => (t.lastUsedAt ? <DateTime value={t.lastUsedAt} /> : <span className="muted">Never</span>) },
    // Only a token being replaced (in a refresh's grace period) has an end.
    { key: 'expires', header: 'Expires', render: (t) => (t.expiresAt ? <DateTime value={t.expiresAt} /> : <span className="muted">—</span>) },
    ...(canEdit
      ? [
          {
            key: 'revoke',
            header: <span className="visually-hidden">Actions</span>,
            render: (t: ScimTokenItem) => (
              <Button small onClick={() => setDialog({ kind: 'revoke', token: t })} aria-label={`Revoke ${t.name}`}>
                Revoke…
              </Button>
            ),
          },
        ]
      : []),
  ];

  return (
    <section className="section" aria-labelledby="scim-token">
      <div className="section-head">
        <h2 id="scim-token">SCIM Access Token</h2>
        {canEdit && (
          <div className="row">
            <Button variant="primary" onClick={() => setDialog({ kind: 'create' })}>
              Get Token
            </Button>
            <Button disabled={!items?.length} onClick={() => setDialog({ kind: 'refresh' })}>
              Refresh Token
            </Button>
            <Button variant="danger" disabled={!items?.length} onClick={() => setDialog({ kind: 'clear' })}>
              Clear Token
            </Button>
          </div>
        )}
      </div>
      <p className="muted">
        The identity provider sends this token as a bearer token to <span className="mono">{scimBaseUrl}</span> (in Okta: Provisioning › Integration › Authentication Mode “HTTP Header”).
      </p>
      {fresh && <CopyBox label="New SCIM access token" value={fresh.token} secret warning="Copy it now: it is shown only once. Paste it into your identity provider." />}
      {error && <Banner>{error}</Banner>}
      {!items && !error && <Spinner />}
      {items && items.length === 0 && <EmptyState title="No SCIM access token">Get a token and paste it into your identity provider to start provisioning.</EmptyState>}
      {items && items.length > 0 && <Table columns={columns} rows={items} rowKey={(t) => t.id} caption="SCIM access tokens" />}

      {/* Mounted only while open, so each opening starts with an empty name and no errors. */}
      {(dialog?.kind === 'create' || dialog?.kind === 'refresh') && <NewTokenDialog refresh={dialog.kind === 'refresh'} onClose={close} onIssued={issued} />}
      <ConfirmDialog
        open={dialog?.kind === 'clear'}
        title="Clear every SCIM access token?"
        message="Every SCIM access token stops working at once. Provisioning from your identity provider fails until you get a new token and paste it there."
        confirmLabel="Clear Token"
        onConfirm={() => end(() => scimTokensApi.clear(), 'SCIM access tokens cleared.', () => false)}
        onClose={close}
      />
      {dialog?.kind === 'revoke' && (
        <ConfirmDialog
          open
          title={`Revoke SCIM access token “${dialog.token.name}”?`}
          message={revokeMessage(items?.length ?? 0)}
          confirmLabel="Revoke token"
          onConfirm={() => end(() => scimTokensApi.revoke(dialog.token.id), `SCIM access token “${dialog.token.name}” revoked.`, (id) => id !== dialog.token.id)}
          onClose={close}
        />
      )}
    </section>
  );
}

/** What revoking one of `working` tokens does; the last one ends provisioning until a new token is entered. */
function revokeMessage(working: number): string {
  const now = 'Your identity provider stops provisioning with it at once.';
  if (working > 1) return `${now} The other ${working === 2 ? 'token keeps' : 'tokens keep'} working.`;
  return `${now} It is the only working token: provisioning stops until you get a new one and paste it into your identity provider.`;
}

/**
 * Get Token and Refresh Token: an optional name (the server's default, "SCIM access token", when
 * empty) and, for a refresh, how long the older tokens keep working. The server's refusals (a name
 * over 100 characters) show under their field.
 */
function NewTokenDialog({ refresh, onClose, onIssued }: { refresh: boolean; onClose: () => void; onIssued: (r: { token: string; item: ScimTokenItem }, done: string) => void }) {
  const form = useFormState();
  const [name, setName] = useState('');
  const [graceHours, setGraceHours] = useState('24');
  const grace = Number(graceHours);
  // An emptied field is not 0 hours: that would cut the other tokens off at once.
  const graceOk = graceHours.trim() !== '' && Number.isFinite(grace) && grace >= 0 && grace <= 720;

  const submit = () =>
    void form.submit(async () => {
      if (!refresh) {
        const r = await scimTokensApi.create(name);
        return onIssued(r, `SCIM access token “${r.item.name}” created.`);
      }
      if (!graceOk) throw new FieldErrors({ graceHours: 'Enter 0 to 720 hours.' });
      const r = await scimTokensApi.refresh(grace, name);
      onIssued(r, `SCIM access token “${r.item.name}” created; ${grace === 0 ? 'the older tokens stopped working.' : `the older tokens keep working for ${grace} hours.`}`);
    });

  return (
    <Dialog open title={refresh ? 'Refresh the SCIM access token' : 'Get a SCIM access token'} onClose={onClose}>
      <Form onSubmit={submit}>
        {refresh && <p>A new token is created. The current token keeps working for the grace period, so you can update the identity provider without an outage.</p>}
        <FormError error={form.error} />
        <TextField
          label="Name (optional)"
          placeholder="Okta production"
          value={name}
          onChange={(v) => {
            setName(v);
            form.clearField('name');
          }}
          error={form.fields.name}
          hint="Tells the tokens apart in the table and the audit log. Left empty, it is “SCIM access token”."
          autoFocus
        />
        {refresh && (
          <TextField
            label="Grace period (hours)"
            type="number"
            min={0}
            max={720}
            value={graceHours}
            onChange={(v) => {
              setGraceHours(v);
              form.clearField('graceHours');
            }}
            error={form.fields.graceHours ?? (graceOk ? undefined : 'Enter 0 to 720 hours.')}
          />
        )}
        <FormActions busy={form.busy} onCancel={onClose} saveLabel={refresh ? 'Refresh Token' : 'Get Token'} dirty={!refresh || graceOk} />
      </Form>
    </Dialog>
  );
}
