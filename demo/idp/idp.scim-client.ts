// The demo IdP's SCIM client, in two dialects, sending exactly what the real clients send
// (see ../shared/reference/okta-entra-scim-saml.md §2–§3):
//  - Okta, custom app made with the App Integration Wizard (the vendor guide's setup): filter
//    lookups with startIndex/count, POST to create, and for every later change GET the resource
//    then PUT it whole (activate, deactivate, profile, group rename, group membership).
//  - Microsoft Entra ID (default, non-"aadOptscim062020" job): PATCH with capitalised ops,
//    booleans as the strings "True"/"False", member removal as a value array, group reads with
//    excludedAttributes=members.
// Every exchange is recorded in the state's log, so the UI and the tests can show the wire.
import { randomBytes, randomUUID } from 'node:crypto';
import type { ClientStyle, DemoState, Group, Person } from './idp.state.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE_SCHEMA = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const AD_GROUP_SCHEMA = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const LIST_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const TIMEOUT_MS = 15_000;

export type ScimResource = Record<string, any> & { id: string };
export interface Member {
  value: string;
  display: string;
}

export class ScimCallError extends Error {
  constructor(
    message: string,
    readonly status: number | null,
  ) {
    super(message);
  }
}

export interface ScimClient {
  readonly style: ClientStyle;
  /** "Test Connector Configuration" (Okta) / "Test Connection" (Entra). Returns a summary line. */
  testConnector(): Promise<string>;
  findUser(userName: string): Promise<ScimResource | null>;
  createUser(p: Person): Promise<ScimResource>;
  setActive(scimId: string, p: Person, active: boolean): Promise<void>;
  updateProfile(scimId: string, p: Person): Promise<void>;
  findGroup(name: string): Promise<ScimResource | null>;
  createGroup(g: Group): Promise<ScimResource>;
  renameGroup(scimId: string, name: string, members: Member[]): Promise<void>;
  /** `before` is what the IdP last pushed; `after` the members it wants now. */
  updateMembers(scimId: string, name: string, before: string[], after: Member[]): Promise<void>;
  deleteGroup(scimId: string): Promise<void>;
}

const filterParam = (attr: string, value: string) => encodeURIComponent(`${attr} eq "${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`);

class Transport {
  constructor(
    private readonly state: DemoState,
    private readonly style: ClientStyle,
    private readonly userAgent: string,
  ) {}

  async call(method: string, path: string, body?: unknown, okStatuses: number[] = [200, 201, 204]): Promise<{ status: number; body: any }> {
    const s = this.state.app.provisioning;
    const url = s.baseUrl.replace(/\/+$/, '') + path;
    const started = Date.now();
    const headers: Record<string, string> = {
      accept: 'application/scim+json',
      'accept-charset': 'utf-8',
      authorization: `Bearer ${s.token}`,
      'user-agent': this.userAgent,
    };
    if (body !== undefined) headers['content-type'] = this.style === 'okta' ? 'application/scim+json; charset=utf-8' : 'application/scim+json';
    let status: number | null = null;
    let responseBody: unknown = null;
    let error: string | null = null;
    try {
      const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
      status = res.status;
      const text = await res.text();
      try {
        responseBody = text ? JSON.parse(text) : null;
      } catch {
        responseBody = text.slice(0, 2000);
      }
      if (!okStatuses.includes(res.status)) {
        const detail = (responseBody as any)?.detail ?? (responseBody as any)?.error?.message ?? (typeof responseBody === 'string' ? responseBody.slice(0, 200) : '');
        error = `${method} ${path} returned ${res.status}${detail ? `: ${detail}` : ''}`;
      }
    } catch (err) {
      error = `${method} ${url} failed: ${(err as Error).message}`;
    }
    this.state.record({ at: new Date(started).toISOString(), style: this.style, method, url, requestBody: body ?? null, status, responseBody, error, durationMs: Date.now() - started });
    if (error) throw new ScimCallError(error, status);
    return { status: status!, body: responseBody };
  }
}

function assertListResponse(body: any, what: string): void {
  if (!body || !Array.isArray(body.schemas) || !body.schemas.includes(LIST_SCHEMA)) throw new ScimCallError(`${what}: the response is not a SCIM ListResponse`, 200);
  for (const k of ['totalResults', 'startIndex', 'itemsPerPage']) {
    if (k === 'totalResults' || k in body) {
      if (typeof body[k] !== 'number') throw new ScimCallError(`${what}: ${k} must be a number`, 200);
    }
  }
}

