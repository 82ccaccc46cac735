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
    maskedJson(body).text,
    JSON.stringify({
      userName: 'a@acme.com',
      password: '********',
      'urn:example:custom': { clientSecret: '********', items: [{ apiToken: '********', keep: 'k' }, 'token'] },
      passwordHint: '********',
      tokens: '********',
    }),
  );
  assert.equal(maskedJson(['password', null, 1]).text, '["password",null,1]');
});

test('maskedJson cut at a limit gives the first characters of the whole text, however deep the cut falls', () => {
  const body = {
    schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'],
    displayName: 'Ünïcödé "quoted" \\ group',
    members: Array.from({ length: 50 }, (_, i) => ({ value: `id-${i}`, display: `Member ${i}`, secret: { nested: [i, true, null] } })),
    empty: { a: [], b: {} },
  };
  const whole = maskedJson(body);
  assert.equal(whole.cut, false);
  assert.ok(!whole.text.includes('"nested"'), 'the secret objects are masked whole');
  for (let limit = 0; limit <= whole.text.length + 1; limit++) {
    const head = maskedJson(body, limit);
    assert.equal(head.cut, limit < whole.text.length, `cut at ${limit}`);
    assert.equal(head.text, whole.text.slice(0, limit), `text at ${limit}`);
  }
});
