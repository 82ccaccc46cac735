// JSON text carried into a response as it is: a value (JsonText) or an object's members (JsonMembers).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isJsonObjectText, topLevelUrnKeys, JsonMembers, JsonText, MEMBERS_KEY, stringifyResponse, withMembersParsed } from './json-text.ts';

const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

test('an object\'s members are written in the place of its JsonMembers, with the commas JSON needs', () => {
  const user = (stored: string) => ({ schemas: ['s'], id: '1', [MEMBERS_KEY]: new JsonMembers(stored), active: true });
  assert.equal(stringifyResponse(user('{"name":{"givenName":"A"},"emails":[{"value":"a@x"}]}')), '{"schemas":["s"],"id":"1","name":{"givenName":"A"},"emails":[{"value":"a@x"}],"active":true}');
  assert.equal(stringifyResponse(user('{}')), '{"schemas":["s"],"id":"1","active":true}');
  // PostgreSQL writes blanks into JSON it renders; they are kept, and an object of blanks has no members.
  assert.equal(stringifyResponse(user('{ "a": 1 }')), '{"schemas":["s"],"id":"1", "a": 1 ,"active":true}');
  assert.equal(stringifyResponse(user('{ }')), '{"schemas":["s"],"id":"1","active":true}');
  // Last in its object.
  assert.equal(stringifyResponse({ id: '1', [MEMBERS_KEY]: new JsonMembers('{"a":"}"}') }), '{"id":"1","a":"}"}');
});

test('a page mixes JsonMembers and JsonText values, each written where it was; everything written is valid JSON', () => {
  const page = {
    Resources: [
      { id: '1', [MEMBERS_KEY]: new JsonMembers('{"displayName":"Quote \\" and , comma"}'), members: new JsonText('[{"value":"m1"}]') },
      { id: '2', [MEMBERS_KEY]: new JsonMembers('{}'), members: new JsonText('[]') },
      { id: '3', [MEMBERS_KEY]: new JsonMembers('{"x":[1,{"y":null}]}') },
    ],
  };
  const text = stringifyResponse(page);
  assert.deepEqual(JSON.parse(text), {
    Resources: [
      { id: '1', displayName: 'Quote " and , comma', members: [{ value: 'm1' }] },
      { id: '2', members: [] },
      { id: '3', x: [1, { y: null }] },
    ],
  });
  // The next response starts afresh.
  assert.equal(stringifyResponse({ a: 1 }), '{"a":1}');
});

test('withMembersParsed puts the members in the JsonMembers\' place, for a projection to pick from', () => {
  const obj = { schemas: ['s'], id: '1', [MEMBERS_KEY]: new JsonMembers('{"name":{"givenName":"A"},"title":"T"}'), active: false };
  const parsed = withMembersParsed(obj);
  assert.deepEqual(parsed, { schemas: ['s'], id: '1', name: { givenName: 'A' }, title: 'T', active: false });
  assert.deepEqual(Object.keys(parsed), ['schemas', 'id', 'name', 'title', 'active']);
  const plain = { id: '2' };
  assert.equal(withMembersParsed(plain), plain, 'an object without one is returned as it is');
});

test('topLevelUrnKeys finds a name of the object itself, not one nested deeper or a string value', () => {
  const q = JSON.stringify;
  const hasTopLevelKey = (text: string, key: string) => topLevelUrnKeys(text).includes(key);
  assert.equal(hasTopLevelKey(q({ [ENTERPRISE]: { department: 'D' } }), ENTERPRISE), true);
  assert.equal(hasTopLevelKey(q({ name: { givenName: 'A' }, [ENTERPRISE]: {} }), ENTERPRISE), true);
  assert.equal(hasTopLevelKey('{ "a": 1,\n  "' + ENTERPRISE + '" : {} }', ENTERPRISE), true);
  assert.equal(hasTopLevelKey(q({ name: { givenName: 'A' } }), ENTERPRISE), false);
  // Nested in another extension's object, or in an array.
  assert.equal(hasTopLevelKey(q({ 'urn:example:extension:custom:1.0:User': { [ENTERPRISE]: 'x' } }), ENTERPRISE), false);
  assert.equal(hasTopLevelKey(q({ list: [{ [ENTERPRISE]: 1 }] }), ENTERPRISE), false);
  // A string value that is the name, alone or in an array, and names inside string values.
  assert.equal(hasTopLevelKey(q({ title: ENTERPRISE }), ENTERPRISE), false);
  assert.equal(hasTopLevelKey(q({ tags: ['a', ENTERPRISE] }), ENTERPRISE), false);
  assert.equal(hasTopLevelKey(q({ note: `{"${ENTERPRISE}":1}`, b: 2 }), ENTERPRISE), false);
  assert.equal(hasTopLevelKey(q({ note: 'a \\" { [ , ', [ENTERPRISE]: {} }), ENTERPRISE), true);
  assert.equal(hasTopLevelKey('{}', ENTERPRISE), false);
});

