// The PATCH engine (RFC 7644 §3.5.2) on plain objects: every op with and without path, value-path
// filters, dotted and URN keys, Entra's quirks, and how member operations fold into a difference.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch, parsePatchRequest, type PatchOperation } from '../../src/scim/patch.engine.ts';
import type { Resource } from '../../src/scim/scim.attributes.ts';

const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const user = (): Resource => ({
  userName: 'alice@acme.com',
  active: true,
  name: { givenName: 'Alice', familyName: 'Smith' },
  emails: [
    { value: 'alice@acme.com', type: 'work', primary: true },
    { value: 'alice@home.org', type: 'home' },
  ],
  [ENT]: { department: 'Finance' },
});
const patchUser = (ops: PatchOperation[], base = user()) => applyPatch('User', base, ops).attributes;

describe('PATCH on users', () => {
  test('replace with a path sets a simple attribute; ops are matched case-insensitively', () => {
    assert.equal(patchUser([{ op: 'Replace', path: 'userName', value: 'alice2@acme.com' }]).userName, 'alice2@acme.com');
    assert.equal(patchUser([{ op: 'REPLACE', path: 'name.familyName', value: 'Jones' }]).name && (patchUser([{ op: 'REPLACE', path: 'name.familyName', value: 'Jones' }]).name as any).familyName, 'Jones');
  });

  test('"False" and "True" strings are booleans (Entra)', () => {
    assert.equal(patchUser([{ op: 'Replace', path: 'active', value: 'False' }]).active, false);
    assert.equal(patchUser([{ op: 'replace', path: 'active', value: 'True' }], { ...user(), active: false }).active, true);
    assert.throws(() => patchUser([{ op: 'replace', path: 'active', value: 'maybe' }]), (e: any) => e.status === 400);
  });

  test('replace without a path takes a value object, including dotted and URN-prefixed keys', () => {
    const r = patchUser([{ op: 'replace', value: { active: false, 'name.givenName': 'Al', [`${ENT}:employeeNumber`]: '42', displayName: 'Al Smith' } }]);
    assert.equal(r.active, false);
    assert.deepEqual(r.name, { givenName: 'Al', familyName: 'Smith' });
    assert.deepEqual(r[ENT], { department: 'Finance', employeeNumber: '42' });
    assert.equal(r.displayName, 'Al Smith');
  });

  test('a value object keyed by the extension URN updates extension attributes', () => {
    const r = patchUser([{ op: 'add', value: { [ENT]: { costCenter: 'CC1', manager: { value: 'boss-id' } } } }]);
    assert.deepEqual(r[ENT], { department: 'Finance', costCenter: 'CC1', manager: { value: 'boss-id' } });
  });

  test("a bare id is a manager's value (Entra); a complex attribute without a value sub-attribute still needs an object", () => {
    assert.deepEqual(patchUser([{ op: 'Add', path: `${ENT}:manager`, value: 'boss-id' }])[ENT], { department: 'Finance', manager: { value: 'boss-id' } });
    assert.deepEqual(patchUser([{ op: 'add', value: { [`${ENT}:manager`]: 'boss-id' } }])[ENT], { department: 'Finance', manager: { value: 'boss-id' } });
    assert.throws(() => patchUser([{ op: 'replace', path: 'name', value: 'Alice Smith' }]), (e: any) => e.status === 400 && /name must be an object/.test(e.message));
  });

  test('value-path filters address one element of a multi-valued attribute', () => {
    const r = patchUser([{ op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@acme.com' }]);
    assert.deepEqual((r.emails as any[]).map((e) => e.value), ['new@acme.com', 'alice@home.org']);
    const removed = patchUser([{ op: 'remove', path: 'emails[type eq "home"]' }]);
    assert.deepEqual((removed.emails as any[]).map((e) => e.value), ['alice@acme.com']);
  });

  test('a filtered replace that matches nothing creates the element the filter describes (Entra)', () => {
    const r = patchUser([{ op: 'Replace', path: 'phoneNumbers[type eq "mobile"].value', value: '555-9' }]);
    assert.deepEqual(r.phoneNumbers, [{ type: 'mobile', value: '555-9' }]);
  });

  test('add appends to multi-valued attributes without duplicates and keeps one primary', () => {
    const r = patchUser([{ op: 'add', path: 'emails', value: [{ value: 'x@acme.com', type: 'other', primary: true }, { value: 'alice@home.org', type: 'home' }] }]);
    const emails = r.emails as any[];
    assert.deepEqual(emails.map((e) => e.value), ['alice@acme.com', 'alice@home.org', 'x@acme.com']);
    assert.deepEqual(emails.filter((e) => e.primary === true).map((e) => e.value), ['x@acme.com']);
  });

  test('remove deletes an attribute, a sub-attribute, or listed values', () => {
    assert.equal(patchUser([{ op: 'remove', path: 'name.givenName' }]).name && (patchUser([{ op: 'remove', path: 'name.givenName' }]).name as any).givenName, undefined);
    assert.equal(patchUser([{ op: 'remove', path: `${ENT}:department` }])[ENT] && (patchUser([{ op: 'remove', path: `${ENT}:department` }])[ENT] as any).department, undefined);
    const r = patchUser([{ op: 'Remove', path: 'emails', value: [{ value: 'alice@home.org' }] }]);
    assert.deepEqual((r.emails as any[]).map((e) => e.value), ['alice@acme.com']);
    assert.equal(patchUser([{ op: 'remove', path: 'emails' }]).emails, undefined);
  });

  test('errors carry the RFC scimType', () => {
    assert.throws(() => patchUser([{ op: 'remove' }]), (e: any) => e.status === 400 && e.scimType === 'noTarget');
    assert.throws(() => patchUser([{ op: 'remove', path: 'userName' }]), (e: any) => e.scimType === 'mutability');
    assert.throws(() => patchUser([{ op: 'replace', path: 'nosuch', value: 1 }]), (e: any) => e.scimType === 'invalidPath');
    assert.throws(() => patchUser([{ op: 'move', path: 'userName', value: 'x' }]), (e: any) => e.status === 400);
    assert.throws(() => patchUser([{ op: 'replace', path: 'emails[type eq ', value: 'x' }]), (e: any) => e.scimType === 'invalidPath');
    assert.throws(() => patchUser([{ op: 'replace', path: 'emails[display co "q"].value', value: 'x' }]), (e: any) => e.scimType === 'noTarget');
  });

  test('read-only attributes in a value object are ignored (Okta sends id with a rename)', () => {
    const r = patchUser([{ op: 'replace', value: { id: 'other', meta: { x: 1 }, displayName: 'A' } }]);
    assert.equal(r.id, undefined);
    assert.equal(r.displayName, 'A');
  });

  test('the request envelope is validated', () => {
    assert.throws(() => parsePatchRequest({ Operations: [] }), (e: any) => e.status === 400);
    assert.throws(() => parsePatchRequest([1]), (e: any) => e.status === 400);
    assert.throws(() => parsePatchRequest({ schemas: ['urn:wrong'], Operations: [{ op: 'add', value: {} }] }), (e: any) => e.status === 400);
    assert.equal(parsePatchRequest({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], operations: [{ OP: 'add', Path: 'x', Value: 1 }] })[0].path, 'x');
  });
});

describe("PATCH of another extension's attributes (Entra's custom ones)", () => {
  const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
  const withAcme = (): Resource => ({ ...user(), [ACME]: { costCode: 'A1', tags: ['x'], site: { building: 'B', floor: 2 } } });
  const patchAcme = (ops: PatchOperation[], base = withAcme()) => patchUser(ops, base);

  test('replace, Add and remove of an attribute by its URN path set it as sent, with names in any case', () => {
    assert.deepEqual(patchAcme([{ op: 'Replace', path: `${ACME}:costCode`, value: 'B2' }])[ACME], { costCode: 'B2', tags: ['x'], site: { building: 'B', floor: 2 } });
    assert.equal((patchAcme([{ op: 'replace', path: `${ACME.toLowerCase()}:COSTCODE`, value: 'B3' }])[ACME] as any).costCode, 'B3');
    assert.equal((patchAcme([{ op: 'Add', path: `${ACME}:newAttr`, value: 'v' }])[ACME] as any).newAttr, 'v');
    assert.deepEqual((patchAcme([{ op: 'add', path: `${ACME}:tags`, value: ['x', 'y'] }])[ACME] as any).tags, ['x', 'y']);
    assert.deepEqual(patchAcme([{ op: 'Remove', path: `${ACME}:costcode` }])[ACME], { tags: ['x'], site: { building: 'B', floor: 2 } });
    assert.deepEqual((patchAcme([{ op: 'replace', path: `${ACME}:site.floor`, value: 3 }])[ACME] as any).site, { building: 'B', floor: 3 });
    assert.deepEqual((patchAcme([{ op: 'remove', path: `${ACME}:site.building` }])[ACME] as any).site, { floor: 2 });
  });

  test('an extension the user does not hold yet is created by an add, and removing its last attribute removes it', () => {
    const r = patchUser([{ op: 'Add', path: `${ACME}:costCode`, value: 'C1' }]);
    assert.deepEqual(r[ACME], { costCode: 'C1' });
    assert.equal(ACME in patchUser([{ op: 'Remove', path: `${ACME}:costCode` }], r), false);
  });

  test('a replace without a path takes URN-prefixed keys and the nested form', () => {
    assert.equal((patchAcme([{ op: 'replace', value: { [`${ACME}:costCode`]: 'C3' } }])[ACME] as any).costCode, 'C3');
    const nested = patchAcme([{ op: 'Replace', value: { [ACME]: { costCode: 'C4', other: 'o' }, [`${ENT}:department`]: 'Sales' } }]);
    assert.deepEqual(nested[ACME], { costCode: 'C4', tags: ['x'], site: { building: 'B', floor: 2 }, other: 'o' });
    assert.deepEqual(nested[ENT], { department: 'Sales' });
  });

  test('remove of the whole extension takes it away; the enterprise extension and others are left alone', () => {
    const r = patchAcme([{ op: 'remove', path: ACME }]);
    assert.equal(ACME in r, false);
    assert.deepEqual(r[ENT], { department: 'Finance' });
    assert.equal(ENT in patchAcme([{ op: 'Remove', path: ENT }]), false);
    assert.deepEqual(patchAcme([{ op: 'Remove', path: ENT }])[ACME], withAcme()[ACME]);
  });

  test('a path in a schema that is not an extension, or a filter on a free-form attribute, is still a 400', () => {
    assert.throws(() => patchAcme([{ op: 'replace', path: 'urn:example:other:2.0:User:x', value: 1 }]), (e: any) => e.status === 400 && e.scimType === 'invalidPath');
    assert.throws(() => patchAcme([{ op: 'replace', path: `${ACME}:tags[value eq "x"]`, value: 'y' }]), (e: any) => e.status === 400 && e.scimType === 'invalidPath');
    assert.throws(() => patchAcme([{ op: 'replace', path: `${ENT}:nope`, value: 'y' }]), (e: any) => e.status === 400 && e.scimType === 'invalidPath');
  });
});

describe('PATCH on group members', () => {
  const group = (): Resource => ({ displayName: 'Finance' });
  const members = (ops: PatchOperation[]) => applyPatch('Group', group(), ops).members!;

  test('add and remove by filter fold into a difference, without touching other members', () => {
    const m = members([
      { op: 'remove', path: 'members[value eq "u1"]' },
      { op: 'add', path: 'members', value: [{ value: 'u2', display: 'Bob' }, { value: 'u3' }] },
    ]);
    assert.equal(m.replaceAll, false);
    assert.deepEqual([...m.add].sort(), ['u2', 'u3']);
    assert.deepEqual([...m.remove], ['u1']);
  });

  test("Entra's remove with a value array removes just those members", () => {
    const m = members([{ op: 'Remove', path: 'members', value: [{ value: 'u1' }, { value: 'u2' }] }]);
    assert.deepEqual([...m.remove].sort(), ['u1', 'u2']);
    assert.equal(m.replaceAll, false);
  });

  test('replace of members, and remove without a value, replace the whole list', () => {
    const r = members([{ op: 'replace', path: 'members', value: [{ value: 'u9' }] }]);
    assert.equal(r.replaceAll, true);
    assert.deepEqual([...r.add], ['u9']);
    const cleared = members([{ op: 'remove', path: 'members' }]);
    assert.equal(cleared.replaceAll, true);
    assert.equal(cleared.add.size, 0);
  });

  test('later operations win over earlier ones on the same member', () => {
    const m = members([
      { op: 'add', path: 'members', value: [{ value: 'u1' }] },
      { op: 'remove', path: 'members[value eq "u1" or value eq "u2"]' },
    ]);
    assert.deepEqual([...m.add], []);
    assert.deepEqual([...m.remove].sort(), ['u1', 'u2']);
  });

  test('a rename with no path (Okta) changes displayName and leaves members alone', () => {
    const r = applyPatch('Group', group(), [{ op: 'replace', value: { id: 'g1', displayName: 'Finance EU' } }]);
    assert.equal(r.attributes.displayName, 'Finance EU');
    assert.equal(r.members, null);
  });

  test('a bare string member value is read as the member id', () => {
    assert.deepEqual([...members([{ op: 'add', path: 'members', value: 'u7' }]).add], ['u7']);
  });
});
