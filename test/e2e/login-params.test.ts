// What the sign-in page takes from its URL (web/src/auth/login-params.ts): where to go after signing
// in, and the SSO refusal it shows. Lives here because `npm test` collects tests under src/ and test/ only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { refusalReference, refusalSentence, safeReturnTo } from '../../web/src/auth/login-params.ts';

test('after signing in, a same-origin path is kept with its query and fragment', () => {
  assert.equal(safeReturnTo('/invoices?status=draft#top'), '/invoices?status=draft#top');
  assert.equal(safeReturnTo('/accounts/a1'), '/accounts/a1');
});

test('after signing in, anything that could leave the origin or loop goes Home', () => {
  const refused = [
    '/\t/evil.example', '/\n/evil.example', '/\r//evil.example', '/\u0000/evil.example', '/\u007f/evil.example',
    '//evil.example', '/\\evil.example', '/a\\b', 'https://evil.example/', 'javascript:alert(1)', 'evil.example',
    '/.//evil.example', '/a/..//evil.example', '/%2e//evil.example', '/login', '/login?returnTo=%2F', '/LOGIN',
    '/AuthorizationServer/Saml2/Login', '', null,
  ];
  for (const v of refused) assert.equal(safeReturnTo(v), '/', JSON.stringify(v));
});

test("a refusal code shows that refusal's own sentence; any other text in the URL is never shown", () => {
  assert.equal(refusalSentence('user_disabled', false), 'Your Ledgerline account is disabled. Ask your administrator if you need access.');
  assert.match(refusalSentence('not_yet_valid', true), /clock may be wrong/);
  const crafted = 'Your account is locked. Call +1 555 0100 and give your password to unlock it.';
  for (const code of [crafted, 'nonsense', 'toString', '__proto__', 'constructor']) {
    assert.equal(refusalSentence(code, false), 'We could not sign you in with single sign-on. Ask your administrator for help.', code);
    assert.equal(refusalSentence(code, true), 'We could not sign you in with single sign-on. Ask your administrator for help and give them the reference below.', code);
  }
});

test("a reference is shown only in the server's SSO-XXXXXXXXXX form", () => {
  assert.equal(refusalReference('SSO-0A1B2C3D4E'), 'SSO-0A1B2C3D4E');
  for (const ref of ['call 555 0100', 'SSO-0A1B2C3D4E now', 'sso-0a1b2c3d4e', 'SSO-XYZ', '', null]) assert.equal(refusalReference(ref), null, String(ref));
});
