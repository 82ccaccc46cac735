// The PUBLIC_URL the server runs with, kept in the database (settings, key 'public_url') so that the
// `ledgerline` command, usually run in a shell without the server's environment, prints the SAML and
// SCIM addresses an admin pastes into Okta or Entra for the server they actually reach, not for
// http://127.0.0.1:3000.
import type { Kysely } from 'kysely';
import { loadConfig, type Config } from '../config.ts';
import type { DB } from '../db/schema.ts';

const KEY = 'public_url';

/** Records `url` as the server's PUBLIC_URL (each start; every worker writes the same value). */
export async function recordPublicUrl(db: Kysely<DB>, url: string): Promise<void> {
  const now = new Date().toISOString();
  await db
    .insertInto('settings')
    .values({ key: KEY, value: url, updated_at: now })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: url, updated_at: now }))
    .execute();
}

/**
 * The configuration a CLI command uses: PUBLIC_URL from its own environment when set, else the one
 * the server last started with; `note` says which, when the two differ or neither is known, for the
 * command to print (on stderr, so that --json and `tail -n1` output stay clean).
 */
export async function cliPublicUrl(db: Kysely<DB>, config: Config, env: NodeJS.ProcessEnv): Promise<{ config: Config; note: string | null }> {
  const row = await db.selectFrom('settings').select('value').where('key', '=', KEY).executeTakeFirst();
  const recorded = row?.value ?? null;
  if (env.PUBLIC_URL) {
    const note = recorded && recorded !== config.publicUrl ? `PUBLIC_URL here is ${config.publicUrl}, but the server last started with ${recorded}; the addresses below use ${config.publicUrl}.` : null;
    return { config, note };
  }
  if (recorded) {
    return { config: loadConfig({ ...env, PUBLIC_URL: recorded }), note: `PUBLIC_URL is not set here; using ${recorded}, which the server last started with.` };
  }
  return { config, note: `PUBLIC_URL is not set and the server has not started on this database yet; the addresses below use ${config.publicUrl}. Set PUBLIC_URL to the address people and the IdP reach Ledgerline at.` };
}

/** Prints cliPublicUrl's note, from a command that prints addresses (stderr: stdout stays clean for --json and scripts). */
export function sayPublicUrlNote(note: string | null): void {
  if (note) process.stderr.write(`note: ${note}\n`);
}
