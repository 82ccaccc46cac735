// What the sign-in page takes from its URL: where to go after signing in (?returnTo=). It comes
// from links anyone can craft, so only a same-origin path is used; anything else falls back to Home.
// The rule is the server's (src/saml/saml.returnto.ts), imported so the two cannot drift.
import { safeReturnTo as sameOriginPath } from '../../../src/saml/saml.returnto.ts';

/**
 * A same-origin path to go to after signing in, else '/'. Refused: other origins ("//host", "/\host",
 * "https://…"), control characters (a browser drops a tab, so "/\t/evil.example" is "//evil.example"),
 * backslashes, the SSO endpoints, and the sign-in page itself (a loop).
 */
export function safeReturnTo(v: string | null): string {
  const path = sameOriginPath(v);
  return path && !path.toLowerCase().startsWith('/login') ? path : '/';
}
