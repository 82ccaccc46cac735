// SP-initiated login, the ACS, and single logout. Every refusal is a SamlRefusal carrying the exact
// reason; the routes turn it into a page with a reference id and an audit entry.
import { randomUUID } from 'node:crypto';
import { inflateRawSync } from 'node:zlib';
import type { Kysely } from 'kysely';
import type { Profile } from '@node-saml/node-saml';
import type { Config } from '../config.ts';
import type { DB } from '../db/schema.ts';
import { jsonText } from '../db/dialect.ts';
import { recordAudit } from '../identity/audit.service.ts';
import { createSession, endSession } from '../identity/sessions.service.ts';
import type { Actor } from '../platform/actor.ts';
import { isUniqueViolation } from '../platform/errors.ts';
import { nowIso } from '../platform/time.ts';
import { assertionSeen, consumeRequest, discardRequest, markAssertionConsumed, requestCache } from './saml.cache.repo.ts';
import { attributeValue, checkVerifiedAssertion, decodeSamlResponse, inspectDecryptedAssertion, inspectResponse, parseOrRefuse, type CheckContext, type ResponseFacts } from './saml.checks.ts';
import { checkEncryptionAlgorithms } from './saml.encryption.ts';
import { usableCertificates } from './saml.metadata.ts';
import { SamlRefusal, refusalFromLibrary } from './saml.refusal.ts';
import { safeReturnTo } from './saml.returnto.ts';
import { readSettings, type SamlSettings } from './saml.settings.repo.ts';
import { spValues } from './saml.settings.service.ts';
import { buildSp, signingKeyFor, withSignedOctets } from './saml.sp.ts';
import { readSpKey } from './saml.spkey.service.ts';
import { allElements, hasDoctype, NS } from './saml.xml.ts';

export interface RefusalContext {
  issuer: string | null;
  nameId: string | null;
  userId: string | null;
}

/** A SamlRefusal with what was known about the message when it was refused (for the audit entry). */
export class AcsRefusal extends SamlRefusal {
  constructor(
    base: SamlRefusal,
    readonly context: RefusalContext,
  ) {
    super(base.reason, base.detail);
  }
}

async function usableSettings(db: Kysely<DB>): Promise<SamlSettings> {
  const s = await readSettings(db);
  if (!s.enabled) throw new SamlRefusal('sso_disabled', 'single sign-on is not enabled');
  if (!s.metadata || !s.idpEntityId || usableCertificates(s.metadata.certificates).length === 0) {
    throw new SamlRefusal('no_usable_certificate', 'no IdP signing certificate is currently valid');
  }
  return s;
}

export async function ssoStatus(db: Kysely<DB>): Promise<{ enabled: boolean; loginUrl: string }> {
  const s = await readSettings(db);
  const ok = s.enabled && Boolean(s.metadata) && usableCertificates(s.metadata?.certificates ?? []).length > 0;
  return { enabled: ok, loginUrl: '/AuthorizationServer/Saml2/Login' };
}

/** SP-initiated login: the redirect URL (or auto-post form) carrying a fresh AuthnRequest. */
export async function startLogin(db: Kysely<DB>, config: Config, returnTo: unknown): Promise<{ redirect: string } | { form: string }> {
  const s = await usableSettings(db);
  const target = safeReturnTo(returnTo) ?? '/';
  const signingKey = await signingKeyFor(db, config, s);
  const sp = buildSp(config, s, { inResponseTo: 'always', cache: requestCache(db, target), signingKey });
  // RelayState echoes the path for IdPs that show it, but the ACS uses the stored one.
  if (s.metadata!.ssoBinding === 'post') return { form: await sp.getAuthorizeFormAsync(target, undefined, {}) };
  return { redirect: withSignedOctets(await sp.getAuthorizeUrlAsync(target, undefined, {})) };
}

export interface AcsInput {
  samlResponse: unknown;
  relayState: unknown;
  ip: string | null;
  userAgent: string | null;
  requestId: string | null;
}

export interface AcsResult {
  sessionValue: string;
  returnTo: string;
  userId: string;
  userName: string;
}

export async function consumeResponse(db: Kysely<DB>, config: Config, input: AcsInput): Promise<AcsResult> {
  const ctx: RefusalContext = { issuer: null, nameId: null, userId: null };
  try {
    return await consume(db, config, input, ctx);
  } catch (err) {
    if (err instanceof SamlRefusal) throw new AcsRefusal(err, ctx);
    // Not a refusal we decided on: still refused (fail closed), but the cause goes to the log.
    const refusal = new AcsRefusal(refusalFromLibrary(err), ctx);
    refusal.cause = err;
    throw refusal;
  }
}

