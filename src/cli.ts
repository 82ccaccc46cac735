// The `ledgerline` command for operators. Every command works on SQLite and PostgreSQL
// (DATABASE_URL) and prints machine-readable output with --json.
import { loadConfig, type Config } from './config.ts';
import { migrate, openDatabase, type Database } from './db/database.ts';
import { cliActor } from './platform/actor.ts';
import { AppError } from './platform/errors.ts';
import { createLocalAdmin } from './identity/users.service.ts';
import { cliPublicUrl } from './platform/public-url.ts';

export interface CliContext {
  database: Database;
  config: Config;
  json: boolean;
  /** Where config.publicUrl came from, when that is worth a word (cliPublicUrl): printed by the commands that print addresses. */
  publicUrlNote: string | null;
}

const USAGE = `usage: ledgerline <command>

  serve                                   start the server (what npm start runs)
  migrate                                 apply database migrations and exit
  admin create --username U [--password-stdin]
                                          create a local administrator (prints a generated password once)
  scim-token create [--name N] | list | revoke ID
                                          SCIM access tokens (create prints the token alone on its last line)
  saml set-idp [--metadata FILE_OR_URL] [--entity-id ID] [--enable | --disable] [--sign-requests on|off|auto]
  saml show --json                        SP entity ID, ACS URL, metadata URL, IdP state

  --json   machine-readable output
Environment: DATABASE_URL (default sqlite:./data/ledgerline.db), PUBLIC_URL (default: the one the server
last started with on this database).`;

const COMMANDS = new Set(['migrate', 'admin', 'scim-token', 'saml']);

export function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  if (i === -1) return undefined;
  const v = args[i + 1];
  if (v === undefined || v.startsWith('--')) throw new AppError('invalid', `${name} needs a value`);
  return v;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function adminCommand(args: string[], ctx: CliContext): Promise<number> {
  if (args[0] !== 'create') {
    process.stderr.write('usage: ledgerline admin create --username U [--password-stdin]\n');
    return 2;
  }
  const username = flag(args, '--username') ?? 'admin';
  const password = args.includes('--password-stdin') ? await readStdin() : undefined;
  const res = await createLocalAdmin(ctx.database.db, cliActor(), username, password);
  if (ctx.json) process.stdout.write(JSON.stringify({ userName: res.userName, password: res.password }) + '\n');
  else {
    process.stdout.write(`created local administrator ${res.userName}\n`);
    if (res.password) process.stdout.write(`password (shown once): ${res.password}\n`);
  }
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const args = argv.filter((a) => a !== '--json');
  const [command, ...rest] = args;
  if (!command || command === 'help' || command === '--help' || command === '-h') {
    process.stdout.write(USAGE + '\n');
    return command ? 0 : 2;
  }
  if (command === 'serve') {
    await import('./main.ts');
    return -1; // keeps running
  }
  // Refuse a mistyped command before touching DATABASE_URL: it must not create or migrate a database.
  if (!COMMANDS.has(command)) {
    process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
    return 2;
  }
  const config = loadConfig();
  const database = openDatabase(config.databaseUrl, { poolSize: 2 });
  try {
    const applied = await migrate(database);
    const resolved = await cliPublicUrl(database.db, config, process.env);
    const ctx: CliContext = { database, config: resolved.config, json, publicUrlNote: resolved.note };
    switch (command) {
      case 'migrate':
        process.stdout.write(json ? JSON.stringify({ applied }) + '\n' : applied.length ? `applied ${applied.join(', ')}\n` : 'database is up to date\n');
        return 0;
      case 'admin':
        return await adminCommand(rest, ctx);
      case 'scim-token': {
        const { scimTokenCommand } = await import('./scim/scim-token.cli.ts');
        return await scimTokenCommand(rest, ctx);
      }
      case 'saml': {
        const { samlCommand } = await import('./saml/saml.cli.ts');
        return await samlCommand(rest, ctx);
      }
      default:
        process.stderr.write(`unknown command "${command}"\n\n${USAGE}\n`);
        return 2;
    }
  } finally {
    await database.close();
  }
}

try {
  const code = await main(process.argv.slice(2));
  if (code >= 0) process.exit(code);
} catch (err) {
  const msg = err instanceof AppError ? `${err.message}${err.fields ? ' (' + Object.entries(err.fields).map(([k, v]) => `${k}: ${v}`).join('; ') + ')' : ''}` : (err as Error).message;
  process.stderr.write(`ledgerline: ${msg}\n`);
  process.exit(1);
}