test('topLevelUrnKeys lists the names of the object itself that are URNs, in order, escapes read', () => {
  const CUSTOM = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
  assert.deepEqual(topLevelUrnKeys(JSON.stringify({ a: 1, [ENTERPRISE]: { x: 'urn:no' }, [CUSTOM]: { [ENTERPRISE]: 1 } })), [ENTERPRISE, CUSTOM]);
  assert.deepEqual(topLevelUrnKeys(JSON.stringify({ note: '"urn:x": 1', list: [{ 'urn:y': 1 }] })), []);
  assert.deepEqual(topLevelUrnKeys('{"urn:a\\u0062:User":{}}'), ['urn:ab:User']);
  assert.deepEqual(topLevelUrnKeys('{}'), []);
});

/** What JSON.parse says of `text`: one object, or not. */
const parsesToObject = (text: string) => {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
};

test('isJsonObjectText accepts exactly the texts JSON.parse reads as one object', () => {
  for (const ok of ['{}', ' { } ', '{"a":1}', '{"a":[1,-2.5e+3,0,true,false,null,"x\\u00e9\\n"],"b":{"c":{}}}', '{"a":[],"b":[[]]}', '\n{"e":"\\"\\/\\b\\f\\r\\t"}\t'])
    assert.equal(isJsonObjectText(ok), true, ok);
  // Edited outside Ledgerline: a trailing comma, cut short, single quotes, a bare word, a control character, two values.
  for (const bad of ['{"title":"x",}', '{"title":"x"', '{"a":[1,]}', "{'a':1}", '{"a":tru}', '{"a":"line\nbreak"}', '{}{}', '{"a":01}', '{"a":1.}', '{"a":-}', '{"a" 1}', '{"a":"\\x"}', '{"a":"\\u12"}', '[]', '"x"', '', '{"a":1}]'])
    assert.equal(isJsonObjectText(bad), false, bad);
  // Nesting far deeper than a recursive check could go.
  assert.equal(isJsonObjectText(`{"a":${'['.repeat(200_000)}${']'.repeat(200_000)}}`), true);
  assert.equal(isJsonObjectText(`{"a":${'['.repeat(200_000)}${']'.repeat(199_999)}}`), false);
});

test('isJsonObjectText agrees with JSON.parse on every one-character change of a stored user', () => {
  const text = JSON.stringify({ name: { givenName: 'Ann', familyName: 'Lee' }, emails: [{ value: 'a@x.io', primary: true }], title: 'CFO \u00e9"\\', n: -1.5e-3, ok: false, none: null, list: [] });
  const alphabet = ['{', '}', '[', ']', '"', ',', ':', '\\', ' ', '\n', '\u0001', '-', '0', '1', '.', 'e', 'E', '+', 't', 'n', 'u', 'x'];
  let cases = 0;
  for (let i = 0; i <= text.length; i++) {
    const variants = [text.slice(0, i) + text.slice(i + 1), ...alphabet.map((ch) => text.slice(0, i) + ch + text.slice(i)), ...alphabet.map((ch) => text.slice(0, i) + ch + text.slice(i + 1))];
    for (const v of variants) {
      assert.equal(isJsonObjectText(v), parsesToObject(v), JSON.stringify(v));
      cases++;
    }
  }
  assert.ok(cases > 5000, `${cases} texts`);
});
