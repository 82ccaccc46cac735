// The SP's own signing key pair: RSA 2048 and a self-signed certificate valid 10 years, generated
// the first time something needs it (the SP metadata, a signed request, the certificate download),
// stored in the database so every node signs with the same key. The private key is only ever read
// by buildSp; it is never returned by an API, logged or audited — only the certificate is public.
import { X509Certificate, generateKeyPair as generateKeyPairCb } from 'node:crypto';
import { promisify } from 'node:util';
import type { Kysely, Transaction } from 'kysely';
import selfsigned from 'selfsigned';
import type { DB } from '../db/schema.ts';
import { nowIso } from '../platform/time.ts';

type Db = Kysely<DB> | Transaction<DB>;
const ROW_ID = 'default';
const generateKeyPair = promisify(generateKeyPairCb);

export const SP_KEY_BITS = 2048;
export const SP_CERT_YEARS = 10;

export interface SpKey {
  privateKey: string;
  certificate: string;
}

/** What may be shown about the SP certificate (it is public; the key is not). */
export interface SpCertificateView {
  subject: string;
  notBefore: string;
  notAfter: string;
  fingerprint256: string;
}

export async function readSpKey(db: Db): Promise<SpKey | null> {
  const row = await db.selectFrom('saml_sp_keys').select(['private_key', 'certificate']).where('id', '=', ROW_ID).executeTakeFirst();
  return row ? { privateKey: row.private_key, certificate: row.certificate } : null;
}

/** Certificate details without generating a key (the settings view must not have side effects). */
export async function readSpCertificate(db: Db): Promise<SpCertificateView | null> {
  const row = await db.selectFrom('saml_sp_keys').select(['certificate']).where('id', '=', ROW_ID).executeTakeFirst();
  return row ? certificateInfo(row.certificate) : null;
}

export function certificateInfo(pem: string): SpCertificateView {
  const x = new X509Certificate(pem);
  return { subject: x.subject.replace(/\n/g, ', '), notBefore: new Date(x.validFrom).toISOString(), notAfter: new Date(x.validTo).toISOString(), fingerprint256: x.fingerprint256 };
}

async function generate(commonName: string): Promise<SpKey & { notAfter: string }> {
  const { privateKey, publicKey } = await generateKeyPair('rsa', {
    modulusLength: SP_KEY_BITS,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const notBefore = new Date(Date.now() - 5 * 60_000);
  const notAfter = new Date(notBefore);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + SP_CERT_YEARS);
  const pems = await selfsigned.generate([{ name: 'commonName', value: commonName }], {
    keyPair: { privateKey, publicKey },
    algorithm: 'sha256',
    notBeforeDate: notBefore,
    notAfterDate: notAfter,
  });
  return { privateKey, certificate: pems.cert, notAfter: notAfter.toISOString() };
}

const pending = new Map<Db, Promise<SpKey>>();

/**
 * The key pair, generated and stored on first need. Two nodes racing both generate, one insert
 * wins, and both then use the stored row, so nobody signs with a key that is not published.
 */
export async function ensureSpKey(db: Db, commonName: string): Promise<SpKey> {
  const existing = await readSpKey(db);
  if (existing) return existing;
  // One generation per process at a time (RSA generation takes a while).
  let p = pending.get(db);
  if (!p) {
    p = (async () => {
      const k = await generate(commonName);
      await db
        .insertInto('saml_sp_keys')
        .values({ id: ROW_ID, private_key: k.privateKey, certificate: k.certificate, created_at: nowIso(), not_after: k.notAfter })
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      const stored = await readSpKey(db);
      if (!stored) throw new Error('the SP signing key could not be stored');
      return stored;
    })().finally(() => pending.delete(db));
    pending.set(db, p);
  }
  return p;
}

/** The certificate's common name: the SP host, so an IdP admin can tell which SP it belongs to. */
export function spCommonName(publicUrl: string): string {
  try {
    return `Ledgerline SAML SP ${new URL(publicUrl).host}`.slice(0, 64);
  } catch {
    return 'Ledgerline SAML SP';
  }
}