/** Refuses an assertion the replay cache has seen (markAssertionConsumed settles a race between two uses later). */
async function refuseReplay(db: Kysely<DB>, idpEntityId: string, assertionId: string): Promise<void> {
  if (await assertionSeen(db, idpEntityId, assertionId)) throw new SamlRefusal('replay', `assertion ${assertionId} was already used`);
}

async function consume(db: Kysely<DB>, config: Config, input: AcsInput, ctx: RefusalContext): Promise<AcsResult> {
  const s = await usableSettings(db);
  const idpEntityId = s.idpEntityId!;
  const checkCtx: CheckContext = { acsUrl: spValues(config).acsUrl, idpEntityId, clockSkewMs: s.clockSkewSeconds * 1000 };
  const xml = decodeSamlResponse(input.samlResponse);
  let facts: ResponseFacts;
  try {
    facts = inspectResponse(xml, checkCtx);
  } catch (err) {
    // Best effort for the audit entry: the claimed issuer / NameID of a refused document.
    ctx.issuer = /<(?:\w+:)?Issuer[^>]*>([^<]{1,300})</.exec(xml)?.[1] ?? null;
    ctx.nameId = /<(?:\w+:)?NameID[^>]*>([^<]{1,300})</.exec(xml)?.[1] ?? null;
    throw err;
  }
  ctx.issuer = facts.claimedIssuer;
  ctx.nameId = facts.claimedNameId;

  // An encrypted assertion's ID is known once node-saml has decrypted it (below).
  if (!facts.encrypted) await refuseReplay(db, idpEntityId, facts.assertionId);
  const solicited = facts.inResponseTo !== null;
  if (!solicited && !s.allowIdpInitiated) throw new SamlRefusal('unsolicited', 'unsolicited (IdP-initiated) response while IdP-initiated sign-in is off');

  const decryptionKey = facts.encrypted ? await spDecryptionKey(db) : undefined;
  const sp = buildSp(config, s, { inResponseTo: solicited ? 'always' : 'ifPresent', cache: requestCache(db), decryptionKey });
  let profile: Profile | null;
  try {
    ({ profile } = await sp.validatePostResponseAsync({ SAMLResponse: String(input.samlResponse) }));
  } catch (err) {
    // A response that fails validation burns the request id it names, as node-saml intends.
    if (solicited) await discardRequest(db, facts.inResponseTo!);
    throw refusalFromLibrary(err, facts.encrypted ? 'encrypted_assertion' : 'invalid_response');
  }
  if (!profile?.getAssertionXml) throw new SamlRefusal('no_assertion', 'node-saml returned no assertion');
  const assertionXml = profile.getAssertionXml();
  if (facts.encrypted) {
    facts = inspectDecryptedAssertion(assertionXml, facts);
    ctx.nameId = facts.claimedNameId;
    await refuseReplay(db, idpEntityId, facts.assertionId);
  }
  const verified = checkVerifiedAssertion(assertionXml, facts, checkCtx, solicited ? facts.inResponseTo : null);
  ctx.issuer = verified.issuer;
  ctx.nameId = verified.nameId;

  let returnTo = '/';
  if (solicited) {
    const req = await consumeRequest(db, facts.inResponseTo!);
    if (!req) throw new SamlRefusal('in_response_to', `request ${facts.inResponseTo} is unknown, expired or already used`);
    returnTo = req.returnTo;
  } else {
    returnTo = safeReturnTo(input.relayState) ?? '/';
  }
  if (!(await markAssertionConsumed(db, idpEntityId, verified.assertionId, verified.notOnOrAfter + s.clockSkewSeconds * 1000))) {
    throw new SamlRefusal('replay', `assertion ${verified.assertionId} was already used`);
  }

  const userName = s.userNameSource === 'nameId' ? verified.nameId : attributeValue(assertionXml, s.userNameSource);
  if (!userName) throw new SamlRefusal('no_name_id', `the assertion has no attribute "${s.userNameSource}" to match to a user name`);
  ctx.nameId = userName;
  const findUser = () => db.selectFrom('users').select(['id', 'user_name', 'status']).where('user_name_norm', '=', userName.toLowerCase()).executeTakeFirst();
  let user = await findUser();
  const actor: Actor = { id: user?.id ?? null, name: userName, source: 'saml', ip: input.ip, requestId: input.requestId };
  if (!user) {
    if (!s.jitProvisioning) throw new SamlRefusal('unknown_user', `no user has the user name "${userName}"`);
    // Another sign-in of the same new user (a second tab, a double post) or the IdP's SCIM create may
    // have created them since the read above: then this sign-in is theirs.
    user = (await createJitUser(db, actor, userName, assertionXml)) ?? (await findUser());
    if (!user) throw new Error(`user ${userName} was created meanwhile and is gone again`);
  }
  ctx.userId = user.id;
  if (user.status === 'disabled') throw new SamlRefusal('user_disabled', `user ${user.user_name} is disabled`);
  if (user.status === 'suspended') throw new SamlRefusal('user_suspended', `user ${user.user_name} is suspended`);
  if (user.status !== 'active') throw new SamlRefusal('user_disabled', `user ${user.user_name} has status ${user.status}`);

  const sessionValue = await db.transaction().execute(async (trx) => {
    const value = await createSession(trx, config, {
      userId: user.id,
      method: 'saml',
      ssoInfo: { nameId: verified.nameId, nameIdFormat: verified.nameIdFormat, sessionIndex: verified.sessionIndex, issuer: verified.issuer },
      ip: input.ip,
      userAgent: input.userAgent,
    });
    await recordAudit(trx, { ...actor, id: user.id }, {
      action: 'auth.sso_login',
      targetType: 'user',
      targetId: user.id,
      targetName: user.user_name,
      summary: `signed in with SSO (${solicited ? 'SP-initiated' : 'IdP-initiated'})`,
      details: { issuer: verified.issuer, nameId: verified.nameId, sessionIndex: verified.sessionIndex, assertionId: verified.assertionId, solicited },
    });
    return value;
  });
  return { sessionValue, returnTo, userId: user.id, userName: user.user_name };
}

