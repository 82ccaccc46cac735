// Shared set-up for the SAML tests: an app with SSO configured from a test IdP's metadata, users
// to sign in as, and helpers to post responses and read back the audit entries they produced.
import { randomUUID } from 'node:crypto';
import { startTestApp, type TestApp, type TestAppOptions } from '../helpers/app.ts';
import { craftResponse, generateKeyPair, idpMetadataXml, signResponse, b64, postToAcs, type KeyPair, type ResponseFields } from '../helpers/idp.ts';
import { updateSettings } from '../../src/saml/saml.settings.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { nowIso } from '../../src/platform/time.ts';
import type { Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.ts';

export const IDP_ENTITY_ID = 'http://www.okta.com/exkTestIdp123';
export const IDP_SSO_URL = 'https://idp.example.test/app/ledgerline/sso/saml';
export const IDP_SLO_URL = 'https://idp.example.test/app/ledgerline/slo/saml';

let keysPromise: Promise<{ idp: KeyPair; attacker: KeyPair }> | null = null;
/** One IdP key pair and one attacker key pair per test process (RSA generation is slow). */
export function testKeys() {
  keysPromise ??= (async () => ({ idp: await generateKeyPair({ cn: 'Okta Test IdP' }), attacker: await generateKeyPair({ cn: 'Okta Test IdP' }) }))();
  return keysPromise;
}

export interface SamlTestApp extends TestApp {
  keys: { idp: KeyPair; attacker: KeyPair };
  acsUrl: string;
  spEntityId: string;
  createUser(userName: string, status?: 'active' | 'suspended' | 'disabled'): Promise<string>;
  /** A response for this SP, with every field right unless overridden. */
  fields(over?: Partial<ResponseFields>): ResponseFields;
  /** Crafts and signs (Response and Assertion by default) a response for this SP. */
  signed(over?: Partial<ResponseFields>, where?: 'response' | 'assertion' | 'both'): string;
  post(xml: string, relayState?: string): Promise<Response>;
  /** The details of the latest auth.sso_failed audit entry. */
  lastRefusal(): Promise<{ reason: string; detail: string; issuer: string | null; nameId: string | null; referenceId: string } | null>;
  auditCount(action: string): Promise<number>;
  /** Starts SP-initiated login; returns the AuthnRequest id and the IdP redirect URL. */
  login(returnTo?: string): Promise<{ requestId: string; location: string }>;
}

export async function createUser(db: Kysely<DB>, userName: string, status: 'active' | 'suspended' | 'disabled' = 'active'): Promise<string> {
  const id = randomUUID();
  const now = nowIso();
  await db
    .insertInto('users')
    .values({
      id, user_name: userName, user_name_norm: userName.toLowerCase(), display_name: userName, given_name: null, family_name: null, email: userName,
      email_norm: userName.toLowerCase(), external_id: null, role_id: null, status, source: 'idp', time_zone: 'UTC', locale: 'en-US',
      password_hash: null, scim_attributes: null, version: 1, created_at: now, updated_at: now,
    })
    .execute();
  return id;
}

export async function configureSso(t: TestApp, keys: { idp: KeyPair }, o: { allowIdpInitiated?: boolean; jitProvisioning?: boolean; slo?: boolean; certs?: string[] } = {}) {
  await updateSettings(t.database.db, t.config, systemActor('test'), {
    idpEntityId: IDP_ENTITY_ID,
    metadataXml: idpMetadataXml({ entityId: IDP_ENTITY_ID, ssoUrl: IDP_SSO_URL, sloUrl: o.slo ? IDP_SLO_URL : null, certs: o.certs ?? [keys.idp.cert] }),
    enabled: true,
    allowIdpInitiated: o.allowIdpInitiated ?? true,
    jitProvisioning: o.jitProvisioning ?? false,
  });
}

export async function startSamlApp(o: TestAppOptions & { allowIdpInitiated?: boolean; jitProvisioning?: boolean; slo?: boolean; configure?: boolean } = {}): Promise<SamlTestApp> {
  const t = await startTestApp(o);
  const keys = await testKeys();
  if (o.configure !== false) await configureSso(t, keys, o);
  const acsUrl = `${t.baseUrl}/AuthorizationServer/Saml2/ACS`;
  const spEntityId = t.baseUrl;
  const db = t.database.db;
  const fields = (over: Partial<ResponseFields> = {}): ResponseFields => ({
    issuer: IDP_ENTITY_ID,
    destination: acsUrl,
    recipient: acsUrl,
    audience: spEntityId,
    nameId: 'alice@example.com',
    ...over,
  });
  return {
    ...t,
    keys,
    acsUrl,
    spEntityId,
    createUser: (userName, status) => createUser(db, userName, status),
    fields,
    signed: (over = {}, where = 'both') => signResponse(craftResponse(fields(over)), where, { key: keys.idp.key, cert: keys.idp.cert }),
    post: (xml, relayState) => postToAcs(t.baseUrl, b64(xml), relayState),
    lastRefusal: async () => {
      const row = await db.selectFrom('audit_log').select(['details']).where('action', '=', 'auth.sso_failed').orderBy('id', 'desc').limit(1).executeTakeFirst();
      return row?.details ? JSON.parse(row.details) : null;
    },
    auditCount: async (action) => {
      const r = await db.selectFrom('audit_log').select((eb) => eb.fn.countAll<number>().as('n')).where('action', '=', action).executeTakeFirstOrThrow();
      return Number(r.n);
    },
    login: async (returnTo = '/') => {
      const res = await fetch(`${t.baseUrl}/AuthorizationServer/Saml2/Login?returnTo=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
      if (res.status !== 302) throw new Error(`login: ${res.status} ${await res.text()}`);
      const location = res.headers.get('location')!;
      const { inflateRawSync } = await import('node:zlib');
      const xml = inflateRawSync(Buffer.from(new URL(location).searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
      const requestId = /ID="([^"]+)"/.exec(xml)![1];
      return { requestId, location };
    },
  };
}

export function sessionCookie(res: Response): string | null {
  const c = res.headers.getSetCookie().find((x) => x.startsWith('ll_session='));
  return c ? c.split(';')[0] : null;
}
