import { test } from 'node:test';
import assert from 'node:assert/strict';
import { safeReturnTo } from './saml.returnto.ts';

test('same-origin paths are kept with their query and fragment', () => {
  assert.equal(safeReturnTo('/invoices'), '/invoices');
  assert.equal(safeReturnTo('/invoices?status=open#top'), '/invoices?status=open#top');
  assert.equal(safeReturnTo('/a/../b'), '/b');
});

test('anything that could leave the origin is refused', () => {
  for (const v of ['https://evil.example', '//evil.example', '/\\evil.example', '\\\\evil', 'javascript:alert(1)', '/\t/evil.example', 'evil', '', null, 42, '/AuthorizationServer/Saml2/Login', '/x'.repeat(1500)]) {
    assert.equal(safeReturnTo(v), null, String(v));
  }
});

test('a path whose dot segments collapse into "//host" is refused, not normalised into another origin', () => {
  for (const v of ['/.//evil.example', '/a/..//evil.example', '/%2e//evil.example']) {
    assert.equal(safeReturnTo(v), null, v);
  }
  assert.equal(safeReturnTo('/a/./b//c'), '/a/b//c');
});
