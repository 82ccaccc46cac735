// Environment → typed configuration. The only place that reads process.env for the server, except
// the SQLite connection settings (SQLITE_SYNCHRONOUS, SQLITE_MMAP_SIZE): they apply wherever a SQLite
// file is opened (server, CLI, test and benchmark scripts) and are read in src/db/ (database.ts,
// provisioning-log-file.mjs).
import os from 'node:os';
export interface Config {
  port: number;
  host: string;
  publicUrl: string;
  databaseUrl: string;
  logLevel: string;
  /** Minutes of inactivity after which a session ends. */
  sessionIdleMinutes: number;
  /** Hours after sign-in after which a session ends whatever the activity. */
  sessionAbsoluteHours: number;
  /** Days of provisioning log kept. */
  provisioningLogDays: number;
  /** Secure cookies when the public URL is https. */
  secureCookies: boolean;
  /** Server processes sharing the port (1 = this process serves). */
  workers: number;
  /** Largest SCIM request body, in MB (SCIM_MAX_BODY_MB). */
  scimMaxBodyMb: number;
  /** Seconds a request may take to arrive in full, headers and body (REQUEST_TIMEOUT_SECONDS; 0: no limit). */
  requestTimeoutSeconds: number;
}

/** SCIM_MAX_BODY_MB's default: room for an Okta-managed group of about 100,000 members (bodyTooLarge, src/scim/scim.errors.ts). */
const DEFAULT_SCIM_MAX_BODY_MB = 10;
/** The most SCIM_MAX_BODY_MB may be: a body is read whole into memory and parsed at once. */
const MAX_SCIM_MAX_BODY_MB = 256;

function int(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return n;
}

/** WORKERS: a whole number of processes, or "auto" for one per CPU core. */
function workers(env: NodeJS.ProcessEnv): number {
  const raw = (env.WORKERS ?? '').trim();
  if (raw.toLowerCase() === 'auto') return Math.max(1, os.availableParallelism());
  const n = int(env, 'WORKERS', 1);
  if (n < 1 || n > 64) throw new Error(`WORKERS must be between 1 and 64 (or "auto"), got "${raw}"`);
  return n;
}

function scimMaxBodyMb(env: NodeJS.ProcessEnv): number {
  const n = int(env, 'SCIM_MAX_BODY_MB', DEFAULT_SCIM_MAX_BODY_MB);
  if (n < 1 || n > MAX_SCIM_MAX_BODY_MB) throw new Error(`SCIM_MAX_BODY_MB must be between 1 and ${MAX_SCIM_MAX_BODY_MB}, got "${env.SCIM_MAX_BODY_MB}"`);
  return n;
}

/**
 * REQUEST_TIMEOUT_SECONDS: how long a request may take to arrive, its body included. Node's own
 * default is 300 s, which Fastify turns off (0): a body shorter than its Content-Length held its
 * connection for ever. 300 s lets a 50 MB usage CSV arrive at 170 KB/s.
 */
function requestTimeoutSeconds(env: NodeJS.ProcessEnv): number {
  const n = int(env, 'REQUEST_TIMEOUT_SECONDS', 300);
  if (n > 86_400) throw new Error(`REQUEST_TIMEOUT_SECONDS must be between 0 (no limit) and 86400, got "${env.REQUEST_TIMEOUT_SECONDS}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = int(env, 'PORT', 3000);
  const host = env.HOST || '127.0.0.1';
  const publicUrl = (env.PUBLIC_URL || `http://${host}:${port}`).replace(/\/+$/, '');
  try {
    new URL(publicUrl);
  } catch {
    throw new Error(`PUBLIC_URL must be an absolute URL, got "${publicUrl}"`);
  }
  return {
    port,
    host,
    publicUrl,
    databaseUrl: env.DATABASE_URL || 'sqlite:./data/ledgerline.db',
    logLevel: env.LOG_LEVEL || 'info',
    sessionIdleMinutes: int(env, 'SESSION_IDLE_MINUTES', 60),
    sessionAbsoluteHours: int(env, 'SESSION_ABSOLUTE_HOURS', 12),
    provisioningLogDays: int(env, 'PROVISIONING_LOG_DAYS', 30),
    secureCookies: publicUrl.startsWith('https:'),
    workers: workers(env),
    scimMaxBodyMb: scimMaxBodyMb(env),
    requestTimeoutSeconds: requestTimeoutSeconds(env),
  };
}
