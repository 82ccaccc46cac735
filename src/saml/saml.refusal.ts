// A refused SAML message: the exact reason for the audit log, and the sentence shown to the person.
// The person's sentence never carries the reason's details (keys, XML, library messages).
// The sentences are also the only ones the sign-in page shows for /login?error=<reason>
// (web/src/auth/login-params.ts imports them), so this module must not import anything from Node.

export type RefusalReason =
  | 'sso_disabled'
  | 'no_usable_certificate'
  | 'malformed'
  | 'doctype'
  | 'comment_or_pi'
  | 'duplicate_id'
  | 'multiple_assertions'
  | 'signature_wrapping'
  | 'no_assertion'
  | 'encrypted_assertion'
  | 'weak_algorithm'
  | 'signature'
  | 'status'
  | 'destination'
  | 'issuer'
  | 'recipient'
  | 'audience'
  | 'expired'
  | 'not_yet_valid'
  | 'in_response_to'
  | 'unsolicited'
  | 'replay'
  | 'no_name_id'
  | 'unknown_user'
  | 'user_disabled'
  | 'user_suspended'
  | 'rate_limited'
  | 'wrong_binding'
  | 'invalid_response';

export const REFUSAL_GENERIC = 'We could not sign you in with single sign-on. Ask your administrator for help and give them the reference below.';

const MESSAGES: Partial<Record<RefusalReason, string>> = {
  sso_disabled: 'Single sign-on is not enabled for Ledgerline. Sign in with your username and password, or ask your administrator.',
  unknown_user: 'Your administrator has not given you access to Ledgerline.',
  user_disabled: 'Your Ledgerline account is disabled. Ask your administrator if you need access.',
  user_suspended: 'Your Ledgerline account is suspended. Ask your administrator if you need access.',
  expired: 'This sign-in has expired. Start again from your identity provider or the Ledgerline sign-in page.',
  not_yet_valid: 'This sign-in is not valid yet; a clock may be wrong. Try again in a minute, or ask your administrator.',
  replay: 'This sign-in was already used. Start again from your identity provider or the Ledgerline sign-in page.',
  in_response_to: 'This sign-in does not match a sign-in started here, or it was already used. Start again from the Ledgerline sign-in page.',
  unsolicited: 'Sign-in from the identity provider dashboard is turned off for Ledgerline. Use "Log in with SSO" on the Ledgerline sign-in page.',
  rate_limited: 'Too many sign-in attempts from your address. Wait a minute and try again.',
};

/** The sentence for a refusal reason; anything else (an unknown code, or free text) gets the generic one. */
export function refusalMessage(reason: string): string {
  return Object.hasOwn(MESSAGES, reason) ? MESSAGES[reason as RefusalReason]! : REFUSAL_GENERIC;
}

/** A reference id as the refusal page gives it (src/saml/saml.plugin.ts): "SSO-" and 10 hex digits. */
export const REFERENCE_ID_RE = /^SSO-[0-9A-F]{10}$/;

export class SamlRefusal extends Error {
  readonly reason: RefusalReason;
  /** Exact technical detail, for the audit log only. */
  readonly detail: string;
  constructor(reason: RefusalReason, detail: string) {
    super(`${reason}: ${detail}`);
    this.name = 'SamlRefusal';
    this.reason = reason;
    this.detail = detail;
  }
  get userMessage(): string {
    return refusalMessage(this.reason);
  }
  get httpStatus(): number {
    return this.reason === 'rate_limited' ? 429 : 403;
  }
}

/**
 * Maps an error thrown by node-saml to a refusal reason (its messages are the only signal it gives);
 * `otherwise` when none matches (for an encrypted message: its decryption, whose errors come from
 * OpenSSL and xml-encryption in many wordings).
 */
export function refusalFromLibrary(err: unknown, otherwise: RefusalReason = 'invalid_response'): SamlRefusal {
  if (err instanceof SamlRefusal) return err;
  const msg = err instanceof Error ? err.message : String(err);
  const m = msg.toLowerCase();
  let reason: RefusalReason = otherwise;
  if (m.includes('signature')) reason = 'signature';
  else if (m.includes('not yet valid')) reason = 'not_yet_valid';
  else if (m.includes('expired') || m.includes('no valid subject confirmation')) reason = 'expired';
  else if (m.includes('audience')) reason = 'audience';
  else if (m.includes('inresponseto')) reason = 'in_response_to';
  else if (m.includes('multiple assertions')) reason = 'multiple_assertions';
  else if (m.includes('missing saml assertion')) reason = 'no_assertion';
  return new SamlRefusal(reason, `node-saml: ${msg.slice(0, 300)}`);
}
