// returnTo / RelayState: only same-origin paths, so SSO can never be used as an open redirect.
// The one rule for where Ledgerline goes after a sign-in: the SAML endpoints here, and the password
// sign-in page in the web UI (web/src/auth/login-params.ts), which imports it, so it must not import
// anything from Node.
const BASE = 'http://ledgerline.invalid';

/** The normalised path (+ query + fragment) when `value` is a same-origin path, else null. */
export function safeReturnTo(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > 2000) return null;
  // "//host", "/\host" and control characters are how browsers get talked into other origins.
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\') || /[\u0000-\u001f\u007f\\]/.test(value)) return null;
  let u: URL;
  try {
    u = new URL(value, BASE);
  } catch {
    return null;
  }
  if (u.origin !== BASE) return null;
  // Never bounce back into the SSO endpoints themselves (loops).
  if (u.pathname.toLowerCase().startsWith('/authorizationserver/')) return null;
  // Dot segments can collapse into "//host" ("/.//evil.example" → "//evil.example"): refuse what the
  // normalised path would be read as, not only what was sent.
  const path = u.pathname + u.search + u.hash;
  return path.startsWith('//') ? null : path;
}
