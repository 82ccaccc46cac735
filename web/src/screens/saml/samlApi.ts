// The SAML Settings screen's calls: /api/saml/settings (this feature) and /api/scim/tokens (SCIM).
import { del, get, post, put } from '../../api/client.ts';
import type { SettingsInput, SettingsView, TestItem } from '../../../../src/saml/saml.settings.service.ts';

export type { SettingsView, TestItem };

export interface ScimTokenItem {
  id: string;
  name: string;
  createdAt: string;
  lastUsedAt: string | null;
  expiresAt: string | null;
  /** expiring: in a refresh's grace period, working until expiresAt */
  state: 'active' | 'expiring' | 'expired' | 'revoked';
}

export const samlApi = {
  get: () => get<SettingsView>('/api/saml/settings'),
  save: (body: SettingsInput) => put<SettingsView>('/api/saml/settings', body),
  test: (body: { idpEntityId?: string | null; metadataUrl?: string | null; metadataXml?: string | null }) => post<{ ok: boolean; checks: TestItem[] }>('/api/saml/settings/test', body),
  refresh: () => post<{ refreshed: boolean; error: string | null; settings: SettingsView }>('/api/saml/settings/refresh'),
};

export const scimTokensApi = {
  list: () => get<{ items: ScimTokenItem[] }>('/api/scim/tokens'),
  /** An empty or blank name is the server's default ("SCIM access token"). */
  create: (name: string) => post<{ token: string; item: ScimTokenItem }>('/api/scim/tokens', { name }),
  refresh: (graceHours: number, name: string) => post<{ token: string; item: ScimTokenItem }>('/api/scim/tokens/refresh', { graceHours, name }),
  revoke: (id: string) => del<{ item: ScimTokenItem }>(`/api/scim/tokens/${encodeURIComponent(id)}`),
  clear: () => del('/api/scim/tokens'),
};
