// What the sign-in page takes from its URL (web/src/auth/login-params.ts): where to go after signing
// in. Lives here because `npm test` collects tests under src/ and test/ only.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { safeReturnTo } from '../../web/src/auth/login-params.ts';

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