/** Creates the user an assertion names; null when a user of that name exists already (created since it was looked for). */
async function createJitUser(db: Kysely<DB>, actor: Actor, userName: string, assertionXml: string): Promise<{ id: string; user_name: string; status: 'active' | 'suspended' | 'disabled' } | null> {
  const attr = (n: string) => {
    try {
      return attributeValue(assertionXml, n);
    } catch {
      return null;
    }
  };
  const email = attr('email') ?? (userName.includes('@') ? userName : null);
  const given = attr('firstName') ?? attr('givenName');
  const family = attr('lastName') ?? attr('surname');
  const display = attr('displayName') ?? ([given, family].filter(Boolean).join(' ') || null);
  const now = nowIso();
  const id = randomUUID();
  try {
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('users')
        .values({
          id, user_name: userName, user_name_norm: userName.toLowerCase(), display_name: display, given_name: given, family_name: family,
          email, email_norm: email?.toLowerCase() ?? null, external_id: null, role_id: null, status: 'active', source: 'idp',
          time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: null, version: 1, created_at: now, updated_at: now,
        })
        .execute();
      await recordAudit(trx, { ...actor, id }, {
        action: 'user.create',
        targetType: 'user',
        targetId: id,
        targetName: userName,
        summary: `created user ${userName} just in time from an SSO assertion`,
        details: { userName, email, displayName: display },
      });
    });
  } catch (err) {
    if (isUniqueViolation(err)) return null;
    throw err;
  }
  return { id, user_name: userName, status: 'active' };
}

// ---- single logout ---------------------------------------------------------------------------

/** Ends the local session; returns where to send the browser (the IdP's SLO when it advertises one). */
export async function logout(db: Kysely<DB>, config: Config, cookieValue: string | undefined): Promise<string> {
  const ssoInfo = await endSession(db, cookieValue);
  const s = await readSettings(db);
  if (!ssoInfo || !s.enabled || !s.metadata?.sloUrl || typeof ssoInfo.nameId !== 'string' || usableCertificates(s.metadata.certificates).length === 0) return '/';
  // Okta's Single Logout requires signed LogoutRequests: signed whenever requests are signed.
  const sp = buildSp(config, s, { inResponseTo: 'ifPresent', cache: requestCache(db), signingKey: await signingKeyFor(db, config, s) });
  const profile = {
    issuer: String(ssoInfo.issuer ?? s.idpEntityId),
    nameID: ssoInfo.nameId,
    nameIDFormat: typeof ssoInfo.nameIdFormat === 'string' ? ssoInfo.nameIdFormat : 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified',
    sessionIndex: typeof ssoInfo.sessionIndex === 'string' ? ssoInfo.sessionIndex : undefined,
  } as Profile;
  return withSignedOctets(await sp.getLogoutUrlAsync(profile, '/', {}));
}

