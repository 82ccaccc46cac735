import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generatePassword, hashPassword, validatePasswordStrength, verifyPassword } from './password.ts';

test('a hashed password verifies, and a different one does not', async () => {
  const stored = await hashPassword('correct horse battery staple');
  assert.ok(await verifyPassword('correct horse battery staple', stored));
  assert.ok(!(await verifyPassword('correct horse battery stapler', stored)));
  assert.ok(!(await verifyPassword('', stored)));
});

test('the stored form is scrypt with its parameters and never contains the password', async () => {
  const stored = await hashPassword('s3cret-passw0rd!');
  assert.match(stored, /^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
  assert.ok(!stored.includes('s3cret-passw0rd!'));
});

test('each hash gets its own salt, so equal passwords hash differently', async () => {
  const a = await hashPassword('same password twice');
  const b = await hashPassword('same password twice');
  assert.notEqual(a, b);
  assert.ok(await verifyPassword('same password twice', a));
  assert.ok(await verifyPassword('same password twice', b));
});

test('verifying against no stored hash (unknown or provisioned user) fails', async () => {
  assert.equal(await verifyPassword('anything at all', null), false);
});

test('a malformed stored hash fails instead of throwing', async () => {
  assert.equal(await verifyPassword('x', 'plain-text'), false);
  assert.equal(await verifyPassword('x', 'bcrypt$1$2$3$4$5'), false);
});

test('hashes made with other scrypt parameters still verify (parameters can be raised later)', async () => {
  const stored = await hashPassword('parameter check');
  const [, , r, p, salt, key] = stored.split('$');
  // Same key recomputed with explicit parameters must verify; a changed N must not.
  assert.ok(await verifyPassword('parameter check', ['scrypt', '32768', r, p, salt, key].join('$')));
  assert.ok(!(await verifyPassword('parameter check', ['scrypt', '16384', r, p, salt, key].join('$'))));
});

test('generated passwords are 20 characters from an unambiguous alphabet and differ each time', () => {
  const a = generatePassword();
  const b = generatePassword();
  assert.match(a, /^[A-HJ-NP-Za-km-z2-9]{20}$/);
  assert.notEqual(a, b);
  assert.equal(validatePasswordStrength(a), null);
});

test('passwords shorter than 12 characters are refused with a reason', () => {
  assert.match(validatePasswordStrength('short') ?? '', /12 characters/);
  assert.equal(validatePasswordStrength('twelve chars'), null);
  assert.match(validatePasswordStrength('x'.repeat(513)) ?? '', /512/);
});
