// `ledgerline scim-token create [--name N] | list | revoke ID`. `create` prints the token alone on
// its last stdout line so scripts can take it with `tail -n1`; it is shown once and stored hashed.
import type { CliContext } from '../cli.ts';
import { sayPublicUrlNote } from '../platform/public-url.ts';
import { cliActor } from '../platform/actor.ts';
import { createToken, listTokens, revokeToken } from './scim-tokens.service.ts';

const USAGE = 'usage: ledgerline scim-token create [--name N] | list | revoke ID';

export async function scimTokenCommand(args: string[], ctx: CliContext): Promise<number> {
  const [sub, ...rest] = args;
  const db = ctx.database.db;
  const out = (s: string) => process.stdout.write(s + '\n');
  switch (sub) {
    case 'create': {
      const i = rest.indexOf('--name');
      let name: string | undefined;
      if (i >= 0) {
        name = rest[i + 1];
        if (!name || name.startsWith('--')) {
          process.stderr.write('--name needs a value\n');
          return 2;
        }
      }
      const { token, item } = await createToken(db, cliActor(), name);
      if (ctx.json) out(JSON.stringify({ ...item, token }));
      else {
        process.stderr.write(`created SCIM access token "${item.name}" (id ${item.id}); it is shown once, store it now.\n`);
        sayPublicUrlNote(ctx.publicUrlNote);
        process.stderr.write(`SCIM base URL: ${ctx.config.publicUrl}/ResourceServer/api/SCIM\n`);
        out(token);
      }
      return 0;
    }
    case 'list': {
      const items = await listTokens(db);
      if (ctx.json) out(JSON.stringify({ items }));
      else if (!items.length) out('no SCIM access tokens');
      else for (const t of items) out(`${t.id}  ${t.state.padEnd(8)}  ${t.prefix}…  created ${t.createdAt}  last used ${t.lastUsedAt ?? 'never'}${t.expiresAt ? `  expires ${t.expiresAt}` : ''}  ${t.name}`);
      return 0;
    }
    case 'revoke': {
      const id = rest[0];
      if (!id) {
        process.stderr.write(USAGE + '\n');
        return 2;
      }
      const item = await revokeToken(db, cliActor(), id);
      if (ctx.json) out(JSON.stringify(item));
      else out(`revoked SCIM access token ${item.id} (${item.name})`);
      return 0;
    }
    default:
      process.stderr.write(USAGE + '\n');
      return 2;
  }
}
