// What the provisioning log keeps of a request body: secrets masked at any depth, everything else as sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskedJson } from './scim.attributes.ts';

test('maskedJson masks password-, secret- and token-like keys at any depth and keeps the rest as JSON.stringify writes it', () => {
  const body = {
    userName: 'a@acme.com',
    password: 'p1',
    'urn:example:custom': { clientSecret: 's1', items: [{ apiToken: 't1', keep: 'k' }, 'token'] },
    passwordHint: 'h',
    tokens: 3,
  };
  assert.equal(
    maskedJson(body),
    JSON.stringify({
      userName: 'a@acme.com',
      password: '********',
      'urn:example:custom': { clientSecret: '********', items: [{ apiToken: '********', keep: 'k' }, 'token'] },
      passwordHint: '********',
      tokens: '********',
    }),
  );
  assert.equal(maskedJson(['password', null, 1]), '["password",null,1]');
});