const SIG_ALGS = new Set(['http://www.w3.org/2001/04/xmldsig-more#rsa-sha256', 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512']);

/**
 * A LogoutRequest or LogoutResponse from the IdP over HTTP-Redirect. LogoutRequests must be signed
 * (node-saml would accept an unsigned one, which lets anyone sign people out). Returns the URL to
 * redirect to: our LogoutResponse for a request, '/' after a response.
 */
export async function idpLogoutRedirect(db: Kysely<DB>, config: Config, query: Record<string, string>, rawQuery: string): Promise<{ redirect: string; endedSessions: number; nameId: string | null }> {
  const s = await usableSettings(db);
  const msg = query.SAMLRequest ?? query.SAMLResponse;
  if (typeof msg !== 'string') throw new SamlRefusal('malformed', 'no SAMLRequest or SAMLResponse in the logout URL');
  let inflated: string;
  try {
    inflated = inflateRawSync(Buffer.from(msg, 'base64'), { maxOutputLength: 256 * 1024 }).toString('utf8');
  } catch {
    throw new SamlRefusal('malformed', 'the logout message is not deflated base64');
  }
  if (hasDoctype(inflated)) throw new SamlRefusal('doctype', 'the logout message declares a DOCTYPE');
  if (query.SAMLRequest && (!query.Signature || !SIG_ALGS.has(query.SigAlg ?? ''))) {
    throw new SamlRefusal(query.Signature ? 'weak_algorithm' : 'signature', 'IdP-initiated LogoutRequest must be signed with RSA-SHA256 or RSA-SHA512');
  }
  const sp = buildSp(config, s, { inResponseTo: 'ifPresent', cache: requestCache(db), signingKey: await signingKeyFor(db, config, s), decryptionKey: await decryptionKeyFor(db, inflated) });
  let result;
  try {
    result = await sp.validateRedirectAsync(query, rawQuery);
  } catch (err) {
    throw refusalFromLibrary(err);
  }
  if (!query.SAMLRequest || !result.profile) return { redirect: '/', endedSessions: 0, nameId: null };
  const profile = result.profile;
  const ended = await endSessionsForNameId(db, profile.nameID, profile.sessionIndex ?? null);
  const redirect = withSignedOctets(await sp.getLogoutResponseUrlAsync(profile, query.RelayState ?? '', {}, true));
  return { redirect, endedSessions: ended, nameId: profile.nameID };
}

/** Same for HTTP-POST LogoutRequests (signature on the document, verified by node-saml). */
export async function idpLogoutPost(db: Kysely<DB>, config: Config, body: Record<string, string>): Promise<{ redirect: string; endedSessions: number; nameId: string | null }> {
  const s = await usableSettings(db);
  if (typeof body.SAMLRequest !== 'string') throw new SamlRefusal('malformed', 'no SAMLRequest in the logout POST');
  const xml = Buffer.from(body.SAMLRequest, 'base64').toString('utf8');
  if (hasDoctype(xml)) throw new SamlRefusal('doctype', 'the logout message declares a DOCTYPE');
  const sp = buildSp(config, s, { inResponseTo: 'ifPresent', cache: requestCache(db), signingKey: await signingKeyFor(db, config, s), decryptionKey: await decryptionKeyFor(db, xml) });
  let result;
  try {
    result = await sp.validatePostRequestAsync({ SAMLRequest: body.SAMLRequest });
  } catch (err) {
    throw refusalFromLibrary(err);
  }
  const ended = await endSessionsForNameId(db, result.profile.nameID, result.profile.sessionIndex ?? null);
  const redirect = withSignedOctets(await sp.getLogoutResponseUrlAsync(result.profile, body.RelayState ?? '', {}, true));
  return { redirect, endedSessions: ended, nameId: result.profile.nameID };
}

/**
 * The SP key when a LogoutRequest carries its NameID encrypted (an EncryptedID, which IdPs that
 * encrypt assertions may send), once the encryption's algorithms are checked; node-saml decrypts it.
 */
async function decryptionKeyFor(db: Kysely<DB>, xml: string): Promise<string | undefined> {
  if (!xml.includes('EncryptedID')) return undefined;
  const encrypted = allElements(parseOrRefuse(xml).documentElement!).filter((e) => e.namespaceURI === NS.assertion && e.localName === 'EncryptedID');
  for (const e of encrypted) checkEncryptionAlgorithms(e);
  return encrypted.length ? spDecryptionKey(db) : undefined;
}

/**
 * The SP's private key, for node-saml to decrypt what the IdP encrypted for the SP certificate. The
 * key exists once the SP metadata or certificate was first read, which the IdP needed to encrypt.
 */
async function spDecryptionKey(db: Kysely<DB>): Promise<string> {
  const key = await readSpKey(db);
  if (!key) throw new SamlRefusal('encrypted_assertion', 'the message is encrypted, but this SP has no key pair yet (it is made when the SP metadata or certificate is first read)');
  return key.privateKey;
}

async function endSessionsForNameId(db: Kysely<DB>, nameId: string, sessionIndex: string | null): Promise<number> {
  let q = db.deleteFrom('sessions').where('method', '=', 'saml').where(jsonText(db, 'sso_info', ['nameId']), '=', nameId);
  if (sessionIndex) q = q.where(jsonText(db, 'sso_info', ['sessionIndex']), '=', sessionIndex);
  const res = await q.executeTakeFirst();
  return Number(res.numDeletedRows ?? 0);
}