function firstResource(body: any, what: string): ScimResource | null {
  assertListResponse(body, what);
  const r = Array.isArray(body.Resources) ? body.Resources : [];
  return r.length ? (r[0] as ScimResource) : null;
}

function requireId(body: any, what: string): ScimResource {
  if (!body || typeof body.id !== 'string' || !body.id) throw new ScimCallError(`${what} returned no id (Okta reports "returned empty user")`, 201);
  return body as ScimResource;
}

// ---- Okta (App Integration Wizard app: PUT for every update) ------------------------------------
export class OktaStyleClient implements ScimClient {
  readonly style = 'okta' as const;
  private readonly t: Transport;
  constructor(state: DemoState) {
    this.t = new Transport(state, 'okta', 'Okta SCIM Client 1.0.0 (Ledgerline demo IdP)');
  }

  async testConnector(): Promise<string> {
    const { body } = await this.t.call('GET', '/Users?startIndex=1&count=2', undefined, [200]);
    assertListResponse(body, 'GET /Users?startIndex=1&count=2');
    return `Connector configured successfully: GET /Users?startIndex=1&count=2 answered 200 with ${body.totalResults} user(s) in total.`;
  }

  async findUser(userName: string) {
    const { body } = await this.t.call('GET', `/Users?filter=${filterParam('userName', userName)}&startIndex=1&count=100`, undefined, [200]);
    return firstResource(body, 'user lookup');
  }

  async createUser(p: Person) {
    const { body } = await this.t.call(
      'POST',
      '/Users',
      {
        schemas: [USER_SCHEMA],
        userName: p.userName,
        name: { givenName: p.givenName, familyName: p.familyName },
        emails: [{ primary: true, value: p.email, type: 'work' }],
        displayName: `${p.givenName} ${p.familyName}`.trim(),
        locale: 'en-US',
        externalId: p.id,
        groups: [],
        password: randomBytes(6).toString('base64url'),
        active: true,
      },
      [201],
    );
    return requireId(body, 'POST /Users');
  }

  /** GET the user, then PUT it back whole with Okta's profile and the wanted `active`. */
  private async putUser(scimId: string, p: Person, active: boolean | null) {
    const path = `/Users/${encodeURIComponent(scimId)}`;
    const { body: current } = await this.t.call('GET', path, undefined, [200]);
    const next = {
      ...(current ?? {}),
      schemas: Array.isArray(current?.schemas) && current.schemas.length ? current.schemas : [USER_SCHEMA],
      id: scimId,
      userName: p.userName,
      name: { ...(current?.name ?? {}), givenName: p.givenName, familyName: p.familyName },
      emails: [{ primary: true, value: p.email, type: 'work', display: p.email }],
      displayName: `${p.givenName} ${p.familyName}`.trim(),
      active: active ?? current?.active ?? true,
      groups: current?.groups ?? [],
      meta: { ...(current?.meta ?? {}), resourceType: 'User' },
    };
    await this.t.call('PUT', path, next, [200]);
  }

  setActive(scimId: string, p: Person, active: boolean) {
    return this.putUser(scimId, p, active);
  }

  updateProfile(scimId: string, p: Person) {
    return this.putUser(scimId, p, null);
  }

  async findGroup(name: string) {
    const { body } = await this.t.call('GET', `/Groups?filter=${filterParam('displayName', name)}&startIndex=1&count=100`, undefined, [200]);
    return firstResource(body, 'group lookup');
  }

  async createGroup(g: Group) {
    const { body } = await this.t.call('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: g.name, members: [] }, [201]);
    return requireId(body, 'POST /Groups');
  }

  /** Okta's AIW group update: GET, then PUT the name and the full member list (the name is re-sent every time). */
  private async putGroup(scimId: string, name: string, members: Member[]) {
    const path = `/Groups/${encodeURIComponent(scimId)}`;
    await this.t.call('GET', path, undefined, [200]);
    await this.t.call('PUT', path, { schemas: [GROUP_SCHEMA], id: scimId, displayName: name, members }, [200, 204]);
  }

  renameGroup(scimId: string, name: string, members: Member[]) {
    return this.putGroup(scimId, name, members);
  }

  updateMembers(scimId: string, name: string, _before: string[], after: Member[]) {
    return this.putGroup(scimId, name, after);
  }

  async deleteGroup(scimId: string) {
    await this.t.call('DELETE', `/Groups/${encodeURIComponent(scimId)}`, undefined, [204]);
  }
}

// ---- Microsoft Entra ID (PATCH, capitalised ops, "True"/"False") ----------------------------------
export class EntraStyleClient implements ScimClient {
  readonly style = 'entra' as const;
  private readonly t: Transport;
  constructor(state: DemoState) {
    this.t = new Transport(state, 'entra', 'Ledgerline demo IdP (Microsoft Entra ID style)');
  }

