// `ledgerline saml …`: configure the IdP from its metadata and show the SP/IdP state, on either
// database, with the same rules as the SAML Settings screen (it calls the same service).
import fs from 'node:fs';
import type { CliContext } from '../cli.ts';
import { cliActor } from '../platform/actor.ts';
import { AppError } from '../platform/errors.ts';
import { sayPublicUrlNote } from '../platform/public-url.ts';
import { getSettingsView, refreshMetadata, updateSettings, type SettingsInput, type SettingsView } from './saml.settings.service.ts';

const USAGE = `usage:
  ledgerline saml set-idp [--metadata FILE_OR_URL] [--entity-id ID] [--enable | --disable] [--sign-requests on|off|auto]
  ledgerline saml show [--json]
  ledgerline saml refresh [--json]

  --sign-requests  sign AuthnRequests and LogoutRequests (on), not (off), or as the IdP metadata's
                   WantAuthnRequestsSigned asks (auto, the default)`;

/** --sign-requests: on / off, or auto (null: follow the IdP metadata). */
const SIGN_REQUESTS: Record<string, boolean | null> = { on: true, off: false, auto: null };

function option(args: string[], name: string): string | undefined | null {
  const i = args.indexOf(name);
  if (i < 0) return undefined;
  const v = args[i + 1];
  return v && !v.startsWith('--') ? v : null;
}

function describe(v: SettingsView): string {
  const lines = [
    'Values for your identity provider:',
    `  Single sign-on URL (ACS):   ${v.sp.acsUrl}`,
    `  Audience URI (SP Entity ID): ${v.sp.entityId}`,
    `  SP metadata URL:            ${v.sp.metadataUrl}`,
    `  SCIM connector base URL:    ${v.sp.scimBaseUrl}`,
    '',
    `Single sign-on: ${v.enabled ? 'enabled' : 'disabled'}`,
    `  IdP entity ID:   ${v.idpEntityId ?? '(not set)'}`,
    `  Metadata:        ${v.metadataUrl ?? (v.metadataSource === 'xml' ? '(pasted XML)' : '(not set)')}`,
  ];
  if (v.metadata) {
    lines.push(`  IdP sign-on URL: ${v.metadata.ssoUrl}`, `  Single logout:   ${v.metadata.sloUrl ?? '(not offered)'}`);
    for (const c of v.metadata.certificates) lines.push(`  Certificate:     ${c.subject}, valid until ${c.notAfter} (${c.state})`);
  }
  lines.push(`  IdP-initiated sign-in: ${v.allowIdpInitiated ? 'allowed' : 'off'}; just-in-time users: ${v.jitProvisioning ? 'on' : 'off'}; user name from: ${v.userNameSource}; clock skew: ${v.clockSkewSeconds} s`);
  lines.push(
    `  Signed requests: ${v.signRequests ? 'on' : 'off'} (${v.signRequestsSource === 'admin' ? 'set by an administrator' : v.idpWantsSignedRequests ? 'the IdP metadata asks for them' : 'the IdP metadata does not ask for them'})`,
  );
  if (v.spCertificate) lines.push(`  SP certificate (signs requests; the IdP encrypts assertions for it): ${v.spCertificate.subject}, valid until ${v.spCertificate.notAfter}`);
  if (v.lastRefreshAt) lines.push(`  Last metadata refresh: ${v.lastRefreshAt}${v.lastRefreshError ? ` (failed: ${v.lastRefreshError})` : ''}`);
  for (const w of v.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}

function showJson(v: SettingsView) {
  return {
    sp: v.sp,
    idp: {
      entityId: v.idpEntityId,
      metadataUrl: v.metadataUrl,
      metadataSource: v.metadataSource,
      ssoUrl: v.metadata?.ssoUrl ?? null,
      sloUrl: v.metadata?.sloUrl ?? null,
      certificates: v.metadata?.certificates ?? [],
    },
    enabled: v.enabled,
    allowIdpInitiated: v.allowIdpInitiated,
    jitProvisioning: v.jitProvisioning,
    userNameSource: v.userNameSource,
    signRequests: v.signRequests,
    signRequestsSource: v.signRequestsSource,
    spCertificate: v.spCertificate,
    clockSkewSeconds: v.clockSkewSeconds,
    lastRefreshAt: v.lastRefreshAt,
    lastRefreshError: v.lastRefreshError,
    warnings: v.warnings,
  };
}

export async function samlCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  // show and set-idp print the SP addresses; the note on where they come from goes first.
  sayPublicUrlNote(ctx.publicUrlNote);
  const db = ctx.database.db;
  const json = ctx.json || rest.includes('--json');
  const print = (v: SettingsView) => process.stdout.write((json ? JSON.stringify(showJson(v), null, 2) : describe(v)) + '\n');
  try {
    switch (sub) {
      case 'show':
        print(await getSettingsView(db, ctx.config));
        return 0;
      case 'set-idp': {
        const metadata = option(rest, '--metadata');
        const entityId = option(rest, '--entity-id');
        const signRequests = option(rest, '--sign-requests');
        const usage = (problem: string) => {
          process.stderr.write(`${problem}\n${USAGE}\n`);
          return 2;
        };
        if (metadata === null) return usage('--metadata needs a file or URL');
        if (entityId === null) return usage('--entity-id needs a value');
        if (signRequests === null || (signRequests !== undefined && !Object.hasOwn(SIGN_REQUESTS, signRequests))) return usage('--sign-requests takes on, off or auto');
        const toggles = rest.includes('--enable') || rest.includes('--disable');
        if (metadata === undefined && entityId === undefined && signRequests === undefined && !toggles) return usage('nothing to set');
        const input: SettingsInput = {};
        if (signRequests !== undefined) input.signRequests = SIGN_REQUESTS[signRequests];
        if (metadata !== undefined && /^https?:\/\//i.test(metadata)) input.metadataUrl = metadata;
        else if (metadata !== undefined) {
          if (!fs.existsSync(metadata)) {
            process.stderr.write(`no such file: ${metadata}\n`);
            return 2;
          }
          input.metadataXml = fs.readFileSync(metadata, 'utf8');
          input.metadataUrl = null;
        }
        if (entityId !== undefined) input.idpEntityId = entityId;
        if (rest.includes('--enable')) input.enabled = true;
        if (rest.includes('--disable')) input.enabled = false;
        print(await updateSettings(db, ctx.config, cliActor(), input));
        return 0;
      }
      case 'refresh': {
        const outcome = await refreshMetadata(db, cliActor());
        const view = await getSettingsView(db, ctx.config);
        if (json) process.stdout.write(JSON.stringify({ ...outcome, settings: showJson(view) }, null, 2) + '\n');
        else process.stdout.write((outcome.refreshed ? 'metadata refreshed\n' : `metadata refresh failed: ${outcome.error}\n`) + describe(view) + '\n');
        return outcome.refreshed ? 0 : 1;
      }
      default:
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    if (err instanceof AppError) {
      const fields = err.fields ? Object.entries(err.fields).map(([k, v]) => `\n  ${k}: ${v}`).join('') : '';
      process.stderr.write(json ? JSON.stringify({ error: { code: err.code, message: err.message, fields: err.fields } }) + '\n' : `error: ${err.message}${fields}\n`);
      return 1;
    }
    throw err;
  }
}
