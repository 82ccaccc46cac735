// What the provisioning log keeps of a request body: secrets masked at any depth, everything else as sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskedJson, maskedRaw } from './scim.attributes.ts';

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

test("maskedJson masks the value of a PATCH operation whose path names a password, in any case and with its schema's URN", () => {
  const body: { schemas: string[]; Operations: Record<string, string>[] } = {
    schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
    Operations: [
      { op: 'replace', path: 'password', value: 'p1' },
      { Op: 'Replace', Path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', Value: 'p2' },
      { op: 'add', path: 'emails[value eq "password@acme.com"].type', value: 'work' },
      { op: 'replace', path: 'displayName', value: 'Ann' },
    ],
  };
  const text = maskedJson(body).text;
  assert.ok(!text.includes('p1') && !text.includes('p2'), text);
  assert.equal(
    text,
    JSON.stringify({
      ...body,
      Operations: [
        { op: 'replace', path: 'password', value: '********' },
        { Op: 'Replace', Path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', Value: '********' },
        body.Operations[2],
        body.Operations[3],
      ],
    }),
  );
});

test('maskedRaw keeps a body that is not JSON unless it mentions a password, secret or token, which it drops whole', () => {
  assert.equal(maskedRaw('{"userName": "ann", broken'), '{"userName": "ann", broken');
  for (const raw of ['{"password":"Raw\\"Pw-Secret-444", broken', '{"Operations":[{"op":"replace","path":"password","value":"Pw-555"}', "{'clientSecret': 'x'}"]) {
    const kept = maskedRaw(raw, 9000);
    assert.ok(!kept.includes('Pw-') && !kept.includes("'x'"), kept);
    assert.equal(kept, '[not kept: 9,000 characters that are not JSON and mention a password, secret or token]');
  }
});