  private patch(path: string, operations: Record<string, unknown>[]) {
    return this.t.call('PATCH', path, { schemas: [PATCH_SCHEMA], Operations: operations }, [200, 204]);
  }

  async testConnector(): Promise<string> {
    // Entra's "Test Connection" queries a random, non-existent user and group.
    const probe = randomUUID();
    const u = await this.t.call('GET', `/Users?filter=${filterParam('userName', probe)}`, undefined, [200]);
    assertListResponse(u.body, 'user query');
    const g = await this.t.call('GET', `/Groups?excludedAttributes=members&filter=${filterParam('displayName', probe)}`, undefined, [200]);
    assertListResponse(g.body, 'group query');
    return 'The supplied credentials are authorized to enable provisioning (user and group queries answered 200).';
  }

  async findUser(userName: string) {
    const { body } = await this.t.call('GET', `/Users?filter=${filterParam('userName', userName)}`, undefined, [200]);
    return firstResource(body, 'user query');
  }

  async createUser(p: Person) {
    const { body } = await this.t.call(
      'POST',
      '/Users',
      {
        schemas: [USER_SCHEMA, ENTERPRISE_SCHEMA],
        externalId: p.id,
        userName: p.userName,
        active: true,
        displayName: `${p.givenName} ${p.familyName}`.trim(),
        emails: [{ primary: true, type: 'work', value: p.email }],
        meta: { resourceType: 'User' },
        name: { formatted: `${p.givenName} ${p.familyName}`.trim(), familyName: p.familyName, givenName: p.givenName },
        roles: [],
      },
      [201],
    );
    return requireId(body, 'POST /Users');
  }

  async setActive(scimId: string, _p: Person, active: boolean) {
    await this.patch(`/Users/${encodeURIComponent(scimId)}`, [{ op: 'Replace', path: 'active', value: active ? 'True' : 'False' }]);
  }

  async updateProfile(scimId: string, p: Person) {
    await this.patch(`/Users/${encodeURIComponent(scimId)}`, [
      { op: 'Replace', path: 'name.givenName', value: p.givenName },
      { op: 'Replace', path: 'name.familyName', value: p.familyName },
      { op: 'Replace', path: 'emails[type eq "work"].value', value: p.email },
      { op: 'Replace', path: 'displayName', value: `${p.givenName} ${p.familyName}`.trim() },
    ]);
  }

  async findGroup(name: string) {
    const { body } = await this.t.call('GET', `/Groups?excludedAttributes=members&filter=${filterParam('displayName', name)}`, undefined, [200]);
    return firstResource(body, 'group query');
  }

  async createGroup(g: Group) {
    const { body } = await this.t.call('POST', '/Groups', { schemas: [GROUP_SCHEMA, AD_GROUP_SCHEMA], externalId: g.id, displayName: g.name, members: [] }, [201]);
    return requireId(body, 'POST /Groups');
  }

  async renameGroup(scimId: string, name: string) {
    await this.t.call('GET', `/Groups/${encodeURIComponent(scimId)}?excludedAttributes=members`, undefined, [200]);
    await this.patch(`/Groups/${encodeURIComponent(scimId)}`, [{ op: 'Replace', path: 'displayName', value: name }]);
  }

  async updateMembers(scimId: string, _name: string, before: string[], after: Member[]) {
    const add = after.filter((m) => !before.includes(m.value));
    const remove = before.filter((id) => !after.some((m) => m.value === id));
    if (!add.length && !remove.length) return;
    await this.t.call('GET', `/Groups/${encodeURIComponent(scimId)}?excludedAttributes=members`, undefined, [200]);
    const ops: Record<string, unknown>[] = [];
    if (remove.length) ops.push({ op: 'Remove', path: 'members', value: remove.map((value) => ({ value })) });
    if (add.length) ops.push({ op: 'Add', path: 'members', value: add.map((m) => ({ $ref: null, value: m.value })) });
    await this.patch(`/Groups/${encodeURIComponent(scimId)}`, ops);
  }

  async deleteGroup(scimId: string) {
    await this.t.call('DELETE', `/Groups/${encodeURIComponent(scimId)}`, undefined, [204]);
  }
}

export function scimClientFor(state: DemoState): ScimClient {
  return state.app.provisioning.style === 'entra' ? new EntraStyleClient(state) : new OktaStyleClient(state);
}
