// Who is acting, recorded with every change: a signed-in person, the CLI, the IdP over SCIM, or SAML.
export type Source = 'ui' | 'api' | 'cli' | 'scim' | 'saml' | 'system';

export interface Actor {
  id: string | null;
  name: string;
  source: Source;
  ip?: string | null;
  requestId?: string | null;
}

export const systemActor = (name = 'system'): Actor => ({ id: null, name, source: 'system' });
export const cliActor = (): Actor => ({ id: null, name: `cli (${process.env.USER || 'operator'})`, source: 'cli' });
