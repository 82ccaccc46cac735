// Test helpers for SCIM over HTTP: a started app with a SCIM access token, and a tiny client that
// sends what Okta and Entra send (bearer token, application/scim+json).
import { createLocalAdmin, signIn, startTestApp, type Client, type TestApp, type TestAppOptions } from '../helpers/app.ts';
import { createToken } from '../../src/scim/scim-tokens.service.ts';
import { systemActor } from '../../src/platform/actor.ts';

export interface ScimResult {
  status: number;
  body: any;
  headers: Headers;
}

export interface ScimHarness {
  t: TestApp;
  token: string;
  base: string;
  admin: Client;
  scim(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ScimResult>;
}

export const OKTA_UA = 'Okta SCIM Client 1.0.0';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

/** The version an ETag (or meta.version) names: W/"<version>", or W/"<version>-<digest>" for a user in groups. */
export function versionOf(etag: string | null): number {
  const m = /^W\/"(\d+)(?:-[\w-]+)?"$/.exec(etag ?? '');
  if (!m) throw new Error(`not an ETag of ours: ${etag}`);
  return Number(m[1]);
}

export async function startScim(opts: TestAppOptions = {}): Promise<ScimHarness> {
  const t = await startTestApp(opts);
  const { token } = await createToken(t.database.db, systemActor('test'), 'test');
  const base = `${t.baseUrl}/ResourceServer/api/SCIM`;
  const a = await createLocalAdmin(t.database);
  const admin = await signIn(t.baseUrl, a.username, a.password);
  const h = { t, token, base, admin } as ScimHarness;
  h.scim = async (method, path, body, headers = {}) => {
    const res = await fetch(base + path, {
      method,
      headers: {
        authorization: `Bearer ${h.token}`,
        accept: 'application/scim+json',
        'user-agent': OKTA_UA,
        ...(body !== undefined ? { 'content-type': 'application/scim+json' } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === 'string' ? body : body instanceof Uint8Array ? new Uint8Array(body) : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return h;
}

export const oktaUser = (userName: string, extra: Record<string, unknown> = {}) => ({
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  userName,
  name: { givenName: 'Test', familyName: 'User' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Test User',
  locale: 'en-US',
  externalId: '00ujl29u0le5T6Aj10h7',
  groups: [],
  password: '1mz050nq',
  active: true,
  ...extra,
});
