// The page a person sees when SSO refuses them: one plain sentence and a reference id the admin can
// look up in the audit log. No reason codes, XML, keys or library messages.
const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export function refusalPage(message: string, referenceId: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Sign-in refused · Ledgerline</title></head>
<body>
<main>
<h1>Ledgerline could not sign you in</h1>
<p>${escapeHtml(message)}</p>
<p>Reference: <strong>${escapeHtml(referenceId)}</strong></p>
<p><a href="/login">Back to the sign-in page</a></p>
</main>
</body>
</html>
`;
}

/**
 * What a browser opening the ACS URL sees (an admin checking the address pasted into the IdP, a
 * bookmark of it): what the address is for and where to go, instead of a JSON 404.
 */
export function acsInfoPage(): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Single sign-on · Ledgerline</title></head>
<body>
<main>
<h1>This address receives sign-ins from your identity provider</h1>
<p>It is Ledgerline's single sign-on URL (the SAML Assertion Consumer Service): Okta or Entra ID sends people here after they sign in there, with a form the browser posts. Opening it directly does nothing.</p>
<p><a href="/login">Go to the Ledgerline sign-in page</a></p>
</main>
</body>
</html>
`;
}
