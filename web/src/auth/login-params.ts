// What the sign-in page takes from its URL: where to go after signing in (?returnTo=) and the SSO
// refusal to show (?error=&ref=). Both come from links anyone can craft, so only a same-origin path,
// a known refusal's own sentence and a reference id in the server's format are used; anything else
// falls back to Home, the generic sentence and no reference. The rules are the server's
// (src/saml/saml.returnto.ts, src/saml/saml.refusal.ts), imported so the two cannot drift.
import { safeReturnTo as sameOriginPath } from '../../../src/saml/saml.returnto.ts';
import { REFERENCE_ID_RE, REFUSAL_GENERIC, refusalMessage } from '../../../src/saml/saml.refusal.ts';

/**
 * A same-origin path to go to after signing in, else '/'. Refused: other origins ("//host", "/\host",
 * "https://…"), control characters (a browser drops a tab, so "/\t/evil.example" is "//evil.example"),
 * backslashes, the SSO endpoints, and the sign-in page itself (a loop).
 */
export function safeReturnTo(v: string | null): string {
  const path = sameOriginPath(v);
  return path && !path.toLowerCase().startsWith('/login') ? path : '/';
}

/** The reference id to show, when `ref` is one the server gives (SSO-XXXXXXXXXX), else null. */
export function refusalReference(ref: string | null): string | null {
  return ref && REFERENCE_ID_RE.test(ref) ? ref : null;
}

const GENERIC_WITHOUT_REFERENCE = 'We could not sign you in with single sign-on. Ask your administrator for help.';

/** The sentence for a refusal code: a known reason's own, else the generic one. Never the URL's text. */
export function refusalSentence(code: string, hasReference: boolean): string {
  const sentence = refusalMessage(code);
  return sentence === REFUSAL_GENERIC && !hasReference ? GENERIC_WITHOUT_REFERENCE : sentence;
}
