// Global search in the top bar: accounts (by name, number or contact) and users, each part only
// for callers who may read that screen. Composes two features, so it lives outside both.
import type { FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { atLeast } from './identity/catalogue.ts';
import { requireAuth } from './identity/auth.plugin.ts';
import { listUsers } from './identity/users.service.ts';
import { listAccounts } from './billing/accounts.service.ts';

export default async function searchRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/search', { config: { access: 'signedIn' }, schema: { querystring: Type.Object({ q: Type.String({ maxLength: 200 }) }) } }, async (request) => {
    const me = requireAuth(request);
    const q = (request.query as { q: string }).q.trim();
    const out: { users: { id: string; userName: string; displayName: string | null }[]; accounts: { id: string; number: string; name: string }[] } = { users: [], accounts: [] };
    if (!q) return out;
    if (atLeast(me.permissions.accounts, 'read')) {
      const res = await listAccounts(app.db, { q, limit: 8 });
      out.accounts = res.items.map((a) => ({ id: a.id, number: a.number, name: a.name }));
    }
    if (atLeast(me.permissions.users, 'read')) {
      const res = await listUsers(app.db, { q, limit: 8 });
      out.users = res.items.map((u) => ({ id: u.id, userName: u.userName, displayName: u.displayName }));
    }
    return out;
  });
}
