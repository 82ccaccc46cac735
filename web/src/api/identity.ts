// Calls to the identity admin API, typed. Screens use these, never raw paths.
import { api, del, get, patch, post } from './client.ts';
import type {
  AuditEntry,
  Level,
  Me,
  Page,
  ProvisioningPage,
  Role,
  RoleGroup,
  RoleGroupDetail,
  ScreenKey,
  SearchResult,
  SsoInfo,
  UserDetail,
  UserInput,
  UserSummary,
} from './types.ts';

type Query = Record<string, string | number | undefined | null>;
const enc = encodeURIComponent;

export const authApi = {
  me: () => api<Me>('/api/me', { noAuthRedirect: true }),
  login: (username: string, password: string) =>
    api<{ user: unknown }>('/api/auth/login', { method: 'POST', body: { username, password }, noAuthRedirect: true }),
  logout: () => api<void>('/api/auth/logout', { method: 'POST', body: {}, noAuthRedirect: true }),
  sso: () => api<SsoInfo>('/api/auth/sso', { noAuthRedirect: true }),
};

export const usersApi = {
  list: (q: Query, signal?: AbortSignal) => get<Page<UserSummary>>('/api/users', q, signal),
  get: (id: string) => get<UserDetail>(`/api/users/${enc(id)}`),
  create: (body: UserInput) => post<UserDetail & { initialPassword?: string }>('/api/users', body),
  update: (id: string, body: UserInput) => patch<UserDetail>(`/api/users/${enc(id)}`, body),
  resetPassword: (id: string, password?: string) => post<{ password?: string }>(`/api/users/${enc(id)}/password`, password ? { password } : {}),
  signOutEverywhere: (id: string) => post<{ ended: number }>(`/api/users/${enc(id)}/sign-out-everywhere`, {}),
};

export const rolesApi = {
  list: (q: Query, signal?: AbortSignal) => get<Page<Role>>('/api/roles', q, signal),
  get: (id: string) => get<Role>(`/api/roles/${enc(id)}`),
  create: (body: { name: string; roleGroupIds: string[] }) => post<Role>('/api/roles', body),
  update: (id: string, body: { name?: string; roleGroupIds?: string[] }) => patch<Role>(`/api/roles/${enc(id)}`, body),
  remove: (id: string) => del(`/api/roles/${enc(id)}`),
};

export const roleGroupsApi = {
  list: (q: Query, signal?: AbortSignal) => get<Page<RoleGroup>>('/api/role-groups', q, signal),
  get: (id: string) => get<RoleGroupDetail>(`/api/role-groups/${enc(id)}`),
  create: (body: { name: string; levels?: Partial<Record<ScreenKey, Level>> }) => post<RoleGroupDetail>('/api/role-groups', body),
  update: (id: string, body: { name?: string; levels?: Partial<Record<ScreenKey, Level>>; isScimDefault?: true }) =>
    patch<RoleGroupDetail>(`/api/role-groups/${enc(id)}`, body),
  remove: (id: string) => del(`/api/role-groups/${enc(id)}`),
};

export const auditApi = {
  list: (q: Query, signal?: AbortSignal) => get<Page<AuditEntry>>('/api/audit', q, signal),
};

export const provisioningApi = {
  list: (q: Query, signal?: AbortSignal) => get<ProvisioningPage>('/api/provisioning-log', q, signal),
};

export const searchApi = {
  search: (q: string, signal?: AbortSignal) => get<SearchResult>('/api/search', { q }, signal),
};

/** Fetch every page of a list (for small lists such as role groups in a picker). */
export async function listAll<T>(list: (q: Query) => Promise<Page<T>>, q: Query = {}): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++) {
    const page: Page<T> = await list({ ...q, limit: 200, cursor });
    out.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return out;
}
