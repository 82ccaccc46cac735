// Protocol behaviour over HTTP: errors in the SCIM format (401/400/404/409/412/413), ETags,
// paging (startIndex and RFC 9865 cursors), sorting, attributes/excludedAttributes, POST /.search,
// discovery, access tokens (API and CLI) and the provisioning log.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { PATCH_OP, oktaUser, startScim, versionOf, type ScimHarness } from './scim-client.ts';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { nestedDeeperThan } from '../../src/scim/scim.plugin.ts';
import { migrate, openDatabase, parseDatabaseUrl, provisioningLogDbOf, provisioningLogFile } from '../../src/db/database.ts';
import { createUserWithLevels, freshDatabaseUrl, signIn, usePostgres } from '../helpers/app.ts';
import { holdProvisioningLog } from '../helpers/other-connection.ts';
import { flushProvisioningLog } from '../../src/scim/provisioning-log.service.ts';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(() => h.t.close());

const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';

describe('errors', () => {
  test('values for searchable attributes longer than 256 characters are a 400 naming the attribute, on both databases (PostgreSQL cannot index them)', async () => {
    // Random text does not compress, so it really is too large for a PostgreSQL index entry.
    const long = randomBytes(6000).toString('base64');
    const cases: [string, Record<string, unknown>][] = [
      ['displayName', oktaUser('long1@acme.example', { displayName: long })],
      ['externalId', oktaUser('long2@acme.example', { externalId: long })],
      ['name.givenName', oktaUser('long3@acme.example', { name: { givenName: long, familyName: 'F' } })],
      ['emails.value', { ...oktaUser('long4@acme.example'), emails: [{ value: `${long}@acme.example`, type: 'work', primary: true }] }],
    ];
    for (const [attribute, body] of cases) {
      const r = await h.scim('POST', '/Users', body);
      assert.equal(r.status, 400, attribute);
      assert.equal(r.body.scimType, 'invalidValue');
      assert.equal(r.body.detail, `${attribute} is too long (256 characters at most)`);
    }
    const fits = await h.scim('POST', '/Users', oktaUser('long5@acme.example', { displayName: 'd'.repeat(256) }));
    assert.equal(fits.status, 201, 'exactly 256 characters is accepted');
    const put = await h.scim('PUT', `/Users/${fits.body.id}`, { ...oktaUser('long5@acme.example', { externalId: long }) });
    assert.equal(put.status, 400);
    const kept = await h.scim('GET', `/Users/${fits.body.id}`);
    assert.equal(kept.body.displayName, 'd'.repeat(256), 'the refused PUT changed nothing');
    assert.equal(kept.body.externalId, fits.body.externalId);
    const group = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Long ids', externalId: long });
    assert.equal(group.status, 400);
    assert.equal(group.body.detail, 'externalId is too long (256 characters at most)');
  });

  test('a missing or wrong token is a 401 in the SCIM error format', async () => {
    for (const headers of [{ authorization: '' }, { authorization: 'Bearer wrong' }, { authorization: `Basic ${h.token}` }]) {
      const r = await h.scim('GET', '/Users', undefined, headers);
      assert.equal(r.status, 401);
      assert.deepEqual(r.body.schemas, [ERROR]);
      assert.equal(r.body.status, '401');
      assert.ok(r.body.detail);
      assert.match(r.headers.get('www-authenticate') ?? '', /Bearer/);
    }
  });

  test('malformed JSON, a missing userName and a bad filter are 400s, never 500s', async () => {
    const junk = await h.scim('POST', '/Users', '{ "acve": tre, ');
    assert.equal(junk.status, 400);
    assert.equal(junk.body.scimType, 'invalidSyntax');
    const noName = await h.scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], active: true });
    assert.equal(noName.status, 400);
    assert.equal(noName.body.scimType, 'invalidValue');
    const badType = await h.scim('POST', '/Users', { userName: 'x@acme.com', active: 'perhaps' });
    assert.equal(badType.status, 400);
    // A number or boolean where the schema says string is refused, not silently turned into text.
    const numericName = await h.scim('POST', '/Users', { userName: 42 });
    assert.equal(numericName.status, 400);
    assert.equal(numericName.body.scimType, 'invalidValue');
    assert.match(numericName.body.detail, /userName must be a string, not the number 42/);
    const boolGiven = await h.scim('POST', '/Users', { userName: 'typed@acme.com', name: { givenName: true } });
    assert.equal(boolGiven.status, 400);
    assert.match(boolGiven.body.detail, /name\.givenName must be a string/);
    // ...except the enterprise extension's HR fields, which IdPs map from numeric sources.
    const hr = await h.scim('POST', '/Users', { userName: 'typed@acme.com', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: 12345 } });
    assert.equal(hr.status, 201, JSON.stringify(hr.body));
    assert.equal(hr.body['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].employeeNumber, '12345');
    const numericPatch = await h.scim('PATCH', `/Users/${hr.body.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'displayName', value: 7 }] });
    assert.equal(numericPatch.status, 400);
    assert.equal(numericPatch.body.scimType, 'invalidValue');
    assert.equal((await h.scim('GET', `/Users/${hr.body.id}`)).body.userName, 'typed@acme.com');
    const badFilter = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq')}`);
    assert.equal(badFilter.status, 400);
    assert.equal(badFilter.body.scimType, 'invalidFilter');
    const badPatch = await h.scim('PATCH', '/Users/whatever', { Operations: 'no' });
    assert.equal(badPatch.status, 400);
  });

  test('hostile input gets a SCIM error or an empty page, never a 500, and stores nothing', async () => {
    const before = (await h.scim('GET', '/Users?count=0')).body.totalResults;
    // 100,000 nested arrays: JSON.parse takes it, but any recursive walk would overflow the stack.
    const deep = await h.scim('POST', '/Users', '['.repeat(100_000) + ']'.repeat(100_000));
    assert.equal(deep.status, 400);
    assert.deepEqual(deep.body.schemas, [ERROR]);
    assert.equal(deep.body.scimType, 'invalidSyntax');
    assert.match(deep.body.detail, /more than 64 levels deep/);
    const deepObject = await h.scim('POST', '/Users', { ...oktaUser('deep@acme.com'), name: JSON.parse('{"a":'.repeat(70) + '1' + '}'.repeat(70)) });
    assert.equal(deepObject.status, 400);
    assert.equal(deepObject.body.scimType, 'invalidSyntax');
    assert.match(deepObject.body.detail, /more than 64 levels deep/);
    // Brackets inside strings are text, not nesting.
    const brackets = await h.scim('POST', '/Users', oktaUser('brackets@acme.com', { displayName: '[['.repeat(100) + '\\"{' }));
    assert.equal(brackets.status, 201, JSON.stringify(brackets.body));
    await h.scim('DELETE', `/Users/${brackets.body.id}`);
    assert.equal((await h.scim('GET', '/Users?count=0')).body.totalResults, before);

    // A startIndex far past the end is an empty page (it was a 500: too large for the SQL OFFSET).
    for (const q of ['/Users?startIndex=1e308', '/Users?startIndex=1e308&sortBy=userName', `/Users?startIndex=1e308&filter=${encodeURIComponent('userName pr')}`, '/Groups?startIndex=1e308']) {
      const r = await h.scim('GET', q);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.Resources, []);
    }

    // Refused before routing (bad percent-encoding) or by the HTTP parser (a 20 KB URL): still the
    // SCIM error format, with the limits in words.
    const badUrl = await h.scim('GET', '/Users/%E0%A4%A');
    assert.equal(badUrl.status, 400);
    assert.deepEqual(badUrl.body.schemas, [ERROR]);
    const longFilter = Array.from({ length: 800 }, (_, i) => `userName eq "u${i}@acme.com"`).join(' or ');
    const tooLong = await h.scim('GET', `/Users?filter=${encodeURIComponent(longFilter)}`);
    assert.equal(tooLong.status, 431);
    assert.deepEqual(tooLong.body.schemas, [ERROR]);
    assert.match(tooLong.body.detail, /larger than 16 KB \(a filter may have at most 4,096 characters\)/);
    const viaSearch = await h.scim('POST', '/Users/.search', { filter: longFilter });
    assert.equal(viaSearch.status, 400);
    assert.equal(viaSearch.body.scimType, 'invalidFilter');
    assert.match(viaSearch.body.detail, /longer than 4,096 characters/);
    // Outside SCIM the same refusal is in the API's error format.
    const ui = await fetch(`${h.t.baseUrl}/api/me?x=${'y'.repeat(20_000)}`);
    assert.equal(ui.status, 431);
    assert.equal((await ui.json()).error.code, 'invalid');
  });

  test('what a fuzzer found (session 33): lone surrogates, NUL in a filter, names every object inherits, odd /.search values and a null in a filtered PATCH are 400s or applied as the RFC says, never 500s', async () => {
    const users = async () => (await h.scim('GET', '/Users?count=0')).body.totalResults as number;
    const before = await users();
    const expectError = (r: { status: number; body: { schemas: string[]; scimType?: string; detail: string } }, scimType: string, detail: RegExp) => {
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.deepEqual(r.body.schemas, [ERROR]);
      assert.equal(r.body.scimType, scimType);
      assert.match(r.body.detail, detail);
    };
    const patch = (path: string, ...Operations: unknown[]) => h.scim('PATCH', path, { schemas: [PATCH_OP], Operations });
    const search = (resource: string, body: unknown) => h.scim('POST', `/${resource}/.search`, body);
    const filtered = (resource: string, filter: string) => h.scim('GET', `/${resource}?filter=${encodeURIComponent(filter)}`);

    // Half a surrogate pair is not text: on PostgreSQL one stored value made every filter that reads
    // the stored JSON a 500, for every client. A whole pair is an ordinary character.
    expectError(await h.scim('POST', '/Users', oktaUser('surrogate@acme.com', { title: '\udc00' })), 'invalidValue', /^"title" is not valid Unicode text/);
    expectError(await h.scim('POST', '/Groups', { displayName: 'Surrogates', externalId: 'x\ud800' }), 'invalidValue', /^"externalId" is not valid Unicode text/);
    assert.equal(await users(), before);
    const emoji = await h.scim('POST', '/Users', oktaUser('emoji@acme.com', { title: 'Lead \ud83d\ude00' }));
    assert.equal(emoji.status, 201, JSON.stringify(emoji.body));
    assert.equal(emoji.body.title, 'Lead 😀');
    assert.deepEqual((await filtered('Users', 'title co "😀"')).body.Resources.map((u: { id: string }) => u.id), [emoji.body.id]);

    // U+0000 written as an escape in a filter's string (PostgreSQL: a 500; SQLite stored it through a PATCH path).
    expectError(await filtered('Users', 'displayName eq "\\u0000"'), 'invalidFilter', /NUL character/);
    expectError(await search('Groups', { filter: 'displayName eq "a\\u0000"' }), 'invalidFilter', /NUL character/);
    const group = await h.scim('POST', '/Groups', { displayName: 'Fuzzed', members: [{ value: emoji.body.id }] });
    expectError(await patch(`/Groups/${group.body.id}`, { op: 'remove', path: 'members[value eq "\\u0000"]' }), 'invalidPath', /NUL character/);
    expectError(await patch(`/Users/${emoji.body.id}`, { op: 'replace', path: 'emails[type eq "x\\u0000y"].value', value: 'n@acme.com' }), 'invalidPath', /NUL character/);

    // Names every JavaScript object inherits are unknown attributes like any other.
    const byDefault = (await h.scim('GET', '/Users')).body.Resources.map((u: { id: string }) => u.id);
    for (const sortBy of ['constructor', '__proto__', 'toString']) {
      const r = await h.scim('GET', `/Users?sortBy=${sortBy}`);
      assert.equal(r.status, 200, `${sortBy}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.Resources.map((u: { id: string }) => u.id), byDefault, `sortBy=${sortBy} sorts by the default order`);
      assert.equal((await h.scim('GET', `/Groups?sortBy=${sortBy}`)).status, 200);
    }
    assert.equal((await filtered('Users', 'constructor eq "x"')).body.totalResults, 0);
    assert.equal((await filtered('Groups', 'toString pr')).body.totalResults, 0);

    // /.search parameters are JSON values: only strings, numbers and booleans are taken (lists of strings for attributes).
    for (const attributes of [1, {}, true, [1], [null]]) expectError(await search('Users', { attributes }), 'invalidValue', /^attributes must be a string or a list of strings/);
    expectError(await search('Groups', { excludedAttributes: 5 }), 'invalidValue', /^excludedAttributes must be/);
    for (const name of ['startIndex', 'count', 'filter', 'sortBy', 'sortOrder', 'cursor']) {
      expectError(await search('Users', { [name]: { toString: 1 } }), 'invalidValue', new RegExp(`^${name} must be a string or a number`));
    }
    const listed = await search('Users', { attributes: ['userName'], filter: 'userName eq "emoji@acme.com"' });
    assert.deepEqual(listed.body.Resources.map((u: Record<string, unknown>) => Object.keys(u).sort()), [['id', 'schemas', 'userName']]);

    // A value filter with a null value: nothing to add (a 400); replaced by null, the values it matches go (RFC 7643 §2.5).
    const user = `/Users/${emoji.body.id}`;
    expectError(await patch(user, { op: 'add', path: 'emails[type eq "home"]', value: null }), 'invalidValue', /"add" needs a value/);
    assert.equal((await patch(user, { op: 'replace', path: 'phoneNumbers[type eq "mobile"]', value: null })).status, 204);
    assert.equal((await patch(user, { op: 'add', path: 'emails', value: [{ type: 'home', value: 'home@acme.com' }] })).status, 204);
    assert.equal((await patch(user, { op: 'replace', path: 'emails[type eq "home"]', value: null })).status, 204);
    assert.deepEqual((await h.scim('GET', user)).body.emails, [{ primary: true, value: 'emoji@acme.com', type: 'work' }]);
    expectError(await patch(user, { op: 'add', path: 'emails[type eq "work"]', value: [] }), 'invalidValue', /needs one value, not 0/);
    // A value added where a filter matched none is seeded from the filter, its values typed as the sub-attributes are.
    expectError(await patch(user, { op: 'add', path: 'phoneNumbers[primary eq "x"].value', value: '555' }), 'invalidValue', /phoneNumbers\.primary must be a boolean/);
    assert.equal((await patch(user, { op: 'add', path: 'phoneNumbers[type eq "work" and primary eq "True" and shoeSize eq "9"].value', value: '555' })).status, 204);
    assert.deepEqual((await h.scim('GET', user)).body.phoneNumbers, [{ type: 'work', primary: true, value: '555' }]);
    expectError(await patch(user, { op: 'replace', path: 'emails[type eq "work"]', value: [{ value: 'a@acme.com' }, { value: 'b@acme.com' }] }), 'invalidValue', /needs one value, not 2/);
    assert.equal((await patch(user, { op: 'replace', path: 'emails[type eq "work"]', value: null })).status, 204);
    assert.equal((await h.scim('GET', user)).body.emails, undefined, 'no e-mail left: the attribute is unassigned, not an empty list');

    // Null is unassigned (RFC 7643 §2.5): a null sub-attribute is not stored, nor a value left with nothing in it.
    const nulls = await h.scim('POST', '/Users', oktaUser('nulls@acme.com', { name: { givenName: null, familyName: 'Kept' }, emails: [{ value: null }, { value: 'nulls@acme.com', type: null }], roles: [{ value: 'r', primary: null }] }));
    assert.equal(nulls.status, 201, JSON.stringify(nulls.body));
    const stored = (await h.scim('GET', `/Users/${nulls.body.id}`)).body;
    assert.deepEqual([stored.name, stored.emails, stored.roles], [{ familyName: 'Kept' }, [{ value: 'nulls@acme.com' }], [{ value: 'r' }]]);
    assert.equal((await patch(`/Users/${nulls.body.id}`, { op: 'replace', path: 'name', value: { familyName: null, givenName: 'Given' } })).status, 204);
    assert.deepEqual((await h.scim('GET', `/Users/${nulls.body.id}`)).body.name, { givenName: 'Given' });
    await h.scim('DELETE', `/Users/${nulls.body.id}`);

    // Asked for twice, members are still the members (the stored text's own fields came out instead).
    const members = (await h.scim('GET', `/Groups/${group.body.id}?attributes=members`)).body.members;
    assert.equal(members.length, 1);
    assert.deepEqual((await h.scim('GET', `/Groups/${group.body.id}?attributes=members,members`)).body.members, members);
    assert.deepEqual((await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Fuzzed"')}&attributes=members,members`)).body.Resources[0].members, members);

    // An enterprise attribute written with its URN prefix: a User's goes into the extension; a Group has none.
    const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const prefixed = await h.scim('POST', '/Users', { ...oktaUser('prefixed@acme.com'), [`${ENTERPRISE}:employeeNumber`]: '42', [ENTERPRISE]: { costCenter: 'CC-7' } });
    assert.equal(prefixed.status, 201, JSON.stringify(prefixed.body));
    assert.deepEqual((await h.scim('GET', `/Users/${prefixed.body.id}`)).body[ENTERPRISE], { employeeNumber: '42', costCenter: 'CC-7' });
    const groupWithIt = await h.scim('POST', '/Groups', { displayName: 'No extension', [`${ENTERPRISE}:costCenter`]: [1, { a: 2 }] });
    assert.equal(groupWithIt.status, 201, JSON.stringify(groupWithIt.body));
    assert.equal((await h.scim('PUT', `/Groups/${groupWithIt.body.id}`, { displayName: 'No extension', [ENTERPRISE]: { costCenter: 'CC-7' } })).status, 200);
    assert.deepEqual(Object.keys((await h.scim('GET', `/Groups/${groupWithIt.body.id}`)).body).sort(), ['displayName', 'id', 'members', 'meta', 'schemas']);

    // "primary" true at most once (RFC 7643 §2.4), on a POST as on a PATCH: the last one given.
    const twice = await h.scim('POST', '/Users', oktaUser('twice@acme.com', { emails: [{ value: 'a@acme.com', primary: true }, { value: 'b@acme.com', primary: true }] }));
    assert.deepEqual(twice.body.emails, [{ value: 'a@acme.com', primary: false }, { value: 'b@acme.com', primary: true }]);

    // Booleans and date-times in filters are what they say, or a 400 (`active eq "yes"` found the inactive users; `5` was 1 May 2001).
    expectError(await filtered('Users', 'active eq "yes"'), 'invalidFilter', /"yes" is not a boolean/);
    expectError(await filtered('Users', 'emails.primary eq 2'), 'invalidFilter', /"2" is not a boolean/);
    expectError(await filtered('Users', 'meta.created ge 5'), 'invalidFilter', /"5" is not a date-time/);
    expectError(await filtered('Users', 'meta.lastModified gt "2024-02-30T00:00:00Z"'), 'invalidFilter', /is not a date-time/);
    assert.equal((await filtered('Users', 'active eq "True"')).status, 200);
    assert.equal((await filtered('Users', 'meta.lastModified gt "2024-02-29T23:59:59.5+01:00"')).body.totalResults, (await users()) - 0);

    for (const id of [emoji.body.id, prefixed.body.id, twice.body.id]) await h.scim('DELETE', `/Users/${id}`);
    for (const id of [group.body.id, groupWithIt.body.id]) await h.scim('DELETE', `/Groups/${id}`);
    assert.equal(await users(), before);
  });

  test('what fuzzing found (session 34): a member is an id or {"value": id} in a POST, a PUT and a PATCH alike; anything else is a 400 that changes nothing', async () => {
    const user = await h.scim('POST', '/Users', oktaUser('member34@acme.com'));
    const group = await h.scim('POST', '/Groups', { displayName: 'Members 34', members: [user.body.id] });
    assert.equal(group.status, 201, JSON.stringify(group.body));
    const path = `/Groups/${group.body.id}`;
    const version = group.body.meta.version;
    for (const bad of [123, '', { value: 7 }, { value: '' }, { display: 'no value' }, [true]]) {
      const members = Array.isArray(bad) ? bad : [bad];
      for (const r of [
        await h.scim('POST', '/Groups', { displayName: 'Members 34 again', members }),
        await h.scim('PUT', path, { displayName: 'Members 34', members }),
        await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: members }] }),
        await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: members }] }),
      ]) {
        assert.equal(r.status, 400, `${JSON.stringify(bad)}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.scimType, 'invalidValue');
        assert.match(r.body.detail, /Each member needs a "value"/);
      }
    }
    const after = (await h.scim('GET', path)).body;
    assert.deepEqual(after.members.map((m: { value: string }) => m.value), [user.body.id]);
    assert.equal(after.meta.version, version, 'nothing was written');
    assert.equal((await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Members 34 again"')}`)).body.totalResults, 0);
    await h.scim('DELETE', path);
    await h.scim('DELETE', `/Users/${user.body.id}`);
  });

  test('what fuzzing found (session 34): the path is decoded once, so an encoded slash is part of an id and %25 is a per cent sign; a lowercase method and a path below /ServiceProviderConfig get SCIM errors; count=0 with a cursor gives the total', async () => {
    const user = await h.scim('POST', '/Users', oktaUser('slash34@acme.com'));
    // DELETE /Users%2F<id> deleted the user: the router's decoded path was split at the %2F.
    for (const method of ['DELETE', 'GET', 'PUT']) {
      const r = await h.scim(method, `/Users%2F${user.body.id}`, method === 'PUT' ? oktaUser('slash34@acme.com') : undefined);
      assert.equal(r.status, 404, `${method}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body.schemas, [ERROR]);
    }
    assert.equal((await h.scim('GET', `/Users/${user.body.id}`)).status, 200, 'still there');
    // Each segment decoded once: %2525 is the id "%25" (decoded twice it was "%").
    const twice = await h.scim('GET', '/Users/%2525');
    assert.equal(twice.status, 404);
    assert.equal(twice.body.detail, 'User %25 not found');
    assert.equal((await h.scim('GET', `/v2/Users/${encodeURIComponent(user.body.id)}`)).status, 200);
    assert.equal((await h.scim('GET', '/ServiceProviderConfig/anything')).status, 404);
    assert.equal((await h.scim('GET', '/ServiceProviderConfig')).status, 200);

    // A method the HTTP parser does not know ("get") is refused before routing, in the SCIM format.
    const raw = await new Promise<string>((resolve, reject) => {
      const url = new URL(h.base);
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write(`get ${url.pathname}/Users HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${h.token}\r\n\r\n`));
      let text = '';
      socket.on('data', (d) => (text += d.toString('utf8')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
    assert.match(raw, /content-type: application\/scim\+json/i);
    assert.deepEqual(JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4)).schemas, [ERROR]);

    // count=0 asks for the total alone; with a cursor it said 0.
    const total = (await h.scim('GET', '/Users?count=0')).body.totalResults;
    assert.ok(total > 0);
    assert.equal((await h.scim('GET', '/Users?count=0&cursor=')).body.totalResults, total);
    assert.equal((await h.scim('GET', '/Groups?count=0&cursor=')).body.totalResults, (await h.scim('GET', '/Groups?count=0')).body.totalResults);
    await h.scim('DELETE', `/Users/${user.body.id}`);
  });

  test('a body is read as UTF-8 text as sent: a content coding or another charset is a 415 that says what to send, a byte order mark is skipped; paging numbers are decimal; 1e400 is a 400', async () => {
    const before = (await h.scim('GET', '/Users?count=0')).body.totalResults;
    const body = JSON.stringify(oktaUser('coded34@acme.com'));
    const gzipped = await h.scim('POST', '/Users', zlib.gzipSync(body), { 'content-encoding': 'gzip' });
    assert.equal(gzipped.status, 415, JSON.stringify(gzipped.body));
    assert.deepEqual(gzipped.body.schemas, [ERROR]);
    assert.match(gzipped.body.detail, /Content-Encoding "gzip" is not supported: send the body uncompressed/);
    // Plain JSON labelled gzip was read as if it were not.
    assert.equal((await h.scim('POST', '/Users', body, { 'content-encoding': 'gzip' })).status, 415);
    const latin1 = await h.scim('POST', '/Users', Buffer.from(JSON.stringify(oktaUser('zoe34@acme.com', { displayName: 'Zoë' })), 'latin1'), { 'content-type': 'application/scim+json; charset=ISO-8859-1' });
    assert.equal(latin1.status, 415);
    assert.match(latin1.body.detail, /charset "iso-8859-1" is not supported: send the body as UTF-8/);
    assert.equal((await h.scim('GET', '/Users?count=0')).body.totalResults, before, 'nothing stored');
    const bom = await h.scim('POST', '/Users', `\ufeff${body}`, { 'content-type': 'application/scim+json; charset="UTF-8"' });
    assert.equal(bom.status, 201, JSON.stringify(bom.body));
    for (const q of ['startIndex=0x10', 'count=0b11', 'startIndex=2.5', 'count=abc']) {
      const r = await h.scim('GET', `/Users?${q}`);
      assert.equal(r.status, 400, q);
      assert.match(r.body.detail, /must be a whole number/);
    }
    assert.equal((await h.scim('GET', '/Users?count=%202%20')).body.itemsPerPage, Math.min(2, before + 1));
    const huge = await h.scim('POST', '/Users', `{"userName": "huge34@acme.com", "title": 1e400}`);
    assert.equal(huge.status, 400);
    assert.equal(huge.body.detail, 'title is a number too large to store');
    await h.scim('DELETE', `/Users/${bom.body.id}`);
  });

  test('methods as HTTP defines them: HEAD is a GET without the body, OPTIONS names the methods a path takes, any other method is a 405 with Allow; a filter on a discovery endpoint is a 403; a list parameter given twice is a 400', async () => {
    const user = await h.scim('POST', '/Users', oktaUser('methods35@acme.com'));
    const get = await fetch(`${h.base}/Users/${user.body.id}`, { headers: { authorization: `Bearer ${h.token}` } });
    const head = await fetch(`${h.base}/Users/${user.body.id}`, { method: 'HEAD', headers: { authorization: `Bearer ${h.token}` } });
    // It was a 405 without Allow.
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('etag'), get.headers.get('etag'));
    assert.equal(head.headers.get('content-length'), String(Buffer.byteLength(await get.text())));
    assert.equal(await head.text(), '');
    assert.equal((await fetch(`${h.base}/Users/nobody`, { method: 'HEAD', headers: { authorization: `Bearer ${h.token}` } })).status, 404);

    const allows: [string, string][] = [
      ['/Users', 'GET, HEAD, POST, OPTIONS'],
      [`/Users/${user.body.id}`, 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'],
      ['/Groups/.search', 'POST, OPTIONS'],
      ['/ServiceProviderConfig', 'GET, HEAD, OPTIONS'],
      ['/v2/Schemas', 'GET, HEAD, OPTIONS'],
    ];
    for (const [p, allow] of allows) {
      const options = await h.scim('OPTIONS', p);
      assert.equal(options.status, 204, p);
      assert.equal(options.headers.get('allow'), allow, p);
    }
    // OPTIONS and TRACE were 404s (with the browser headers of the UI); a 405 had no Allow (RFC 9110 §15.5.6 requires it).
    const refused: [string, string, string][] = [
      ['TRACE', '/Users', 'GET, HEAD, POST, OPTIONS'],
      ['PROPFIND', `/Users/${user.body.id}`, 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'],
      ['POST', `/Users/${user.body.id}`, 'GET, HEAD, PUT, PATCH, DELETE, OPTIONS'],
      ['DELETE', '/Users', 'GET, HEAD, POST, OPTIONS'],
      ['GET', '/Users/.search', 'POST, OPTIONS'],
      ['PUT', '/Schemas', 'GET, HEAD, OPTIONS'],
      ['PATCH', '/v2/ServiceProviderConfig', 'GET, HEAD, OPTIONS'],
    ];
    /** fetch() refuses TRACE: node:http sends any method. */
    const send = (method: string, p: string, body?: string) =>
      new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: any }>((resolve, reject) => {
        const req = http.request(`${h.base}${p}`, { method, headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/scim+json' } }, (res) => {
          let text = '';
          res.on('data', (d) => (text += d));
          res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: JSON.parse(text) }));
        });
        req.on('error', reject);
        req.end(body);
      });
    for (const [method, p, allow] of refused) {
      const r = await send(method, p, ['POST', 'PUT', 'PATCH'].includes(method) ? '{}' : undefined);
      assert.equal(r.status, 405, `${method} ${p}`);
      assert.deepEqual(r.body.schemas, [ERROR]);
      assert.equal(r.headers.allow, allow, `${method} ${p}`);
      assert.equal(r.body.detail, `${method} is not allowed on ${p.replace(/^\/v2/, '')}; it takes ${allow}`);
      assert.equal(r.headers['content-security-policy'], undefined, 'an API answer, not a page');
    }
    assert.equal((await send('TRACE', '/Nowhere')).status, 404);
    assert.equal((await h.scim('GET', `/Users/${user.body.id}`)).status, 200, 'nothing above changed the user');

    // RFC 7644 §4: "If a filter is provided, the service provider SHOULD respond with HTTP status code 403" (it was ignored).
    for (const p of ['/Schemas', '/ResourceTypes', '/ServiceProviderConfig']) {
      const r = await h.scim('GET', `${p}?filter=${encodeURIComponent('id eq "x"')}`);
      assert.equal(r.status, 403, p);
      assert.deepEqual(r.body.schemas, [ERROR]);
      assert.match(r.body.detail, /cannot be filtered/);
    }

    // The last of a repeated parameter was taken: a query the client had not asked for.
    for (const q of ['count=1&count=2', `filter=${encodeURIComponent('userName eq "a"')}&filter=${encodeURIComponent('userName eq "b"')}`, 'startIndex=1&startIndex=5']) {
      const r = await h.scim('GET', `/Users?${q}`);
      assert.equal(r.status, 400, q);
      assert.equal(r.body.scimType, 'invalidValue');
      assert.match(r.body.detail, /may be given only once/);
    }
    const search = await h.scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: [1, 2] });
    assert.equal(search.status, 400);
    assert.equal(search.body.detail, 'count may be given only once, as one value (it came as a list of 2)');
    // attributes may be a list (several names).
    const picked = await h.scim('GET', `/Users/${user.body.id}?attributes=userName&attributes=displayName`);
    assert.deepEqual(Object.keys(picked.body).sort(), ['displayName', 'id', 'schemas', 'userName']);
    await flushProvisioningLog(h.t.database.db);
    const logged = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select(['status', 'summary']).where('method', 'in', ['OPTIONS', 'HEAD', 'TRACE']).execute();
    assert.ok(logged.some((r) => r.status === 204 && r.summary === 'asked which methods /Users takes'), JSON.stringify(logged));
    assert.ok(logged.some((r) => r.status === 200 && r.summary === 'read user methods35@acme.com'), JSON.stringify(logged));
    assert.ok(logged.some((r) => r.status === 405 && r.summary === 'rejected: TRACE is not allowed on /Users; it takes GET, HEAD, POST, OPTIONS'), JSON.stringify(logged));
    await h.scim('DELETE', `/Users/${user.body.id}`);
  });

  test('a request that does not arrive in full within REQUEST_TIMEOUT_SECONDS is answered a 408 (SCIM format on a SCIM path) and its connection closed; the provisioning log says so; a whole request is not cut', async () => {
    const slow = await startScim({ env: { REQUEST_TIMEOUT_SECONDS: '1' } });
    try {
      const url = new URL(slow.base);
      /** Sends the headers and half a body, then nothing: what arrives and when the connection closes. */
      const stall = (path: string, type = 'application/scim+json') =>
        new Promise<{ text: string; ms: number }>((resolve, reject) => {
          const started = Date.now();
          const socket = net.connect(Number(url.port), url.hostname, () =>
            socket.write(`POST ${path} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${slow.token}\r\nContent-Type: ${type}\r\nContent-Length: 100\r\n\r\n{"userName": `),
          );
          let text = '';
          socket.on('data', (d) => (text += d.toString('utf8')));
          socket.on('close', () => resolve({ text, ms: Date.now() - started }));
          socket.on('error', reject);
          setTimeout(() => {
            socket.destroy();
            reject(new Error(`${path}: still open after 10 s`));
          }, 10_000).unref();
        });
      const scim = await stall(`${url.pathname}/Users`);
      // It held the connection for ever (Fastify turns Node's request timeout off).
      assert.match(scim.text, /^HTTP\/1\.1 408 /);
      assert.match(scim.text, /content-type: application\/scim\+json/i);
      const body = JSON.parse(scim.text.slice(scim.text.indexOf('\r\n\r\n') + 4));
      assert.deepEqual(body.schemas, [ERROR]);
      assert.equal(body.status, '408');
      assert.match(body.detail, /did not arrive in full within 1 s \(REQUEST_TIMEOUT_SECONDS\)/);
      assert.ok(scim.ms >= 900 && scim.ms < 5000, `closed after ${scim.ms} ms`);
      const api = await stall('/api/auth/login', 'application/json');
      assert.match(api.text, /^HTTP\/1\.1 408 /);
      assert.match(api.text, /content-type: application\/json/i);

      // A client that hangs up mid-body: only the log sees it (it said "aborted").
      await new Promise<void>((resolve) => {
        const socket = net.connect(Number(url.port), url.hostname, () => {
          socket.write(`PUT ${url.pathname}/Users/x HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${slow.token}\r\nContent-Type: application/scim+json\r\nContent-Length: 100\r\n\r\n{`);
          setTimeout(() => socket.destroy(), 200);
        });
        socket.on('close', () => resolve());
      });
      await new Promise((r) => setTimeout(r, 200));
      // It was logged as a 400 "rejected: aborted".
      await flushProvisioningLog(slow.t.database.db);
      const gone = await provisioningLogDbOf(slow.t.database.db).selectFrom('provisioning_log').select(['status', 'summary']).where('method', '=', 'PUT').execute();
      assert.deepEqual(gone, [{ status: 400, summary: 'rejected: The client closed the connection before the whole request body arrived' }]);
      const rows = await provisioningLogDbOf(slow.t.database.db).selectFrom('provisioning_log').select(['status', 'summary', 'path']).where('status', '=', 408).execute();
      assert.equal(rows.length, 1, JSON.stringify(rows));
      assert.equal(rows[0].path, `${url.pathname}/Users`);
      assert.match(rows[0].summary, /^rejected: The request did not arrive in full within 1 s/);

      // A request sent in pieces that arrives within the limit is answered as usual.
      const whole = await new Promise<string>((resolve, reject) => {
        const text = JSON.stringify(oktaUser('timely35@acme.com'));
        const socket = net.connect(Number(url.port), url.hostname, () => {
          socket.write(`POST ${url.pathname}/Users HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${slow.token}\r\nContent-Type: application/scim+json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text.slice(0, 10)}`);
          setTimeout(() => socket.write(text.slice(10)), 300);
        });
        let out = '';
        socket.on('data', (d) => (out += d.toString('utf8')));
        socket.on('close', () => resolve(out));
        socket.on('error', reject);
      });
      assert.match(whole, /^HTTP\/1\.1 201 /);
    } finally {
      await slow.t.close();
    }
  });

  test('a multi-valued attribute holds at most 1,000 values (POST, PUT and PATCH alike), and a PATCH that adds values keeps each once however many there are', async () => {
    const many = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ({ value: `e${from + i}@acme.com`, type: 'work' }));
    const tooMany = await h.scim('POST', '/Users', oktaUser('many34@acme.com', { emails: many(1001) }));
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.scimType, 'invalidValue');
    assert.equal(tooMany.body.detail, '"emails" would hold 1,001 values; at most 1,000 are accepted');
    const user = await h.scim('POST', '/Users', oktaUser('many34@acme.com', { emails: many(600) }));
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const path = `/Users/${user.body.id}`;
    assert.equal((await h.scim('PUT', path, oktaUser('many34@acme.com', { phoneNumbers: many(1001) }))).status, 400);
    // 600 there, 600 added of which 300 are already there (type in another case): 900, each once.
    const added = many(600, 300).map((e, i) => (i % 2 ? { ...e, type: 'WORK' } : e));
    assert.equal((await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'emails', value: added }] })).status, 204);
    const emails = (await h.scim('GET', path)).body.emails as { value: string }[];
    assert.equal(emails.length, 900);
    assert.equal(new Set(emails.map((e) => e.value)).size, 900);
    // Past the limit, added in one operation or one at a time: a 400 that changes nothing.
    const over = await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'emails', value: many(101, 900) }] });
    assert.equal(over.status, 400);
    assert.equal(over.body.detail, '"emails" would hold 1,001 values; at most 1,000 are accepted');
    const oneByOne = many(101, 900).map((e) => ({ op: 'add', path: 'emails', value: [e] }));
    assert.equal((await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: oneByOne })).status, 400);
    const filtered = Array.from({ length: 101 }, (_, i) => ({ op: 'add', path: `emails[type eq "t${i}"].value`, value: `f${i}@acme.com` }));
    assert.equal((await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: filtered })).status, 400);
    assert.equal(((await h.scim('GET', path)).body.emails as unknown[]).length, 900);
    // A value changed in place by one operation is compared as it now is by the next add.
    const retyped = await h.scim('POST', '/Users', oktaUser('retyped34@acme.com', { emails: [{ value: 'r@acme.com', type: 'work' }] }));
    const ops = [
      { op: 'add', path: 'emails', value: [{ value: 's@acme.com', type: 'work' }] },
      { op: 'replace', path: 'emails[value eq "r@acme.com"].type', value: 'home' },
      { op: 'add', path: 'emails', value: [{ value: 'r@acme.com', type: 'home' }] },
    ];
    assert.equal((await h.scim('PATCH', `/Users/${retyped.body.id}`, { schemas: [PATCH_OP], Operations: ops })).status, 204);
    assert.deepEqual((await h.scim('GET', `/Users/${retyped.body.id}`)).body.emails, [{ value: 'r@acme.com', type: 'home' }, { value: 's@acme.com', type: 'work' }]);
    await h.scim('DELETE', `/Users/${retyped.body.id}`);
    await h.scim('DELETE', path);
  });

  test('a PATCH changes attributes other than members at most 1,000 times (each may scan 1,000 values: 10,000 held the request thread for 3 s); a group PATCH may hold 10,000 member operations', async () => {
    const user = await h.scim('POST', '/Users', oktaUser('ops35@acme.com', { emails: Array.from({ length: 900 }, (_, i) => ({ value: `o${i}@acme.com`, type: 'work' })) }));
    const path = `/Users/${user.body.id}`;
    const version = versionOf(user.headers.get('etag'));
    const retitle = (n: number) => Array.from({ length: n }, (_, i) => ({ op: 'replace', path: `emails[value eq "o${i % 900}@acme.com"].type`, value: i % 2 ? 'home' : 'work' }));
    const over = await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: retitle(1001) });
    assert.equal(over.status, 400);
    assert.equal(over.body.scimType, 'tooMany');
    assert.equal(over.body.detail, 'A PATCH may change attributes other than members at most 1,000 times; send it as several');
    // Keys of a value without a path count one each.
    const wide = { title: 'x', nickName: 'x', displayName: 'x', profileUrl: 'https://x.example', userType: 'x', preferredLanguage: 'en', locale: 'en-GB', timezone: 'Europe/London', externalId: 'x', name: { givenName: 'x' } };
    assert.equal((await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: Array.from({ length: 100 }, () => ({ op: 'replace', value: wide })) })).status, 204, '100 x 10 keys: 1,000');
    const wider = await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: Array.from({ length: 101 }, () => ({ op: 'replace', value: { ...wide, title: 'y' } })) });
    assert.equal(wider.status, 400, '101 x 10 keys');
    assert.equal(wider.body.scimType, 'tooMany');
    const unchanged = await h.scim('GET', path);
    assert.equal(versionOf(unchanged.headers.get('etag')), version + 1, 'only the PATCH within the limit applied');
    assert.equal(unchanged.body.title, 'x');
    assert.equal((await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: retitle(1000) })).status, 204);
    const tooLong = await h.scim('PATCH', path, { schemas: [PATCH_OP], Operations: Array.from({ length: 10_001 }, () => ({ op: 'replace', path: 'title', value: 't' })) });
    assert.equal(tooLong.status, 400);
    assert.equal(tooLong.body.detail, 'A PATCH may hold at most 10,000 operations (this one holds 10,001); send it as several');

    const members = await Promise.all(Array.from({ length: 3 }, (_, i) => h.scim('POST', '/Users', oktaUser(`ops35.member${i}@acme.com`))));
    const group = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Ops 35' });
    const memberOps = Array.from({ length: 3000 }, (_, i) => ({ op: i % 3 === 2 ? 'remove' : 'add', path: 'members', value: [{ value: members[i % 3].body.id }] }));
    assert.equal((await h.scim('PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: memberOps })).status, 204);
    const after = await h.scim('GET', `/Groups/${group.body.id}`);
    assert.deepEqual(after.body.members.map((m: { value: string }) => m.value), [members[0].body.id, members[1].body.id]);
    for (const m of members) await h.scim('DELETE', `/Users/${m.body.id}`);
    await h.scim('DELETE', `/Groups/${group.body.id}`);
    await h.scim('DELETE', path);
  });

  test('nesting depth is counted outside strings only, escaped quotes included', () => {
    assert.equal(nestedDeeperThan('[[]]', 1), true);
    assert.equal(nestedDeeperThan('[[]]', 2), false);
    assert.equal(nestedDeeperThan('"[[[["', 0), false);
    assert.equal(nestedDeeperThan('{"a\\"[[":[1]}', 2), false); // the string is a\"[[
    assert.equal(nestedDeeperThan('{"a\\\\":[[1]]}', 2), true); // the string is a\\, then two levels
    assert.equal(nestedDeeperThan('{"a\\\\":[[1]]}', 3), false);
  });

  test('unknown ids and endpoints are 404s with detail', async () => {
    const r = await h.scim('GET', '/Users/00919288221112222');
    assert.equal(r.status, 404);
    assert.deepEqual(r.body.schemas, [ERROR]);
    assert.equal(r.body.status, '404');
    assert.equal((await h.scim('GET', '/Nothing')).status, 404);
  });

  test('a duplicate userName or group displayName is a 409 uniqueness error', async () => {
    assert.equal((await h.scim('POST', '/Users', oktaUser('dup@acme.com'))).status, 201);
    const r = await h.scim('POST', '/Users', oktaUser('Dup@Acme.com'));
    assert.equal(r.status, 409);
    assert.equal(r.body.scimType, 'uniqueness');
    assert.ok(r.body.detail);
    assert.equal((await h.scim('POST', '/Groups', { displayName: 'Dup Group' })).status, 201);
    const g = await h.scim('POST', '/Groups', { displayName: 'dup group' });
    assert.equal(g.status, 409);
    assert.equal(g.body.scimType, 'uniqueness');
  });

  test('If-Match with a stale version is a 412; the current one succeeds', async () => {
    const u = await h.scim('POST', '/Users', oktaUser('etag@acme.com'));
    const etag = u.headers.get('etag')!;
    assert.equal(etag, u.body.meta.version);
    const ok = await h.scim('PATCH', `/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'E1' }] }, { 'if-match': etag });
    assert.equal(ok.status, 204);
    const stale = await h.scim('PUT', `/Users/${u.body.id}`, oktaUser('etag@acme.com'), { 'if-match': etag });
    assert.equal(stale.status, 412);
    assert.equal(stale.body.status, '412');
    const fresh = await h.scim('GET', `/Users/${u.body.id}`);
    assert.equal((await h.scim('GET', `/Users/${u.body.id}`, undefined, { 'if-none-match': fresh.headers.get('etag')! })).status, 304);
  });

  test('If-None-Match on a PUT, PATCH or DELETE: "*" or the current version is a 412 that changes nothing; another version lets the write through (users and groups)', async () => {
    const u = await h.scim('POST', '/Users', oktaUser('nonematch@acme.com'));
    const g = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'None Match Group' });
    for (const [path, body, putBody] of [
      [`/Users/${u.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Changed' }] }, oktaUser('nonematch@acme.com', { displayName: 'Put' })],
      [`/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'None Match Changed' }] }, { schemas: [GROUP], displayName: 'None Match Put' }],
    ] as const) {
      const etag = (await h.scim('GET', path)).headers.get('etag')!;
      for (const header of ['*', etag, etag.slice(2), `W/"999999", ${etag}`]) {
        for (const [method, b] of [['PUT', putBody], ['PATCH', body], ['DELETE', undefined]] as const) {
          const r = await h.scim(method, path, b, { 'if-none-match': header });
          assert.equal(r.status, 412, `${method} ${path} with If-None-Match: ${header}`);
          assert.deepEqual(r.body.schemas, [ERROR]);
          assert.equal(r.body.status, '412');
        }
      }
      const after = await h.scim('GET', path);
      assert.equal(after.headers.get('etag'), etag, 'nothing was written');
      assert.equal((await h.scim('PATCH', path, body, { 'if-none-match': 'W/"999999"' })).status, 204);
      assert.equal((await h.scim('DELETE', path, undefined, { 'if-none-match': 'W/"999999"' })).status, 204);
    }
  });

  test('attributes and excludedAttributes shape the answer to a POST, as they do a GET, PUT or PATCH (RFC 7644 §3.9)', async () => {
    const u = await h.scim('POST', '/Users?attributes=userName', oktaUser('postprojected@acme.com'));
    assert.equal(u.status, 201);
    assert.deepEqual(Object.keys(u.body).sort(), ['id', 'schemas', 'userName']);
    assert.ok(u.headers.get('etag'));
    const x = await h.scim('POST', '/Users?excludedAttributes=emails,name', oktaUser('postexcluded@acme.com'));
    assert.equal(x.body.emails, undefined);
    assert.equal(x.body.name, undefined);
    assert.equal(x.body.userName, 'postexcluded@acme.com');
    const g = await h.scim('POST', '/Groups?excludedAttributes=members,meta', { schemas: [GROUP], displayName: 'Post Projected', members: [{ value: u.body.id }] });
    assert.equal(g.status, 201);
    assert.deepEqual(Object.keys(g.body).sort(), ['displayName', 'id', 'schemas']);
    assert.ok(g.headers.get('etag'));
    const gi = await h.scim('POST', '/Groups?attributes=members.value', { schemas: [GROUP], displayName: 'Post Projected 2', members: [{ value: u.body.id }] });
    assert.deepEqual(gi.body.members, [{ value: u.body.id }]);
    assert.equal(gi.body.displayName, undefined);
  });

  test("an admin's change to a provisioned user (their time zone, on Setup › Users) racing SCIM PUTs of that user: every change moves the version by one, so no two states share an ETag", async () => {
    const u = await h.scim('POST', '/Users', oktaUser('etag.race@acme.com'));
    assert.equal(u.status, 201);
    const first = versionOf(u.body.meta.version);
    const rounds = 20;
    const etags = new Set<string>([u.body.meta.version]);
    for (let i = 0; i < rounds; i++) {
      const [admin, scim] = await Promise.all([
        h.admin.json(`/api/users/${u.body.id}`, { method: 'PATCH', body: { timeZone: i % 2 ? 'UTC' : 'Europe/Paris' } }),
        h.scim('PUT', `/Users/${u.body.id}`, { ...oktaUser('etag.race@acme.com'), displayName: `Round ${i}` }),
        h.scim('PUT', `/Users/${u.body.id}`, { ...oktaUser('etag.race@acme.com'), displayName: `Round ${i}b` }),
      ]);
      assert.equal(admin.status, 200, JSON.stringify(admin.body));
      assert.equal(scim.status, 200, JSON.stringify(scim.body));
      etags.add(scim.body.meta.version);
    }
    const now = await h.scim('GET', `/Users/${u.body.id}`);
    assert.equal(versionOf(now.body.meta.version), first + 3 * rounds, `each of the ${3 * rounds} changes moved the version by one`);
    assert.equal(etags.size, rounds + 1, 'every PUT answered a tag of its own');
  });

  test("deleting a user changes the version and lastModified of its groups: a client holding a group's old ETag reads it anew and cannot write over it", async () => {
    const gone = await h.scim('POST', '/Users', oktaUser('etag.gone@acme.com'));
    const stays = await h.scim('POST', '/Users', oktaUser('etag.stays@acme.com'));
    const members = [{ value: gone.body.id }, { value: stays.body.id }];
    const g = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'ETag Group', members });
    const other = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'ETag Bystander', members: [{ value: stays.body.id }] });
    assert.equal(g.status, 201);
    const before = await h.scim('GET', `/Groups/${g.body.id}`);
    const etag = before.headers.get('etag')!;
    const bystander = (await h.scim('GET', `/Groups/${other.body.id}`)).headers.get('etag')!;
    await new Promise((r) => setTimeout(r, 5)); // a later millisecond for lastModified
    assert.equal((await h.scim('DELETE', `/Users/${gone.body.id}`)).status, 204);

    const cached = await h.scim('GET', `/Groups/${g.body.id}`, undefined, { 'if-none-match': etag });
    assert.equal(cached.status, 200, 'the old ETag no longer matches');
    assert.notEqual(cached.headers.get('etag'), etag);
    assert.deepEqual(cached.body.members.map((m: { value: string }) => m.value), [stays.body.id]);
    assert.ok(cached.body.meta.lastModified > before.body.meta.lastModified, `${cached.body.meta.lastModified} after ${before.body.meta.lastModified}`);
    const overwrite = await h.scim('PUT', `/Groups/${g.body.id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'ETag Group', members: [{ value: stays.body.id }] }, { 'if-match': etag });
    assert.equal(overwrite.status, 412);
    // A group the user was not in keeps its version.
    assert.equal((await h.scim('GET', `/Groups/${other.body.id}`, undefined, { 'if-none-match': bystander })).status, 304);
    // A stale If-Match on the user's delete changes no group.
    const third = await h.scim('POST', '/Users', oktaUser('etag.third@acme.com'));
    assert.equal((await h.scim('PATCH', `/Groups/${other.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: third.body.id }] }] })).status, 204);
    const current = (await h.scim('GET', `/Groups/${other.body.id}`)).headers.get('etag')!;
    assert.equal((await h.scim('DELETE', `/Users/${third.body.id}`, undefined, { 'if-match': 'W/"99"' })).status, 412);
    assert.equal((await h.scim('GET', `/Groups/${other.body.id}`, undefined, { 'if-none-match': current })).status, 304);
  });

  test("a user's ETag moves with their groups (joining, leaving, a group renamed or deleted) and a group's with its members' names; If-Match takes the current one; If-None-Match: * and a tag without W/ are 304s", async () => {
    const a = await h.scim('POST', '/Users', oktaUser('etag.member.a@acme.com', { displayName: 'Member A' }));
    const b = await h.scim('POST', '/Users', oktaUser('etag.member.b@acme.com', { displayName: 'Member B' }));
    const g = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'ETag Members', members: [{ value: a.body.id }] });
    const user = async (id: string) => {
      const r = await h.scim('GET', `/Users/${id}`);
      return { etag: r.headers.get('etag')!, body: r.body };
    };
    const changed = async (id: string, etag: string) => (await h.scim('GET', `/Users/${id}`, undefined, { 'if-none-match': etag })).status === 200;
    const groupsOf = (body: { groups?: { value: string; display: string }[] }) => (body.groups ?? []).map((x) => `${x.value} ${x.display}`);

    // b joins (a PATCH add, as Entra sends): b's version moves, a's does not.
    const a0 = await user(a.body.id);
    assert.deepEqual(groupsOf(a0.body), [`${g.body.id} ETag Members`]);
    assert.notEqual(a0.etag, a.body.meta.version, 'joining the group at its creation moved the version');
    const b0 = await user(b.body.id);
    assert.equal((await h.scim('PATCH', `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: b.body.id }] }] })).status, 204);
    assert.ok(await changed(b.body.id, b0.etag));
    const b1 = await user(b.body.id);
    assert.equal(b1.etag, b1.body.meta.version);
    assert.deepEqual(groupsOf(b1.body), [`${g.body.id} ETag Members`]);
    assert.equal(await changed(a.body.id, a0.etag), false, 'a member left alone keeps its version');

    // a leaves (a PATCH remove with a value filter): a's old ETag is stale for reads and writes.
    assert.equal((await h.scim('PATCH', `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: `members[value eq "${a.body.id}"]` }] })).status, 204);
    assert.ok(await changed(a.body.id, a0.etag));
    assert.deepEqual(groupsOf((await user(a.body.id)).body), []);
    assert.equal((await h.scim('PUT', `/Users/${a.body.id}`, oktaUser('etag.member.a@acme.com'), { 'if-match': a0.etag })).status, 412);
    assert.equal((await h.scim('DELETE', `/Users/${a.body.id}`, undefined, { 'if-match': a0.etag })).status, 412);
    // b's current ETag, which names the group, is the one If-Match takes (on a PUT, Okta's way, and a PATCH).
    const put = await h.scim('PUT', `/Users/${b.body.id}`, oktaUser('etag.member.b@acme.com', { displayName: 'Member B' }), { 'if-match': b1.etag });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(groupsOf(put.body), [`${g.body.id} ETag Members`]);
    assert.equal(put.headers.get('etag'), put.body.meta.version);
    assert.equal(put.body.meta.version, b1.etag, 'a PUT of the profile as it is changes nothing, its version included');
    assert.equal((await h.scim('GET', `/Users/${b.body.id}`, undefined, { 'if-none-match': put.body.meta.version })).status, 304);
    const patched = await h.scim('PATCH', `/Users/${b.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'Bee' }] }, { 'if-match': put.body.meta.version.replace(/^W\//, '') });
    assert.equal(patched.status, 204);
    assert.equal((await h.scim('GET', `/Users/${b.body.id}?attributes=userName`, undefined, { 'if-none-match': patched.headers.get('etag')! })).status, 304, 'a projection has the same ETag');

    // Okta's PUT of the group renames it and sends the same members: b's groups show the new name.
    const b2 = await user(b.body.id);
    const a2 = await user(a.body.id);
    assert.equal((await h.scim('PUT', `/Groups/${g.body.id}`, { schemas: [GROUP], displayName: 'ETag Members Renamed', members: [{ value: b.body.id }] })).status, 200);
    assert.ok(await changed(b.body.id, b2.etag));
    assert.deepEqual(groupsOf((await user(b.body.id)).body), [`${g.body.id} ETag Members Renamed`]);
    assert.equal(await changed(a.body.id, a2.etag), false, 'a user outside the group keeps its version');

    // The group lists b by displayName: a new one moves the group's version (PATCH as Entra, PUT as Okta).
    const groupEtag = async () => (await h.scim('GET', `/Groups/${g.body.id}`)).headers.get('etag')!;
    const groupChanged = async (etag: string) => (await h.scim('GET', `/Groups/${g.body.id}`, undefined, { 'if-none-match': etag })).status === 200;
    const g0 = await groupEtag();
    assert.equal((await h.scim('PATCH', `/Users/${b.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Controller' }] })).status, 204);
    assert.equal(await groupChanged(g0), false, 'a change the group does not show leaves its version');
    assert.equal((await h.scim('PATCH', `/Users/${b.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'Member B Renamed' }] })).status, 204);
    assert.ok(await groupChanged(g0));
    const g1 = await h.scim('GET', `/Groups/${g.body.id}`);
    assert.deepEqual(g1.body.members.map((m: { display: string }) => m.display), ['Member B Renamed']);
    const g1Etag = g1.headers.get('etag')!;
    assert.equal((await h.scim('PUT', `/Users/${b.body.id}`, oktaUser('etag.member.b@acme.com', { displayName: 'Member B Again' }))).status, 200);
    assert.ok(await groupChanged(g1Etag));
    assert.deepEqual((await h.scim('GET', `/Groups/${g.body.id}`)).body.members.map((m: { display: string }) => m.display), ['Member B Again']);

    // The group's deletion leaves b in no group, at a new version.
    const b3 = await user(b.body.id);
    assert.equal((await h.scim('DELETE', `/Groups/${g.body.id}`)).status, 204);
    assert.ok(await changed(b.body.id, b3.etag));
    assert.deepEqual(groupsOf((await user(b.body.id)).body), []);

    // If-None-Match compares weakly (RFC 9110 §13.1.2), and "*" matches any current representation.
    const b4 = await user(b.body.id);
    assert.equal((await h.scim('GET', `/Users/${b.body.id}`, undefined, { 'if-none-match': b4.etag.replace(/^W\//, '') })).status, 304);
    assert.equal((await h.scim('GET', `/Users/${b.body.id}`, undefined, { 'if-none-match': '*' })).status, 304);
    assert.equal((await h.scim('GET', `/Users/${b.body.id}`, undefined, { 'if-none-match': 'W/"0", W/"999999"' })).status, 200);
  });

  test('a group PATCH that asks for attributes answers with the group after it and the ETag of that state', async () => {
    const a = await h.scim('POST', '/Users', oktaUser('patch.body.a@acme.com'));
    const b = await h.scim('POST', '/Users', oktaUser('patch.body.b@acme.com'));
    const g = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Patch Body', members: [{ value: a.body.id }] });
    const r = await h.scim('PATCH', `/Groups/${g.body.id}?attributes=members,meta`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: b.body.id }] }] });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body.members.map((m: { value: string }) => m.value), [a.body.id, b.body.id]);
    assert.equal(r.headers.get('etag'), r.body.meta.version);
    assert.notEqual(r.headers.get('etag'), g.body.meta.version);
    assert.equal((await h.scim('GET', `/Groups/${g.body.id}`, undefined, { 'if-none-match': r.headers.get('etag')! })).status, 304);
    // A PUT (read after its COMMIT on SQLite) answers likewise: the group it left, with that state's ETag.
    const put = await h.scim('PUT', `/Groups/${g.body.id}`, { schemas: [GROUP], displayName: 'Patch Body', members: [{ value: b.body.id }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body.members.map((m: { value: string }) => m.value), [b.body.id]);
    assert.equal(put.headers.get('etag'), put.body.meta.version);
    assert.notEqual(put.headers.get('etag'), r.headers.get('etag'));
    assert.equal((await h.scim('GET', `/Groups/${g.body.id}`, undefined, { 'if-none-match': put.headers.get('etag')! })).status, 304);
    const projected = await h.scim('PUT', `/Groups/${g.body.id}?excludedAttributes=members`, { schemas: [GROUP], displayName: 'Patch Body', members: [{ value: a.body.id }] });
    assert.equal(projected.status, 200);
    assert.equal(projected.body.members, undefined);
    assert.equal(projected.headers.get('etag'), projected.body.meta.version);
  });

  test('a body over the limit is a 413 in the SCIM error format', async () => {
    const big = JSON.stringify({ userName: 'big@acme.com', title: 'x'.repeat(11 * 1024 * 1024) });
    const r = await h.scim('POST', '/Users', big);
    assert.equal(r.status, 413);
    assert.deepEqual(r.body.schemas, [ERROR]);
    assert.equal(r.body.detail, 'Request body is too large (10 MB at most)', 'the detail says what the limit is');
  });

  test('a body over 1 MB (parsed in a later turn of the event loop) is read like any other: applied when valid, a 400 when malformed or holding NUL', async () => {
    const user = await h.scim('POST', '/Users', oktaUser('large.body@acme.com'));
    const group = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Large Body' });
    const body = (echoed: string) => JSON.stringify({ schemas: [GROUP], displayName: 'Large Body', members: [{ value: user.body.id }], echoed }).replace('"echoed":"', `"echoed":"${'x'.repeat(1024 * 1024)}`);
    const malformed = await h.scim('PUT', `/Groups/${group.body.id}`, body('').slice(0, -1));
    assert.equal(malformed.status, 400);
    assert.equal(malformed.body.scimType, 'invalidSyntax');
    assert.equal(malformed.body.detail, 'The request body is not valid JSON');
    // Its `members` are parsed a slice at a time: an error inside them is found there.
    const trailingComma = await h.scim('PUT', `/Groups/${group.body.id}`, body('').replace('}],"echoed"', '},],"echoed"'));
    assert.equal(trailingComma.status, 400);
    assert.equal(trailingComma.body.detail, 'The request body is not valid JSON');
    const nul = await h.scim('PUT', `/Groups/${group.body.id}`, body('\u0000'));
    assert.equal(nul.status, 400);
    assert.match(nul.body.detail, /NUL character/);
    assert.deepEqual((await h.scim('GET', `/Groups/${group.body.id}`)).body.members ?? [], [], 'nothing changed');
    const applied = await h.scim('PUT', `/Groups/${group.body.id}`, body(''));
    assert.equal(applied.status, 200);
    assert.deepEqual(applied.body.members.map((m: { value: string }) => m.value), [user.body.id]);
  });

  test('SCIM_MAX_BODY_MB sets the limit: a group PUT over it is a 413 naming it and changes nothing, one under it is applied', async () => {
    const small = await startScim({ env: { SCIM_MAX_BODY_MB: '1' } });
    try {
      const users: { id: string; userName: string }[] = [];
      for (const n of [1, 2, 3]) users.push((await small.scim('POST', '/Users', oktaUser(`limit${n}@acme.example`))).body);
      const group = await small.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Limit', members: [{ value: users[0].id }] });
      assert.equal(group.status, 201);
      // Okta's PUT of the whole group; what it echoes back that the server does not keep pads the body.
      const put = (padding: number) => ({
        schemas: [GROUP],
        displayName: 'Limit',
        members: users.map((u) => ({ value: u.id, display: u.userName })),
        echoed: 'x'.repeat(padding),
      });
      const over = await small.scim('PUT', `/Groups/${group.body.id}`, put(1024 * 1024));
      assert.equal(over.status, 413);
      assert.equal(over.body.detail, 'Request body is too large (1 MB at most)');
      assert.deepEqual((await small.scim('GET', `/Groups/${group.body.id}`)).body.members.map((m: { value: string }) => m.value), [users[0].id], 'nothing changed');
      const under = await small.scim('PUT', `/Groups/${group.body.id}`, put(1024 * 1024 - 2048));
      assert.equal(under.status, 200, JSON.stringify(under.body).slice(0, 300));
      assert.deepEqual(under.body.members.map((m: { value: string }) => m.value).sort(), users.map((u) => u.id).sort());
    } finally {
      await small.t.close();
    }
  });
});

describe('queries', () => {
  const ids: string[] = [];
  before(async () => {
    for (let i = 0; i < 7; i++) ids.push((await h.scim('POST', '/Users', oktaUser(`page.${i}@paging.test`, { displayName: `P ${6 - i}` }))).body.id);
  });
  const filter = encodeURIComponent('userName ew "@paging.test"');

  test('startIndex and count page in a stable order with integer totals', async () => {
    const seen: string[] = [];
    for (let start = 1; start <= 7; start += 3) {
      const r = await h.scim('GET', `/Users?filter=${filter}&startIndex=${start}&count=3`);
      assert.equal(r.body.totalResults, 7);
      assert.equal(r.body.startIndex, start);
      seen.push(...r.body.Resources.map((u: any) => u.id));
    }
    assert.deepEqual(seen, ids);
    const zero = await h.scim('GET', `/Users?filter=${filter}&count=0`);
    assert.equal(zero.body.totalResults, 7);
    assert.deepEqual(zero.body.Resources, []);
  });

  test('cursor paging (RFC 9865) walks every resource once', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 5; i++) {
      const r = await h.scim('GET', `/Users?filter=${filter}&count=3&cursor=${encodeURIComponent(cursor)}`);
      assert.equal(r.status, 200);
      seen.push(...r.body.Resources.map((u: any) => u.id));
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
    }
    assert.deepEqual(seen, ids);
  });

  test('a forged cursor (a NUL, a lone surrogate, an offset past the safe integers) is a 400 invalidCursor, on either database', async () => {
    const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    for (const key of [['\u0000', 'x'], ['2026-01-01T00:00:00.000Z', '\u0000'], ['a\ud800', 'x'], [1e300], [2 ** 53], [-1], [{}], [[]]]) {
      for (const path of ['/Users', '/Groups']) {
        const r = await h.scim('GET', `${path}?count=2&cursor=${cursor(key)}`);
        assert.equal(r.status, 400, `${path} ${JSON.stringify(key)}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.scimType, 'invalidCursor');
      }
    }
  });

  test('a cursor sent with another filter, sort or resource type is a 400 invalidCursor, not a walk from the first page or through another order', async () => {
    for (const n of [1, 2, 3]) assert.equal((await h.scim('POST', '/Users', oktaUser(`cursor.shape${n}@acme.com`))).status, 201);
    const filter = `&filter=${encodeURIComponent('userName sw "cursor.shape"')}`;
    const first = await h.scim('GET', `/Users?cursor=&count=1${filter}`);
    const next = first.body.nextCursor as string;
    assert.ok(next);
    const sorted = (await h.scim('GET', `/Users?cursor=&count=1&sortBy=userName${filter}`)).body.nextCursor as string;
    const refused = [
      `/Users?count=1&cursor=${next}`,
      `/Users?count=1&cursor=${next}&sortBy=userName${filter}`,
      `/Users?count=1&cursor=${next}&filter=${encodeURIComponent('userName sw "cursor.shape2"')}`,
      `/Groups?count=1&cursor=${next}${filter}`,
      `/Users?count=1&cursor=${sorted}${filter}`,
      `/Users?count=1&cursor=${sorted}&sortBy=userName&sortOrder=descending${filter}`,
    ];
    for (const path of refused) {
      const r = await h.scim('GET', path);
      assert.equal(r.status, 400, `${path}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.scimType, 'invalidCursor');
      assert.match(r.body.detail, /issued for another list/);
    }
    // The same list goes on, whatever the count or the attributes asked for; and through POST /.search.
    const second = await h.scim('GET', `/Users?count=2&attributes=userName&cursor=${next}${filter}`);
    assert.equal(second.status, 200);
    assert.deepEqual(second.body.Resources.map((u: { userName: string }) => u.userName), ['cursor.shape2@acme.com', 'cursor.shape3@acme.com']);
    const searched = await h.scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName sw "cursor.shape"', cursor: next, count: 1 });
    assert.equal(searched.status, 200, JSON.stringify(searched.body));
    assert.equal(searched.body.Resources[0].userName, 'cursor.shape2@acme.com');
    // A cursor issued before cursors named their list is taken as it was.
    const old = Buffer.from(JSON.stringify(JSON.parse(Buffer.from(next, 'base64url').toString()).slice(0, 2))).toString('base64url');
    assert.equal((await h.scim('GET', `/Users?count=1&cursor=${old}`)).status, 200);
  });

  test('totalResults of an unfiltered list is exact after creates and deletes (trigger-kept counters)', async () => {
    const extra = await h.scim('POST', '/Users', oktaUser('count.me@acme.com'));
    assert.equal(extra.status, 201);
    const real = async () => Number((await h.t.database.db.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).where('source', '=', 'idp').executeTakeFirstOrThrow()).n);
    const listed = async () => (await h.scim('GET', '/Users?startIndex=1&count=1')).body.totalResults;
    assert.equal(await listed(), await real());
    assert.equal((await h.scim('DELETE', `/Users/${extra.body.id}`)).status, 204);
    assert.equal(await listed(), await real());
  });

  test('sortBy and sortOrder sort', async () => {
    const r = await h.scim('GET', `/Users?filter=${filter}&sortBy=displayName&sortOrder=descending`);
    assert.deepEqual(r.body.Resources.map((u: any) => u.displayName), ['P 6', 'P 5', 'P 4', 'P 3', 'P 2', 'P 1', 'P 0']);
  });

  test('sortBy displayName and name.familyName ignore case, as their filters do (neither is caseExact)', async () => {
    // In byte order Bravo would come before alpha, and Xu, Young and Zeta before wolf.
    const names = [['delta', 'Xu'], ['Bravo', 'wolf'], ['charlie', 'Young'], ['alpha', 'Zeta']];
    for (const [displayName, familyName] of names) {
      const r = await h.scim('POST', '/Users', oktaUser(`${displayName.toLowerCase()}@casesort.test`, { displayName, name: { givenName: 'G', familyName } }));
      assert.equal(r.status, 201);
    }
    const sorted = async (by: string, order = 'ascending') => {
      const r = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName ew "@casesort.test"')}&sortBy=${by}&sortOrder=${order}`);
      assert.equal(r.status, 200);
      return r.body.Resources.map((u: any) => u.displayName);
    };
    assert.deepEqual(await sorted('displayName'), ['alpha', 'Bravo', 'charlie', 'delta']);
    assert.deepEqual(await sorted('DISPLAYNAME', 'descending'), ['delta', 'charlie', 'Bravo', 'alpha']);
    assert.deepEqual(await sorted('name.familyName'), ['Bravo', 'delta', 'charlie', 'alpha']);
  });

  test('attributes and excludedAttributes shape the output; id is always returned', async () => {
    const r = await h.scim('GET', `/Users/${ids[0]}?attributes=userName,name.givenName`);
    assert.deepEqual(Object.keys(r.body).sort(), ['id', 'name', 'schemas', 'userName']);
    assert.deepEqual(r.body.name, { givenName: 'Test' });
    const x = await h.scim('GET', `/Users/${ids[0]}?excludedAttributes=emails,meta`);
    assert.equal(x.body.emails, undefined);
    assert.equal(x.body.meta, undefined);
    assert.ok(x.body.userName);
  });

  test('a user reads the same whether its stored attributes are written out as stored or picked from (a projection)', async () => {
    // A whole user goes out with its stored attributes as their stored text; a projection parses them.
    const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const CUSTOM = 'urn:example:extension:custom:1.0:User';
    const bodies = [
      oktaUser('reads-same-1@acme.example', { [ENTERPRISE]: { department: 'Finance', manager: { value: 'm-1' } }, phoneNumbers: [{ value: '+1 555', type: 'work' }], title: 'Quote " \\ ünï 😀' }),
      { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'reads-same-2@acme.example' },
      // Another extension holding the enterprise schema's name as a name of its own: not the enterprise extension.
      oktaUser('reads-same-3@acme.example', { externalId: undefined, [CUSTOM]: { [ENTERPRISE]: 'not this', code: 7 } }),
    ];
    for (const body of bodies) {
      const created = await h.scim('POST', '/Users', body);
      assert.equal(created.status, 201);
      const id = created.body.id;
      const whole = await h.scim('GET', `/Users/${id}`);
      assert.equal(whole.status, 200);
      assert.deepEqual(created.body, whole.body, 'the create answered what a GET reads');
      // Picked from the parsed attributes (a projection), then compared without the part it left out.
      const picked = await h.scim('GET', `/Users/${id}?excludedAttributes=groups`);
      const { groups: _g, ...wholeWithoutGroups } = whole.body;
      assert.deepEqual(picked.body, wholeWithoutGroups);
      const looked = await h.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${body.userName}"`)}`);
      assert.deepEqual(looked.body.Resources, [whole.body]);
      const names = await h.scim('GET', `/Users/${id}?attributes=userName`);
      assert.deepEqual(names.body, { schemas: whole.body.schemas, id, userName: body.userName });
      // externalId is written once (it is kept both in its column and with the stored attributes).
      const raw = await (await fetch(`${h.base}/Users/${id}`, { headers: { authorization: `Bearer ${h.token}` } })).text();
      assert.equal(raw.split('"externalId":').length - 1, 'externalId' in body && body.externalId !== undefined ? 1 : 0, raw);
    }
    const [withExt, bare, nested] = await Promise.all(bodies.map(async (b) => (await h.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${b.userName}"`)}`)).body.Resources[0]));
    assert.deepEqual(withExt.schemas, ['urn:ietf:params:scim:schemas:core:2.0:User', ENTERPRISE]);
    assert.deepEqual(withExt[ENTERPRISE], { department: 'Finance', manager: { value: 'm-1' } });
    assert.equal(withExt.title, 'Quote " \\ ünï 😀');
    assert.deepEqual(Object.keys(bare).sort(), ['active', 'groups', 'id', 'meta', 'schemas', 'userName']);
    // Each extension the user holds is listed (RFC 7643 §3); the name inside it is not an extension.
    assert.deepEqual(nested.schemas, ['urn:ietf:params:scim:schemas:core:2.0:User', CUSTOM]);
    assert.deepEqual(nested[CUSTOM], { [ENTERPRISE]: 'not this', code: 7 });
    // A PUT's answer with a projection picks from the attributes as a GET's does.
    const put = await h.scim('PUT', `/Users/${withExt.id}?attributes=title,${ENTERPRISE}:department`, { ...bodies[0], title: 'Changed' });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body, { schemas: withExt.schemas, id: withExt.id, title: 'Changed', [ENTERPRISE]: { department: 'Finance' } });
    // Stored attributes cut short outside Ledgerline read as none, and the answer is still JSON.
    await h.t.database.db.updateTable('users').set({ scim_attributes: `{"${ENTERPRISE}":{"department":"Fin` }).where('id', '=', bare.id).execute();
    const cut = await h.scim('GET', `/Users/${bare.id}`);
    assert.equal(cut.status, 200);
    assert.deepEqual(cut.body, { ...bare, meta: cut.body.meta });
    const page = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName sw "reads-same-"')}&sortBy=userName`);
    assert.deepEqual(page.body.Resources.map((u: any) => u.id), [withExt.id, bare.id, nested.id]);
  });

  test("another extension's attributes, sent nested or under their full names, are kept, filtered and sorted by (docs/scim.md)", async () => {
    const custom = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
    const nested = await h.scim('POST', '/Users', { ...oktaUser('nested.custom@acme.com'), schemas: [USER, custom], [custom]: { costCode: 'N1' } });
    // The full name, as a PATCH path has it: dropped before, so the user lost the value without a word.
    const flat = await h.scim('POST', '/Users', { ...oktaUser('flat.custom@acme.com'), schemas: [USER, custom], [`${custom}:costCode`]: 'F1', [`${custom}:office.city`]: 'Oslo' });
    assert.equal(flat.status, 201, JSON.stringify(flat.body));
    assert.deepEqual(flat.body[custom], { costCode: 'F1', office: { city: 'Oslo' } });
    assert.deepEqual(flat.body.schemas, [USER, custom]);
    const put = await h.scim('PUT', `/Users/${flat.body.id}`, { ...oktaUser('flat.custom@acme.com'), [custom]: { costCode: 'F1', region: 'EU' }, [`${custom}:COSTCODE`]: 'F2' });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.deepEqual(put.body[custom], { costCode: 'F2', region: 'EU' }, 'one attribute, in the case first sent; the PUT replaced the office');
    const found = async (filter: string, query = '') => {
      const r = await h.scim('GET', `/Users?filter=${encodeURIComponent(`userName ew ".custom@acme.com" and (${filter})`)}${query}`);
      assert.equal(r.status, 200, `${filter}: ${JSON.stringify(r.body)}`);
      return r.body.Resources.map((u: { userName: string }) => u.userName);
    };
    assert.deepEqual(await found(`${custom}:costCode eq "f2"`), ['flat.custom@acme.com']);
    assert.deepEqual(await found(`${custom}:costCode pr`, `&sortBy=${custom}:costCode`), ['flat.custom@acme.com', 'nested.custom@acme.com']);
    assert.deepEqual(await found(`${custom}:costCode pr`, `&sortBy=${custom}:costCode&sortOrder=descending`), ['nested.custom@acme.com', 'flat.custom@acme.com']);
    assert.equal(nested.status, 201);
    const r = await h.scim('GET', `/Users?filter=${encodeURIComponent(`${custom}:costCode[value eq "42"]`)}`);
    assert.equal(r.status, 400);
    assert.equal(r.body.scimType, 'invalidFilter');
    assert.match(r.body.detail, /another extension's attributes take no value filter/);
  });

  test('a user whose stored attributes were corrupted outside Ledgerline is answered in valid JSON with what its columns give, and a PUT or PATCH mends it', async () => {
    const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const made = await Promise.all(['corrupt-1', 'corrupt-2', 'corrupt-3'].map((n) => h.scim('POST', '/Users', oktaUser(`${n}@acme.example`, { title: 'Before' }))));
      for (const r of made) assert.equal(r.status, 201);
      const [a, b, c] = made.map((r) => r.body);
      // Each was whole at both ends ({ … }), which is all the old check looked at: the response was not JSON.
      const corrupt = ['{"title":"x",}', '{"title":"x"}}{', '{"title":"x" "department":"y"}'];
      for (const [i, u] of [a, b, c].entries()) await h.t.database.db.updateTable('users').set({ scim_attributes: corrupt[i] }).where('id', '=', u.id).execute();
      for (const u of [a, b, c]) {
        const raw = await fetch(`${h.base}/Users/${u.id}`, { headers: { authorization: `Bearer ${h.token}` } });
        assert.equal(raw.status, 200);
        const text = await raw.text();
        const got = JSON.parse(text);
        assert.deepEqual(got, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], id: u.id, externalId: u.externalId, userName: u.userName, active: true, groups: [], meta: got.meta }, text);
        assert.equal(got.meta.location, `${h.base}/Users/${u.id}`);
        const projected = await h.scim('GET', `/Users/${u.id}?attributes=title,userName`);
        assert.equal(projected.status, 200);
        assert.deepEqual(projected.body, { schemas: got.schemas, id: u.id, userName: u.userName });
      }
      const list = await fetch(`${h.base}/Users?filter=${encodeURIComponent('userName sw "corrupt-"')}&sortBy=userName`, { headers: { authorization: `Bearer ${h.token}` } });
      const listed = JSON.parse(await list.text());
      assert.deepEqual(listed.Resources.map((u: { id: string }) => u.id), [a.id, b.id, c.id]);
      assert.ok(warnings.some((w) => w.includes(a.id)) && warnings.some((w) => w.includes(c.id)), warnings.join('\n'));
      // A filter on a stored attribute matches what a GET shows: nothing of these three, and the
      // users whose attributes are whole as before (one corrupt row must not fail everyone's search).
      const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
      const whole = await h.scim('POST', '/Users', oktaUser('corrupt-0@acme.example', { title: 'Before', phoneNumbers: [{ value: '+1 555 0100', type: 'work' }], [ENTERPRISE]: { department: 'Before' }, [ACME]: { costCode: 'Before' } }));
      for (const filter of ['title eq "Before"', 'title pr', 'phoneNumbers.value sw "+1"', 'phoneNumbers[type eq "work"]', `${ENTERPRISE}:department eq "Before"`, `${ACME}:costCode eq "before"`, 'title eq "x"']) {
        const found = await h.scim('GET', `/Users?filter=${encodeURIComponent(`userName sw "corrupt-" and ${filter}`)}`);
        assert.equal(found.status, 200, `${filter}: ${JSON.stringify(found.body)}`);
        assert.deepEqual(found.body.Resources?.map((u: { id: string }) => u.id) ?? [], filter === 'title eq "x"' ? [] : [whole.body.id], filter);
      }
      // Sorted by stored attributes, they have none: last ascending, first descending.
      for (const [sortBy, order, first] of [['title', 'ascending', true], ['phoneNumbers', 'ascending', true], [`${ACME}:costCode`, 'descending', false]] as const) {
        const sorted = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName sw "corrupt-"')}&sortBy=${sortBy}&sortOrder=${order}`);
        assert.equal(sorted.status, 200, `${sortBy}: ${JSON.stringify(sorted.body)}`);
        const ids = sorted.body.Resources.map((u: { id: string }) => u.id);
        assert.equal(first ? ids[0] : ids.at(-1), whole.body.id, sortBy);
      }
      assert.equal(warnings.filter((w) => w.includes(a.id)).length, 1, 'once a user, however often it is read');
      // The same for a group.
      const g = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Corrupt attributes', externalId: 'corrupt-g' });
      const g2 = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'Corrupt attributes 2', externalId: 'corrupt-g2' });
      await h.t.database.db.updateTable('pushed_groups').set({ scim_attributes: '{"externalId":"corrupt-g",}' }).where('id', '=', g.body.id).execute();
      const gotGroup = await h.scim('GET', `/Groups/${g.body.id}`);
      assert.equal(gotGroup.status, 200);
      assert.equal(gotGroup.body.displayName, 'Corrupt attributes');
      // Without members (Entra's read), and with them (on PostgreSQL, read in one snapshot, a transaction the failed cast ends).
      for (const extra of ['&excludedAttributes=members', '']) {
        const groups = await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName sw "Corrupt attributes" and not (description pr)')}${extra}`);
        assert.equal(groups.status, 200, JSON.stringify(groups.body));
        assert.deepEqual(groups.body.Resources.map((r: { id: string }) => r.id).sort(), [g.body.id, g2.body.id].sort(), extra);
      }
      // Okta's PUT writes the attributes afresh; Entra's PATCH works from what the columns give.
      const put = await h.scim('PUT', `/Users/${a.id}`, oktaUser(a.userName, { title: 'After PUT' }));
      assert.equal(put.status, 200);
      assert.equal(put.body.title, 'After PUT');
      const patched = await h.scim('PATCH', `/Users/${b.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'title', value: 'After PATCH' }] });
      assert.equal(patched.status, 204);
      assert.equal((await h.scim('GET', `/Users/${b.id}`)).body.title, 'After PATCH');
      const deactivated = await h.scim('PATCH', `/Users/${c.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
      assert.equal(deactivated.status, 204);
      const after = await h.scim('GET', `/Users/${c.id}`);
      assert.equal(after.body.active, false);
      assert.equal(after.body.title, undefined, 'what could not be read is not made up');
    } finally {
      process.off('warning', onWarning);
    }
  });

  test("a group's members come in the order added, each name as it was given, and projections pick parts of them", async () => {
    // The members array is written by the database as JSON text; names that need escaping must
    // come out as the same strings, and a user without a displayName is shown by userName.
    const names = ['Quote " and \\ backslash', 'Tab\tnew\nline \u0001 control', 'Ünïcödé 名前 😀', '</script><b>x</b>'];
    const users: { id: string; display: string }[] = [];
    for (const [i, displayName] of names.entries()) {
      const r = await h.scim('POST', '/Users', oktaUser(`members-text${i}@acme.example`, { displayName }));
      assert.equal(r.status, 201);
      users.push({ id: r.body.id, display: displayName });
    }
    const bare = await h.scim('POST', '/Users', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'members-text-bare@acme.example' });
    users.push({ id: bare.body.id, display: 'members-text-bare@acme.example' });
    // Added in an order that is neither the ids' nor the names': last first, then the rest.
    const order = [users[4], users[2], users[0], users[3], users[1]];
    const g = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Members as text', members: [{ value: order[0].id }] });
    assert.equal(g.status, 201);
    assert.deepEqual(g.body.members, [{ value: order[0].id, display: order[0].display, $ref: `${h.base}/Users/${order[0].id}`, type: 'User' }]);
    for (const u of order.slice(1)) {
      const p = await h.scim('PATCH', `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: u.id }] }] });
      assert.equal(p.status, 204);
    }
    const expected = order.map((u) => ({ value: u.id, display: u.display, $ref: `${h.base}/Users/${u.id}`, type: 'User' }));
    const got = await h.scim('GET', `/Groups/${g.body.id}`);
    assert.deepEqual(got.body.members, expected);
    assert.equal(got.body.displayName, 'Members as text');
    // A page of several groups: each gets its own members, an empty group an empty list.
    const second = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Members as text, second', members: [{ value: users[1].id }, { value: users[4].id }] });
    const empty = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Members as text, empty' });
    const listed = await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName sw "Members as text"')}&sortBy=displayName`);
    assert.deepEqual(
      listed.body.Resources.map((r: any) => [r.id, r.members]),
      [
        [g.body.id, expected],
        [empty.body.id, []],
        [second.body.id, [expected[4], expected[0]]], // users[1] and users[4], in the order added
      ],
    );

    const values = await h.scim('GET', `/Groups/${g.body.id}?attributes=members.value`);
    assert.deepEqual(values.body.members, order.map((u) => ({ value: u.id })));
    assert.equal(values.body.displayName, undefined);
    const withoutRef = await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Members as text"')}&excludedAttributes=members.$ref,meta`);
    assert.deepEqual(withoutRef.body.Resources[0].members, expected.map(({ value, display, type }) => ({ value, display, type })));
    const one = await h.scim('GET', `/Groups/${g.body.id}?attributes=${encodeURIComponent(`members[value eq "${users[2].id}"]`)}`);
    assert.deepEqual(one.body.members, [expected[1]]);

    // Okta's PUT (the full list, with display names of its own, which are read-only and not kept)
    // answers with the group as stored.
    const put = await h.scim('PUT', `/Groups/${g.body.id}`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], id: g.body.id, displayName: 'Members as text', members: expected.slice(0, 3).map(({ value }) => ({ value, display: 'whatever Okta calls them' })) });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.members, expected.slice(0, 3));
    const emptied = await h.scim('PUT', `/Groups/${g.body.id}?attributes=members`, { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Members as text', members: [] });
    assert.deepEqual(emptied.body.members, [], JSON.stringify(emptied.body));
    assert.deepEqual(Object.keys(emptied.body).sort(), ['id', 'members', 'schemas']);
  });

  test('a group of more members than one read takes (5,000) comes whole and in order, and reads made while members are added each show the members of the version they name', async () => {
    const db = h.t.database.db;
    const now = new Date().toISOString();
    const user = (i: number, id: string) => ({ id, user_name: `chunked${i}@acme.example`, user_name_norm: `chunked${i}@acme.example`, display_name: i % 3 ? null : `Chunked ${i}`, given_name: null, family_name: null, email: null, email_norm: null, external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: now, updated_at: now });
    const n = 12_345;
    const ids: string[] = Array.from({ length: n + 8 }, () => randomUUID());
    for (let i = 0; i < ids.length; i += 1000) await db.insertInto('users').values(ids.slice(i, i + 1000).map((id, j) => user(i + j, id))).execute();
    const g = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Chunked' });
    // Members in an order that is not the ids': the memberships are inserted straight into the table.
    const members = ids.slice(0, n).reverse();
    for (let i = 0; i < n; i += 1000) await db.insertInto('pushed_group_members').values(members.slice(i, i + 1000).map((user_id) => ({ group_id: g.body.id, user_id }))).execute();
    const display = (id: string) => {
      const i = ids.indexOf(id);
      return i % 3 ? `chunked${i}@acme.example` : `Chunked ${i}`;
    };
    const whole = await h.scim('GET', `/Groups/${g.body.id}`);
    assert.equal(whole.status, 200);
    assert.equal(whole.body.members.length, n);
    assert.deepEqual(whole.body.members.map((m: { value: string }) => m.value), members);
    for (const k of [0, 4999, 5000, 5001, n - 1]) {
      const id = members[k];
      assert.deepEqual(whole.body.members[k], { value: id, display: display(id), $ref: `${h.base}/Users/${id}`, type: 'User' });
    }

    // Reads while 8 PATCHes add one member each: every answer holds the members of the version it
    // names, whether it was read in chunks or read again after a change.
    const base = versionOf(whole.body.meta.version);
    const added = ids.slice(n);
    let adding = true;
    const reads: { version: number; values: string[] }[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      while (adding) {
        const r = await h.scim('GET', `/Groups/${g.body.id}`);
        assert.equal(r.status, 200);
        assert.equal(r.headers.get('etag'), r.body.meta.version);
        reads.push({ version: versionOf(r.body.meta.version), values: r.body.members.map((m: { value: string }) => m.value) });
      }
    });
    for (const id of added) {
      const p = await h.scim('PATCH', `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] });
      assert.equal(p.status, 204);
    }
    adding = false;
    await Promise.all(readers);
    assert.ok(reads.length >= 3);
    for (const r of reads) assert.deepEqual(r.values, [...members, ...added.slice(0, r.version - base)], `the read at version ${r.version}`);
  });

  test('an answer over 1 MB (a large group, GET and PUT) is sent in pieces: its Content-Length counts bytes (names beyond ASCII too), it parses whole, and the log keeps its beginning and its length', async () => {
    const db = h.t.database.db;
    const now = new Date().toISOString();
    const n = 7_000;
    const ids = Array.from({ length: n }, () => randomUUID());
    // Every seventh display name has letters beyond ASCII: two and three bytes each in UTF-8.
    const name = (i: number) => (i % 7 ? `Piece ${i}` : `Zoë 日本 ${i}`);
    for (let i = 0; i < n; i += 1000) {
      await db
        .insertInto('users')
        .values(ids.slice(i, i + 1000).map((id, j) => ({ id, user_name: `piece${i + j}@acme.example`, user_name_norm: `piece${i + j}@acme.example`, display_name: name(i + j), given_name: null, family_name: null, email: null, email_norm: null, external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null, scim_attributes: '{}', version: 1, created_at: now, updated_at: now })))
        .execute();
    }
    const g = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: 'In pieces' });
    for (let i = 0; i < n; i += 1000) await db.insertInto('pushed_group_members').values(ids.slice(i, i + 1000).map((user_id) => ({ group_id: g.body.id, user_id }))).execute();

    const raw = async (method: 'GET' | 'PUT', body?: unknown) => {
      const res = await fetch(`${h.base}/Groups/${g.body.id}`, { method, headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/scim+json' }, body: body === undefined ? undefined : JSON.stringify(body) });
      const bytes = Buffer.from(await res.arrayBuffer());
      return { status: res.status, length: Number(res.headers.get('content-length')), bytes, text: bytes.toString('utf8') };
    };
    const got = await raw('GET');
    assert.equal(got.status, 200);
    assert.ok(got.text.length > 1024 * 1024, `over 1 MB: ${got.text.length} characters`);
    assert.equal(got.length, got.bytes.length, 'Content-Length is the number of bytes sent');
    assert.ok(got.bytes.length > got.text.length, 'some characters take more than one byte');
    const group = JSON.parse(got.text);
    assert.deepEqual(group.members.map((m: { value: string }) => m.value), ids);
    assert.equal(group.members[7].display, 'Zoë 日本 7');
    // HEAD: the same Content-Length, and no body.
    const head = await fetch(`${h.base}/Groups/${g.body.id}`, { method: 'HEAD', headers: { authorization: `Bearer ${h.token}` } });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), got.bytes.length);
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    // Okta's way: the whole list back with one member fewer; the answer is the group after it.
    const put = await raw('PUT', { schemas: [GROUP], id: g.body.id, displayName: 'In pieces', members: group.members.slice(1).map((m: { value: string }) => ({ value: m.value })) });
    assert.equal(put.status, 200, put.text.slice(0, 300));
    assert.equal(put.length, put.bytes.length);
    assert.deepEqual(JSON.parse(put.text).members.map((m: { value: string }) => m.value), ids.slice(1));

    await flushProvisioningLog(db);
    const logged = await provisioningLogDbOf(db).selectFrom('provisioning_log').select(['method', 'response_body']).where('resource_id', '=', g.body.id).where('method', 'in', ['GET', 'PUT']).execute();
    for (const [method, answer] of [['GET', got.text], ['PUT', put.text]] as const) {
      const row = logged.find((l) => l.method === method);
      assert.equal(row?.response_body, `${answer.slice(0, 8192)}… [${answer.length - 8192} more characters not kept]`, method);
    }
  });

  test('a list of groups with their members, read while members are added, shows each group with the members of the version it names', async () => {
    // The page's rows and their members are two statements. PostgreSQL reads them in one snapshot;
    // on SQLite no event-loop turn comes between them, so no write can commit in between (a group's
    // GET, which reads a large group in chunks with turns between them, checks the version instead).
    const users: string[] = [];
    for (let i = 0; i < 24; i++) {
      const u = await h.scim('POST', '/Users', oktaUser(`listed.member${i}@acme.com`));
      assert.equal(u.status, 201);
      users.push(u.body.id);
    }
    const groups: string[] = [];
    for (const name of ['Listed A', 'Listed B']) {
      const g = await h.scim('POST', '/Groups', { schemas: [GROUP], displayName: name });
      assert.equal(g.status, 201);
      groups.push(g.body.id);
    }
    const first = await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName sw "Listed "')}`);
    const base = new Map<string, number>(first.body.Resources.map((g: any) => [g.id, versionOf(g.meta.version)]));
    let adding = true;
    const reads: { id: string; version: number; values: string[] }[] = [];
    const readers = Array.from({ length: 3 }, async () => {
      while (adding) {
        const r = await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName sw "Listed "')}&sortBy=displayName`);
        assert.equal(r.status, 200);
        for (const g of r.body.Resources) reads.push({ id: g.id, version: versionOf(g.meta.version), values: (g.members ?? []).map((m: { value: string }) => m.value) });
      }
    });
    // Each group gets the users in turn, one PATCH a member, two PATCHes at a time (one per group).
    for (let i = 0; i < users.length / 2; i++) {
      const patched = await Promise.all(groups.map((gid, k) => h.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: users[2 * i + k] }] }] })));
      for (const p of patched) assert.equal(p.status, 204);
    }
    adding = false;
    await Promise.all(readers);
    assert.ok(reads.length >= 6);
    for (const r of reads) {
      const k = groups.indexOf(r.id);
      const n = r.version - base.get(r.id)!;
      assert.deepEqual(r.values, Array.from({ length: n }, (_, i) => users[2 * i + k]), `group ${k} read at version ${r.version}`);
    }
  });

  test('POST /.search takes the same parameters in a body', async () => {
    const r = await h.scim('POST', '/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName ew "@paging.test"', startIndex: 2, count: 2, attributes: ['userName'] });
    assert.equal(r.status, 200);
    assert.equal(r.body.totalResults, 7);
    assert.deepEqual(r.body.Resources.map((u: any) => u.id), ids.slice(1, 3));
    assert.deepEqual(Object.keys(r.body.Resources[0]).sort(), ['id', 'schemas', 'userName']);
  });

  test('discovery describes what is supported, also under /v2', async () => {
    const spc = await h.scim('GET', '/ServiceProviderConfig');
    assert.equal(spc.body.patch.supported, true);
    assert.equal(spc.body.bulk.supported, false);
    assert.equal(spc.body.etag.supported, true);
    assert.equal(spc.body.pagination.cursor, true);
    const rt = await h.scim('GET', '/ResourceTypes');
    assert.deepEqual(rt.body.Resources.map((r: any) => r.endpoint), ['/Users', '/Groups']);
    const schemas = await h.scim('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    assert.equal(schemas.body.name, 'User');
    // A member's display is the member's own name, never a client's (a PATCH of it is a 400 mutability).
    const group = await h.scim('GET', `/Schemas/${GROUP}`);
    const members = group.body.attributes.find((a: any) => a.name === 'members');
    assert.equal(members.subAttributes.find((a: any) => a.name === 'display').mutability, 'readOnly');
    const v2 = await fetch(`${h.base}/v2/Users?count=1`, { headers: { authorization: `Bearer ${h.token}` } });
    assert.equal(v2.status, 200);
  });
});

/** Sets a token's revoked_at on a connection of its own, as another process would (a second worker, a script). */
async function setRevokedElsewhere(tokenId: string, revokedAt: string | null): Promise<void> {
  const parsed = parseDatabaseUrl(h.t.databaseUrl);
  if (parsed.dialect === 'sqlite') {
    const conn = new SQLite(parsed.file!);
    conn.prepare('update scim_tokens set revoked_at = ? where id = ?').run(revokedAt, tokenId);
    conn.close();
  } else {
    const client = new pg.Client({ connectionString: parsed.connectionString });
    await client.connect();
    await client.query('update scim_tokens set revoked_at = $1 where id = $2', [revokedAt, tokenId]);
    await client.end();
  }
}

describe('access tokens', () => {
  test('create, list (never the token), refresh with a grace period, revoke and clear', async () => {
    const created = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'Okta' } });
    assert.equal(created.status, 201);
    const tok = created.body.token as string;
    assert.ok(tok.length >= 40);
    const ok = await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${tok}` });
    assert.equal(ok.status, 200);
    const list = await h.admin.json('/api/scim/tokens');
    assert.ok(!JSON.stringify(list.body).includes(tok), 'the token is shown once only');
    const row = list.body.items.find((i: any) => i.id === created.body.item.id);
    assert.ok(row.lastUsedAt, 'last use is recorded');
    const stored = await h.t.database.db.selectFrom('scim_tokens').select('token_hash').where('id', '=', row.id).executeTakeFirstOrThrow();
    assert.notEqual(stored.token_hash, tok);

    const refreshed = await h.admin.json('/api/scim/tokens/refresh', { method: 'POST', body: { graceHours: 2 } });
    assert.equal(refreshed.status, 201);
    assert.equal((await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${tok}` })).status, 200, 'old token works during the grace period');
    const after = (await h.admin.json('/api/scim/tokens')).body.items.find((i: any) => i.id === row.id);
    assert.equal(after.state, 'expiring');
    await h.t.database.db.updateTable('scim_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', row.id).execute();
    assert.equal((await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${tok}` })).status, 401, 'and stops after it');

    const fresh = refreshed.body.token as string;
    const del = await h.admin.json(`/api/scim/tokens/${refreshed.body.item.id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    assert.equal((await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${fresh}` })).status, 401);

    const cleared = await h.admin.json('/api/scim/tokens', { method: 'DELETE' });
    assert.equal(cleared.status, 200);
    assert.equal((await h.scim('GET', '/Users?count=1')).status, 401, 'clear revokes every token');
    // new token for the rest of the suite
    const again = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'again' } });
    h.token = again.body.token;
  });

  test('a grace period that is not a JSON number is a 400 and makes no token: "2", true and [2] are not hours', async () => {
    const count = async () => (await h.t.database.db.selectFrom('scim_tokens').select('id').execute()).length;
    const before = await count();
    for (const graceHours of ['2', true, [2], null]) {
      const res = await h.admin.json('/api/scim/tokens/refresh', { method: 'POST', body: { graceHours } });
      assert.equal(res.status, 400, `${JSON.stringify(graceHours)}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.error.fields?.graceHours);
    }
    assert.equal(await count(), before);
  });

  test('a token name that is not text is a 400 naming name and makes no token, on refresh as on create', async () => {
    const db = h.t.database.db;
    const rows = async () => db.selectFrom('scim_tokens').select(['id', 'name', 'expires_at', 'revoked_at']).orderBy('id').execute();
    const before = await rows();
    for (const path of ['/api/scim/tokens/refresh', '/api/scim/tokens']) {
      for (const name of [12, { text: 'Okta' }, ['Okta'], true, null]) {
        const res = await h.admin.json(path, { method: 'POST', body: path.endsWith('refresh') ? { graceHours: 1, name } : { name } });
        assert.equal(res.status, 400, `${path} ${JSON.stringify(name)}: ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error.code, 'invalid');
        assert.ok(res.body.error.fields?.name, `${path} ${JSON.stringify(name)}: ${JSON.stringify(res.body)}`);
      }
    }
    assert.deepEqual(await rows(), before, 'no token made, none expired');
    // Text is still a name; none, or an empty body, is the default one.
    const named = await h.admin.json('/api/scim/tokens/refresh', { method: 'POST', body: { graceHours: 1, name: 'Okta (rotated)' } });
    assert.equal(named.status, 201, JSON.stringify(named.body));
    assert.equal(named.body.item.name, 'Okta (rotated)');
    const plain = await h.admin.json('/api/scim/tokens', { method: 'POST', body: {} });
    assert.equal(plain.status, 201, JSON.stringify(plain.body));
    assert.equal(plain.body.item.name, 'SCIM access token');
    const bodiless = await h.admin.json('/api/scim/tokens', { method: 'POST' });
    assert.equal(bodiless.status, 201, JSON.stringify(bodiless.body));
    h.token = named.body.token;
  });

  test('a field the token calls do not take is a 400 naming it and makes no token: a mistyped gracehours does not fall back to 24 hours', async () => {
    const db = h.t.database.db;
    const rows = async () => db.selectFrom('scim_tokens').select(['id', 'name', 'expires_at', 'revoked_at']).orderBy('id').execute();
    const before = await rows();
    for (const [path, body, field] of [
      ['/api/scim/tokens/refresh', { gracehours: 0 }, 'gracehours'],
      ['/api/scim/tokens/refresh', { graceHours: 0, label: 'Okta' }, 'label'],
      ['/api/scim/tokens', { name: 'Okta', graceHours: 0 }, 'graceHours'],
    ] as const) {
      const res = await h.admin.json(path, { method: 'POST', body });
      assert.equal(res.status, 400, `${path} ${JSON.stringify(body)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid');
      assert.ok(res.body.error.fields?.[field], `${path} ${JSON.stringify(body)} names ${field}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual(await rows(), before, 'no token made, none expired');
  });

  test('a token name is trimmed, a blank one is the default, and one over 100 characters or with a control character is a 400 naming name that makes no token', async () => {
    const db = h.t.database.db;
    const rows = async () => db.selectFrom('scim_tokens').select(['id', 'name', 'expires_at', 'revoked_at']).orderBy('id').execute();
    const before = await rows();
    for (const path of ['/api/scim/tokens', '/api/scim/tokens/refresh']) {
      const res = await h.admin.json(path, { method: 'POST', body: { graceHours: path.endsWith('refresh') ? 1 : undefined, name: 'x'.repeat(101) } });
      assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid');
      assert.equal(res.body.error.fields?.name, 'Shorten it to 100 characters or fewer.', `${path}: ${JSON.stringify(res.body)}`);
    }
    assert.deepEqual(await rows(), before, 'no token made, none expired');
    const named = async (name: string) => (await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name } })).body.item.name;
    assert.equal(await named('  Okta production  '), 'Okta production');
    assert.equal(await named(' \t '), 'SCIM access token');
    assert.equal(await named(''), 'SCIM access token');
    assert.equal(await named('y'.repeat(100)), 'y'.repeat(100), '100 characters are still a name');
    for (const name of ['Okta\nforged line', 'Okta\tprod', 'Okta\u001b[2J', 'Okta\u2028prod']) {
      const res = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name } });
      assert.equal(res.status, 400, `${JSON.stringify(name)}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.fields?.name, 'Use one line of text, without tabs or control characters.');
    }
  });

  test('revoking one token by id ends it alone, writes an audit entry naming it, and an unknown id is a 404 in the API error format', async () => {
    const okta = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'Okta production' } });
    const script = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'Nightly script' } });
    const as = (token: string) => h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${token}` });
    assert.deepEqual([(await as(okta.body.token)).status, (await as(script.body.token)).status], [200, 200]);

    const revoked = await h.admin.json(`/api/scim/tokens/${script.body.item.id}`, { method: 'DELETE' });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual([revoked.body.item.name, revoked.body.item.state], ['Nightly script', 'revoked']);
    assert.equal((await as(script.body.token)).status, 401);
    assert.equal((await as(okta.body.token)).status, 200, 'the other token keeps working');
    const states = Object.fromEntries((await h.admin.json('/api/scim/tokens')).body.items.map((i: { id: string; state: string }) => [i.id, i.state]));
    assert.deepEqual([states[okta.body.item.id], states[script.body.item.id]], ['active', 'revoked']);

    const audit = await h.admin.json(`/api/audit?action=scim_token.revoke&targetId=${script.body.item.id}`);
    assert.equal(audit.status, 200, JSON.stringify(audit.body));
    assert.equal(audit.body.items.length, 1);
    assert.equal(audit.body.items[0].targetName, 'Nightly script');
    assert.match(audit.body.items[0].summary, /^revoked SCIM access token Nightly script \(scim_/);
    // Revoking it again changes nothing: the same revocation, no second entry.
    const again = await h.admin.json(`/api/scim/tokens/${script.body.item.id}`, { method: 'DELETE' });
    assert.deepEqual([again.status, again.body.item.revokedAt], [200, revoked.body.item.revokedAt]);
    assert.equal((await h.admin.json(`/api/audit?action=scim_token.revoke&targetId=${script.body.item.id}`)).body.items.length, 1);

    for (const id of [randomUUID(), 'not-a-token-id']) {
      const unknown = await h.admin.json(`/api/scim/tokens/${id}`, { method: 'DELETE' });
      assert.equal(unknown.status, 404, `${id}: ${JSON.stringify(unknown.body)}`);
      assert.equal(unknown.body.error.code, 'not_found');
      assert.match(unknown.body.error.message, /^No such SCIM access token \(GET \/api\/scim\/tokens and `ledgerline scim-token list` show their ids\)$/);
    }
    assert.equal((await as(okta.body.token)).status, 200);
  });

  test('Read Only on SAML Settings lists the SCIM access tokens but cannot get, refresh, revoke or clear one; No Permission cannot list them', async () => {
    const kept = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'kept' } });
    const reader = await createUserWithLevels(h.admin, { 'saml-settings': 'read' });
    const c = await signIn(h.t.baseUrl, reader.username, reader.password);
    const list = await c.json('/api/scim/tokens');
    assert.equal(list.status, 200);
    assert.ok(list.body.items.some((i: { id: string }) => i.id === kept.body.item.id));
    const rows = async () => h.t.database.db.selectFrom('scim_tokens').select(['id', 'name', 'expires_at', 'revoked_at']).orderBy('id').execute();
    const before = await rows();
    for (const [path, method, body] of [
      ['/api/scim/tokens', 'POST', { name: 'by a reader' }],
      ['/api/scim/tokens/refresh', 'POST', { graceHours: 0 }],
      [`/api/scim/tokens/${kept.body.item.id}`, 'DELETE', undefined],
      ['/api/scim/tokens', 'DELETE', undefined],
    ] as const) {
      const res = await c.json(path, { method, body });
      assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'forbidden');
    }
    assert.deepEqual(await rows(), before, 'no token made, expired or revoked');
    assert.equal((await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${kept.body.token}` })).status, 200);

    const other = await createUserWithLevels(h.admin, { 'provisioning-log': 'full' });
    const d = await signIn(h.t.baseUrl, other.username, other.password);
    assert.equal((await d.json('/api/scim/tokens')).status, 403);
  });

  test('two refreshes at the same moment leave exactly one token without an expiry, one of the two new ones', async () => {
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all([0, 1].map(() => h.admin.json('/api/scim/tokens/refresh', { method: 'POST', body: { graceHours: 1 } })));
      assert.deepEqual(answers.map((a) => a.status), [201, 201], `round ${round}`);
      const items: { id: string; state: string }[] = (await h.admin.json('/api/scim/tokens')).body.items;
      const unexpiring = items.filter((i) => i.state === 'active');
      assert.equal(unexpiring.length, 1, `round ${round}: one token without an expiry, found ${unexpiring.length}`);
      assert.ok(answers.some((a) => a.body.item.id === unexpiring[0].id), `round ${round}: it is one of the two just issued`);
      // Both new tokens work: the one issued first until its grace period ends.
      for (const a of answers) assert.equal((await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${a.body.token}` })).status, 200, `round ${round}`);
    }
  });

  test('two revocations of one token at the same moment both answer 200 and write one audit entry', async () => {
    for (let round = 0; round < 10; round++) {
      const created = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: `revoked twice ${round}` } });
      const answers = await Promise.all([0, 1].map(() => h.admin.json(`/api/scim/tokens/${created.body.item.id}`, { method: 'DELETE' })));
      assert.deepEqual(answers.map((a) => [a.status, a.body.item?.state]), [[200, 'revoked'], [200, 'revoked']], `round ${round}`);
      assert.equal(answers[0].body.item.revokedAt, answers[1].body.item.revokedAt, `round ${round}: both name the one revocation`);
      const audit = await h.t.database.db.selectFrom('audit_log').select('id').where('action', '=', 'scim_token.revoke').where('target_id', '=', created.body.item.id).execute();
      assert.equal(audit.length, 1, `round ${round}: audit entries`);
    }
  });

  test('a token revoked by another process (a second worker, a script on the database) is refused on the very next request, whatever it asks', async () => {
    const created = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: 'elsewhere' } });
    const tok = created.body.token as string;
    const elsewhere = (revokedAt: string | null) => setRevokedElsewhere(created.body.item.id, revokedAt);
    const as = (method: string, path: string, body?: unknown) => h.scim(method, path, body, { authorization: `Bearer ${tok}` });
    const user = await h.scim('POST', '/Users', oktaUser('revoked.elsewhere@acme.com'));
    const group = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Revoked Elsewhere' });
    // Each kind of request, each time with the token in use (and so known to this process) just before.
    const kinds: [string, () => Promise<{ status: number; body: any }>][] = [
      ['discovery', () => as('GET', '/ServiceProviderConfig')],
      ['GET by id', () => as('GET', `/Users/${user.body.id}`)],
      ['GET by id of nobody', () => as('GET', '/Users/0190d3c4-0000-7000-8000-000000000404')],
      ['userName eq', () => as('GET', `/Users?filter=${encodeURIComponent('userName eq "revoked.elsewhere@acme.com"')}`)],
      ['userName eq of nobody', () => as('GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@acme.com"')}`)],
      ['list', () => as('GET', '/Users?count=1')],
      ['create', () => as('POST', '/Users', oktaUser('never.created@acme.com'))],
      ['deactivate', () => as('PATCH', `/Users/${user.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] })],
      ['add member', () => as('PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: user.body.id }] }] })],
      ['delete', () => as('DELETE', `/Users/${user.body.id}`)],
      ['malformed body', () => as('POST', '/Users', '{"userName": ')],
      ['NUL in the URL', () => as('GET', '/Users/%00')],
    ];
    for (const [kind, send] of kinds) {
      await elsewhere(null);
      assert.equal((await as('GET', `/Users/${user.body.id}`)).status, 200, `${kind}: usable before`);
      await elsewhere(new Date().toISOString());
      const after = await send();
      assert.equal(after.status, 401, `${kind}: ${JSON.stringify(after.body)}`);
      assert.match(after.body.detail, /not valid \(revoked, expired or unknown\)/, kind);
    }
    // None of the refused writes changed anything.
    const now = await h.scim('GET', `/Users/${user.body.id}`);
    assert.equal(now.body.active, true);
    assert.equal(now.body.meta.version, user.body.meta.version);
    assert.deepEqual((await h.scim('GET', `/Groups/${group.body.id}`)).body.members ?? [], []);
    assert.equal((await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "never.created@acme.com"')}`)).body.totalResults, 0);
    await flushProvisioningLog(h.t.database.db);
    const rejected = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select('summary').where('status', '=', 401).where('summary', '=', 'rejected: invalid access token').execute();
    assert.ok(rejected.length >= kinds.length, `every refusal is in the provisioning log (${rejected.length})`);
  });

  test('reads and writes sent at once each get their own answer, and a token revoked elsewhere is refused for its own requests only', async () => {
    // On PostgreSQL, such reads arriving together are answered by one statement (src/db/coalesce.ts).
    const tag = randomBytes(3).toString('hex');
    const names = Array.from({ length: 12 }, (_, i) => `together${i}.${tag}@acme.com`);
    const users = await Promise.all(names.map((n) => h.scim('POST', '/Users', oktaUser(n))));
    for (const u of users) assert.equal(u.status, 201);
    const group = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: `Together ${tag}`, members: [{ value: users[3].body.id }] });
    assert.equal(group.status, 201);
    const doomed = await h.admin.json('/api/scim/tokens', { method: 'POST', body: { name: `doomed ${tag}` } });
    const asDoomed = { authorization: `Bearer ${doomed.body.token}` };
    assert.equal((await h.scim('GET', `/Users/${users[0].body.id}`, undefined, asDoomed)).status, 200, 'the doomed token works and is known to the server');
    await setRevokedElsewhere(doomed.body.item.id, new Date().toISOString());

    const eq = (userName: string) => `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`;
    const missing = '0190d3c4-0000-7000-8000-00000000dead';
    const deactivate = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: false }] };
    const [byId, byName, [none, nobody, created, deactivated, ...refused]] = await Promise.all([
      Promise.all(users.map((u) => h.scim('GET', `/Users/${u.body.id}`))),
      Promise.all(names.map((n) => h.scim('GET', eq(n.toUpperCase())))),
      Promise.all([
        h.scim('GET', `/Users/${missing}`),
        h.scim('GET', eq(`nobody.${tag}@acme.com`)),
        h.scim('POST', '/Users', oktaUser(`written.${tag}@acme.com`)),
        h.scim('PATCH', `/Users/${users[4].body.id}`, deactivate),
        h.scim('GET', `/Users/${users[1].body.id}`, undefined, asDoomed),
        h.scim('GET', eq(names[2]), undefined, asDoomed),
        h.scim('GET', `/Users/${missing}`, undefined, asDoomed),
        h.scim('POST', '/Users', oktaUser(`refused.${tag}@acme.com`), asDoomed),
        h.scim('PATCH', `/Users/${users[5].body.id}`, deactivate, asDoomed),
      ]),
    ]);
    users.forEach((u, i) => {
      assert.equal(byId[i].status, 200);
      assert.equal(byId[i].body.id, u.body.id);
      assert.equal(byId[i].body.userName, names[i]);
      assert.equal(byName[i].status, 200);
      assert.equal(byName[i].body.totalResults, 1);
      assert.equal(byName[i].body.Resources[0].id, u.body.id);
      const groups = i === 3 ? [group.body.id] : [];
      assert.deepEqual((byId[i].body.groups ?? []).map((g: { value: string }) => g.value), groups, `user ${i}'s groups by id`);
      assert.deepEqual((byName[i].body.Resources[0].groups ?? []).map((g: { value: string }) => g.value), groups, `user ${i}'s groups by userName`);
    });
    assert.equal(none.status, 404);
    assert.equal(none.body.schemas[0], ERROR);
    assert.equal(nobody.status, 200);
    assert.equal(nobody.body.totalResults, 0);
    assert.equal(created.status, 201);
    assert.equal(deactivated.status, 204);
    assert.equal((await h.scim('GET', `/Users/${users[4].body.id}`)).body.active, false);
    for (const r of refused) assert.equal(r.status, 401, JSON.stringify(r.body));
    assert.equal((await h.scim('GET', eq(`refused.${tag}@acme.com`))).body.totalResults, 0, 'the refused create stored nothing');
    assert.equal((await h.scim('GET', `/Users/${users[5].body.id}`)).body.active, true, 'the refused PATCH changed nothing');
  });

  test('the CLI prints a new token alone on its last line, lists and revokes', async () => {
    const cli = async (...argv: string[]) => {
      const { stdout } = await run(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...argv], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: h.t.databaseUrl, PUBLIC_URL: h.t.baseUrl },
      });
      return stdout;
    };
    const out = (await cli('scim-token', 'create', '--name', 'ci')).trimEnd().split('\n');
    const token = out[out.length - 1];
    assert.match(token, /^scim_[A-Za-z0-9_-]{40,}$/);
    assert.equal((await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${token}` })).status, 200);
    const items = JSON.parse(await cli('scim-token', 'list', '--json')).items as any[];
    const mine = items.find((i) => i.name === 'ci');
    assert.ok(mine && !JSON.stringify(items).includes(token));
    await cli('scim-token', 'revoke', mine.id);
    assert.equal((await h.scim('GET', '/Users?count=1', undefined, { authorization: `Bearer ${token}` })).status, 401);
  });
});

describe('provisioning log', () => {
  test('a password sent in a PATCH, with a path or without, is not kept: never returned, matched by a filter or logged', async () => {
    const u = await h.scim('POST', '/Users', oktaUser('pw.patched@acme.com'));
    assert.equal(u.status, 201);
    const at = `/Users/${u.body.id}`;
    const patches = [
      [{ op: 'replace', value: { password: 'PatchPw-1', displayName: 'Patched Pw' } }],
      [{ op: 'replace', path: 'password', value: 'PatchPw-2' }],
      [{ op: 'add', value: { 'urn:ietf:params:scim:schemas:core:2.0:User:password': 'PatchPw-3' } }],
      [{ op: 'Replace', path: 'urn:ietf:params:scim:schemas:core:2.0:User:password', value: 'PatchPw-4' }],
    ];
    for (const Operations of patches) {
      const r = await h.scim('PATCH', at, { schemas: [PATCH_OP], Operations });
      assert.ok(r.status === 200 || r.status === 204, `${r.status} ${JSON.stringify(r.body)}`);
      assert.ok(!JSON.stringify(r.body ?? null).includes('PatchPw'), JSON.stringify(r.body));
    }
    const got = await h.scim('GET', at);
    assert.equal(got.body.displayName, 'Patched Pw', 'the rest of the PATCH applied');
    assert.ok(!JSON.stringify(got.body).includes('PatchPw'), JSON.stringify(got.body));
    for (const filter of ['userName eq "pw.patched@acme.com" and password pr', 'userName eq "pw.patched@acme.com" and password sw "PatchPw"']) {
      const found = await h.scim('GET', `/Users?filter=${encodeURIComponent(filter)}`);
      assert.equal(found.status, 200, filter);
      assert.equal(found.body.totalResults, 0, filter);
    }
    // A body that is not JSON is logged as sent, but not when it mentions a password.
    const broken = await h.scim('PATCH', at, '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"password","value":"PatchPw-5"}');
    assert.equal(broken.status, 400);
    const escaped = await h.scim('POST', '/Users', '{"userName":"pw.broken@acme.com","password":"PatchPw\\"-6", broken');
    assert.equal(escaped.status, 400);
    await flushProvisioningLog(h.t.database.db);
    const rows = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select(['method', 'path', 'status', 'request_body', 'response_body']).execute();
    const mine = rows.filter((r) => r.path.includes(u.body.id));
    assert.equal(mine.filter((r) => r.method === 'PATCH').length, 5);
    for (const r of rows) assert.ok(!`${r.request_body} ${r.response_body}`.includes('PatchPw'), `${r.method} ${r.path}: ${r.request_body} ${r.response_body}`);
    const brokenRow = mine.find((r) => r.method === 'PATCH' && r.status === 400)!;
    assert.match(brokenRow.request_body!, /^\[not kept: \d+ characters that are not JSON and mention a password, secret or token\]$/);
  });

  test('every SCIM request is logged in words, with masked bodies, and can be filtered', async () => {
    const created = await h.scim('POST', '/Users', oktaUser('logged@acme.com'));
    assert.equal(created.status, 201);
    await h.scim('POST', '/Users', oktaUser('logged@acme.com'));
    await h.scim('GET', '/Users', undefined, { authorization: 'Bearer nope' });
    const all = await h.admin.json('/api/provisioning-log?q=logged@acme.com');
    assert.equal(all.status, 200);
    const ok = all.body.items.find((i: any) => i.status === 201);
    assert.equal(ok.summary, 'created user logged@acme.com');
    assert.equal(ok.client, 'Okta SCIM Client 1.0.0');
    assert.equal(ok.method, 'POST');
    assert.equal(ok.resourceType, 'User');
    assert.equal(ok.resourceId, created.body.id);
    assert.equal(ok.userName, 'logged@acme.com');
    assert.equal(typeof ok.durationMs, 'number');
    assert.ok(!ok.requestBody.includes('1mz050nq'), 'the password is masked');
    assert.ok(ok.requestBody.includes('********'));
    assert.ok(ok.responseBody.includes(created.body.id));
    // A large body keeps its first 8,192 characters and says how much was not kept.
    const big = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Logged big group', members: Array.from({ length: 300 }, (_, i) => ({ value: `no-such-user-${i}`, display: `Nobody ${i}` })) };
    const bigText = JSON.stringify(big, null, 1); // sent with whitespace: the count is of the body as sent
    const bigGroup = await h.scim('POST', '/Groups', bigText);
    assert.equal(bigGroup.status, 201);
    const bigRow = (await h.admin.json(`/api/provisioning-log?q=${encodeURIComponent('Logged big group')}`)).body.items.find((i: any) => i.method === 'POST');
    const keptRequest = JSON.stringify(big).slice(0, 8192);
    assert.equal(bigRow.requestBody, `${keptRequest}… [${bigText.length - 8192} more characters not kept]`);
    assert.ok(bigText.length > JSON.stringify(big).length + 1000);
    assert.equal(bigRow.responseBody, JSON.stringify(bigGroup.body), 'the answer, under the limit, is kept whole');
    const unknown = await h.admin.json('/api/provisioning-log?status=abc');
    assert.equal(unknown.status, 400, 'an unknown status filter is refused, not ignored');
    assert.match(unknown.body.error.fields.status, /success, failure/);
    const failed = await h.admin.json('/api/provisioning-log?status=failure&resource=User&q=logged');
    assert.ok(failed.body.items.length >= 1);
    assert.ok(failed.body.items.every((i: any) => i.status >= 400));
    assert.match(failed.body.items[0].error, /uniqueness/);
    const unauth = await h.admin.json('/api/provisioning-log?status=401');
    assert.ok(unauth.body.items.some((i: any) => /access token/.test(i.summary)));
    const page1 = await h.admin.json('/api/provisioning-log?limit=2');
    assert.equal(page1.body.items.length, 2);
    assert.ok(page1.body.nextCursor);
    const page2 = await h.admin.json(`/api/provisioning-log?limit=2&cursor=${page1.body.nextCursor}`);
    assert.ok(page2.body.items[0].id < page1.body.items[1].id);
  });

  test('a filter given twice is a 400 naming the parameter, not a 500', async () => {
    for (const query of ['q=1&q=2', 'status=1&status=2', 'resource=User&resource=Group', 'limit=1&limit=2', 'limit=0', 'limit=many']) {
      const res = await h.admin.json(`/api/provisioning-log?${query}`);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid');
      assert.ok(res.body.error.fields?.[query.split('=')[0]], JSON.stringify(res.body));
    }
    assert.equal((await h.admin.json('/api/provisioning-log?q=logged&status=failure&resource=User&limit=5')).status, 200);
  });

  test('a forged cursor is a 400 naming it, not a 500', async () => {
    const cursor = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url');
    const forged = [[{ toString: 1 }, { valueOf: 2 }], [{ toString: 1 }], [{}], [[]], [true], ['7'], [1.5], [7, 8], [], [null], [2 ** 53], ['\u0000']].map(cursor);
    for (const c of [...forged, '%25%25%25', 'bm90IGpzb24']) {
      for (const q of ['', '&q=logged', '&status=failure']) {
        const res: { status: number; body: any } = await h.admin.json(`/api/provisioning-log?cursor=${c}${q}`);
        assert.equal(res.status, 400, `${c}${q}: ${JSON.stringify(res.body)}`);
        assert.ok(res.body.error.fields?.cursor);
        // The check is decodeCursor's, as on every other list (the log's own check after it could not trigger).
        assert.match(res.body.error.message, /cursor is not valid/, `${c}${q}`);
      }
    }
  });

  test('the failures are read through their own index: a few among thousands of successes come back newest first, page by page', async () => {
    const { provisioningLogQuery } = await import('../../src/scim/provisioning-log.service.ts');
    const db = provisioningLogDbOf(h.t.database.db);
    const row = (i: number, status: number) => ({ at: new Date(Date.UTC(2001, 0, 1, 0, 0, i)).toISOString(), client: 'index test', method: 'GET', path: `/index-test/${i}`, status, duration_ms: 1, summary: `index test ${i}`, resource_type: 'User', resource_id: null, user_name: null, error: status >= 400 ? 'failed' : null, request_body: null, response_body: null });
    const rows = Array.from({ length: 3000 }, (_, i) => row(i, i === 100 ? 409 : i === 1500 ? 500 : i === 2900 ? 404 : 200));
    for (let i = 0; i < rows.length; i += 500) await db.insertInto('provisioning_log').values(rows.slice(i, i + 500)).execute();
    const paths = async (url: string) => {
      const r = await h.admin.json(url);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return { paths: r.body.items.map((i: any) => i.path), next: r.body.nextCursor as string | null };
    };
    // 'error' is what the screen's Result filter sends.
    const first = await paths('/api/provisioning-log?status=error&q=index test&limit=2');
    assert.deepEqual(first.paths, ['/index-test/2900', '/index-test/1500']);
    const second = await paths(`/api/provisioning-log?status=error&q=index test&limit=2&cursor=${first.next}`);
    assert.deepEqual(second.paths, ['/index-test/100']);
    assert.equal(second.next, null);
    assert.deepEqual((await paths('/api/provisioning-log?status=4xx&q=INDEX Test')).paths, ['/index-test/2900', '/index-test/100']);
    assert.deepEqual((await paths('/api/provisioning-log?status=409&q=index test')).paths, ['/index-test/100']);
    assert.deepEqual((await paths('/api/provisioning-log?status=5xx&q=index test')).paths, ['/index-test/1500']);
    assert.equal((await paths('/api/provisioning-log?status=success&q=index test&limit=200')).paths.length, 200);

    // The plan: the partial index of failures, not a walk through every row.
    for (const status of ['failure', '409', '4xx', '5xx']) {
      const compiled = provisioningLogQuery(db, { status }, 50).compile();
      const plan =
        h.t.database.dialect === 'sqlite'
          ? JSON.stringify((await db.executeQuery({ ...compiled, sql: `explain query plan ${compiled.sql}` } as any)).rows)
          : JSON.stringify((await db.executeQuery({ ...compiled, sql: `explain ${compiled.sql}` } as any)).rows);
      assert.match(plan, /provisioning_log_failures/, `status=${status}: ${plan}`);
    }
    await db.deleteFrom('provisioning_log').where('client', '=', 'index test').execute();
  });

  test('a text search reads the log in windows: it answers within its time budget with how far back it got, and goes on from there', async () => {
    const { searchLimits } = await import('../../src/scim/provisioning-log.service.ts');
    const db = provisioningLogDbOf(h.t.database.db);
    const row = (i: number, summary: string) => ({ at: new Date(Date.UTC(2002, 0, 1, 0, 0, i)).toISOString(), client: 'window test', method: 'GET', path: `/window-test/${i}`, status: 200, duration_ms: 1, summary, resource_type: 'User', resource_id: null, user_name: null, error: null, request_body: null, response_body: null });
    const rows = Array.from({ length: 1000 }, (_, i) => row(i, [50, 420, 430, 990].includes(i) ? `window needle ${i}` : `window hay ${i}`));
    await flushProvisioningLog(h.t.database.db); // no queued rows land after these
    await db.insertInto('provisioning_log').values(rows).execute();
    const saved = { ...searchLimits };
    try {
      // Everything within budget: one answer with all four, no progress line.
      const all = await h.admin.json('/api/provisioning-log?q=window NEEDLE');
      assert.deepEqual(all.body.items.map((i: any) => i.path), ['/window-test/990', '/window-test/430', '/window-test/420', '/window-test/50']);
      assert.equal(all.body.nextCursor, null);
      assert.equal(all.body.searchedTo, undefined);

      // No budget: one window of 200 ids an answer.
      Object.assign(searchLimits, { windowRows: 200, budgetMs: 0 });
      const seen: string[] = [];
      const reached: string[] = [];
      let cursor = '';
      for (let calls = 0; calls < 50; calls++) {
        const r = await h.admin.json(`/api/provisioning-log?q=window needle&limit=2${cursor ? `&cursor=${cursor}` : ''}`);
        assert.equal(r.status, 200);
        seen.push(...r.body.items.map((i: any) => i.path));
        if (r.body.searchedTo) reached.push(r.body.searchedTo);
        if (!r.body.nextCursor) break;
        cursor = r.body.nextCursor;
      }
      assert.deepEqual(seen, ['/window-test/990', '/window-test/430', '/window-test/420', '/window-test/50'], 'every match once, newest first');
      // Windows go back by id. Past this test's rows (times of 2002) they reach the rows the tests before
      // it logged: older by id, newer by time; how many windows that takes depends on those tests.
      const inRows = reached.filter((at) => at <= rows[rows.length - 1].at);
      assert.ok(inRows.length >= 3, `the answers said how far back they got (${inRows.length})`);
      assert.deepEqual([...inRows].sort().reverse(), inRows, 'each answer got further back');
      assert.deepEqual(reached.slice(0, inRows.length), inRows, "the test's rows were searched first");
      assert.ok(reached.every((at) => at >= rows[0].at), 'only times of the log');
      // The first answer read only the newest window: it found the newest needle and said where it stopped.
      const first = await h.admin.json('/api/provisioning-log?q=window needle');
      assert.deepEqual(first.body.items.map((i: any) => i.path), ['/window-test/990']);
      assert.ok(first.body.searchedTo > rows[420].at && first.body.nextCursor, JSON.stringify(first.body));
      // A failure filter reads its index, not windows.
      const failures = await h.admin.json('/api/provisioning-log?q=window needle&status=failure');
      assert.deepEqual([failures.body.items, failures.body.nextCursor, failures.body.searchedTo], [[], null, undefined]);
      assert.equal((await h.admin.json('/api/provisioning-log?q=window&cursor=WzEsMl0x')).status, 400, 'a cursor that is not one is refused');
    } finally {
      Object.assign(searchLimits, saved);
      await db.deleteFrom('provisioning_log').where('client', '=', 'window test').execute();
    }
  });

  test('U+0000 is refused at the edge with a 400 on both databases, and a log row holding one (or a lone surrogate) does not sink its batch', async () => {
    const before = (await h.scim('GET', '/Users?count=0')).body.totalResults;
    const g = await h.scim('POST', '/Groups', { displayName: 'Nul Group' });
    const refused = [
      await h.scim('POST', '/Users', oktaUser('nul@acme.com', { externalId: 'ext\u0000id' })),
      await h.scim('POST', '/Users', { ...oktaUser('nulkey@acme.com'), 'bad\u0000key': 1 }),
      await h.scim('PATCH', `/Groups/${g.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: 'x\u0000y' }] }] }),
      await h.scim('GET', '/Users/abc%00def'),
      await h.scim('GET', '/Users?sortBy=user%00Name'),
    ];
    for (const r of refused) {
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.match(r.body.detail, /NUL character/);
    }
    assert.deepEqual(refused.map((r) => r.body.scimType), ['invalidValue', 'invalidValue', 'invalidValue', 'invalidSyntax', 'invalidSyntax']);
    // The escape as text (a backslash, then u0000) is an ordinary value.
    const text = await h.scim('POST', '/Users', oktaUser('backslash@acme.com', { externalId: 'a\\u0000b' }));
    assert.equal(text.status, 201, JSON.stringify(text.body));
    assert.equal(text.body.externalId, 'a\\u0000b');
    await h.scim('DELETE', `/Users/${text.body.id}`);
    assert.equal((await h.scim('GET', '/Users?count=0')).body.totalResults, before);
    // The edge's refusals only (a NUL in a filter's string is refused in other words, by the filter's parser).
    const logged = await h.admin.json(`/api/provisioning-log?q=${encodeURIComponent('SCIM values may not contain the NUL')}&limit=50`);
    // (Not counting the large PUT refused for its NUL earlier in this file.)
    assert.equal(logged.body.items.filter((i: { method: string }) => i.method !== 'PUT').length, refused.length);

    // A row with U+0000 in its text (PostgreSQL refuses such text) is stored with ␀ in its place,
    // and the rows flushed with it are kept.
    const { logWriter } = await import('../../src/scim/provisioning-log.service.ts');
    const writer = logWriter(h.t.database.db, () => 30);
    const row = (summary: string) => ({ at: new Date().toISOString(), client: 'test', method: 'GET', path: '/nul-test', status: 400, duration_ms: 1, summary, resource_type: null, resource_id: null, user_name: null, error: null, request_body: null, response_body: null });
    writer.add(row('before'));
    writer.add(row('with \u0000 inside'));
    // A lone UTF-16 surrogate (a JSON body can carry one escaped) is stored as U+FFFD.
    writer.add(row('lone \ud800 surrogate'));
    writer.add(row('after'));
    await writer.drain();
    const rows = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select('summary').where('path', '=', '/nul-test').orderBy('id').execute();
    assert.deepEqual(rows.map((r) => r.summary), ['before', 'with \u2400 inside', 'lone \ufffd surrogate', 'after']);
  });

  test('while another process holds the log, a list answers without waiting for it, says the newest requests are still being stored, and shows them once stored', async () => {
    const { listLimits } = await import('../../src/scim/provisioning-log.service.ts');
    const marker = `still-writing-${randomUUID().slice(0, 8)}@example.com`;
    await flushProvisioningLog(h.t.database.db);
    const letGo = await holdProvisioningLog(h.t.databaseUrl);
    let held = true;
    const release = async () => {
      if (held) await letGo();
      held = false;
    };
    const saved = { ...listLimits };
    listLimits.flushWaitMs = 300;
    try {
      const lookup = await h.scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${marker}"`)}`);
      assert.equal(lookup.status, 200);
      // Answered while the hold lasts (it is let go only after): the page did not wait for the writer.
      const during = await h.admin.json(`/api/provisioning-log?q=${encodeURIComponent(marker)}`);
      assert.equal(during.status, 200);
      assert.equal(during.body.stillWriting, true, JSON.stringify(during.body));
      assert.deepEqual(during.body.items, []);
      await release();
      // The writer may still be waking from its wait for the lock: the usual 2 s for this page.
      Object.assign(listLimits, saved);
      const after = await h.admin.json(`/api/provisioning-log?q=${encodeURIComponent(marker)}`);
      assert.equal(after.body.stillWriting, undefined, JSON.stringify(after.body));
      assert.deepEqual(after.body.items.map((i: any) => [i.method, i.status]), [['GET', 200]], 'the request was stored once the log was free');
    } finally {
      Object.assign(listLimits, saved);
      await release();
    }
  });

  test('the log writer prunes past retention as it writes, stores rows within moments without a flush, reports a batch it cannot store without losing the next one, and writes its last batch when closed', async () => {
    // A second handle on the same database gets a writer of its own (on SQLite, its own writer thread),
    // which prunes with its first batch.
    const { logWriter } = await import('../../src/scim/provisioning-log.service.ts');
    const database = openDatabase(h.t.databaseUrl, { poolSize: 2 });
    const log = provisioningLogDbOf(database.db);
    const writer = logWriter(database.db, () => 30);
    const row = (path: string, at = new Date().toISOString()) => ({ at, client: 'writer test', method: 'GET', path, status: 200, duration_ms: 1, summary: path, resource_type: null, resource_id: null, user_name: null, error: null, request_body: null, response_body: null });
    const paths = async () => (await log.selectFrom('provisioning_log').select('path').where('client', '=', 'writer test').orderBy('id').execute()).map((r) => r.path);
    const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      await log.insertInto('provisioning_log').values(row('/expired', '2001-06-01T00:00:00.000Z')).execute();
      writer.add(row('/first'));
      await writer.drain();
      assert.deepEqual(await paths(), ['/first'], 'the expired row went with the first batch');
      // Without a flush, a row is stored within a fraction of a second (its batch's timers).
      writer.add(row('/unflushed'));
      for (let waited = 0; !(await paths()).includes('/unflushed'); waited += 20) {
        assert.ok(waited < 5_000, 'stored within 5 s without a flush');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.deepEqual(await paths(), ['/first', '/unflushed']);

      // A batch the database refuses (here a row that breaks a NOT NULL column) is reported and
      // dropped; provisioning goes on, and the next batch is stored.
      writer.add({ ...row('/refused'), summary: null as unknown as string });
      await writer.drain();
      await new Promise((r) => setImmediate(r));
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /provisioning log: 1 request\(s\) from \S+ to \S+ were not logged: .*(NOT NULL|not-null)/i);
      writer.add(row('/after'));
      // Closing writes what is queued before the writer stops.
      await writer.close();
      assert.deepEqual(await paths(), ['/first', '/unflushed', '/after']);
      // A writer closed and used again starts over.
      writer.add(row('/reopened'));
      await writer.close();
      assert.deepEqual(await paths(), ['/first', '/unflushed', '/after', '/reopened']);
    } finally {
      process.off('warning', onWarning);
      await log.deleteFrom('provisioning_log').where('client', '=', 'writer test').execute();
      await database.close();
    }
  });

  test('a prune past retention deletes a chunk a commit, the oldest first: rows logged meanwhile are stored without waiting for it, and every expired row goes', async () => {
    const { logWriter, pruneLimits } = await import('../../src/scim/provisioning-log.service.ts');
    // A second handle on the database has a writer of its own, which prunes with its first batch.
    const database = openDatabase(h.t.databaseUrl, { poolSize: 2 });
    const log = provisioningLogDbOf(database.db);
    const row = (path: string, at: string) => ({ at, client: 'prune test', method: 'GET', path, status: 200, duration_ms: 1, summary: path, resource_type: null, resource_id: null, user_name: null, error: null, request_body: null, response_body: null });
    const expired = Array.from({ length: 1050 }, (_, i) => row(`/expired/${i}`, new Date(Date.UTC(2001, 0, 1) + i * 1000).toISOString()));
    const left = async () => (await log.selectFrom('provisioning_log').select('path').where('client', '=', 'prune test').where('path', 'like', '/expired/%').orderBy('at').execute()).map((r) => r.path);
    const saved = { ...pruneLimits };
    Object.assign(pruneLimits, { chunkRows: 100, pauseMs: 200 });
    try {
      for (let i = 0; i < expired.length; i += 150) await log.insertInto('provisioning_log').values(expired.slice(i, i + 150)).execute();
      const writer = logWriter(database.db, () => 30);
      writer.add(row('/during', new Date().toISOString()));
      await writer.drain();
      const stored = await log.selectFrom('provisioning_log').select('path').where('client', '=', 'prune test').where('path', '=', '/during').execute();
      assert.equal(stored.length, 1, 'the new row was stored with the first chunk');
      // The first commit (or the first few, on a slow day) took the oldest rows; most are still there.
      const after = await left();
      assert.ok(after.length > 0 && after.length <= 950, `${after.length} expired rows left`);
      assert.deepEqual(after, expired.slice(expired.length - after.length).map((r) => r.path), 'the oldest went first');
      for (let waited = 0; (await left()).length; waited += 100) {
        assert.ok(waited < 30_000, 'every expired row pruned within 30 s');
        await new Promise((r) => setTimeout(r, 100));
      }
      await writer.close();
    } finally {
      Object.assign(pruneLimits, saved);
      await log.deleteFrom('provisioning_log').where('client', '=', 'prune test').execute();
      await database.close();
    }
  });

  // SQLite only: PostgreSQL's log is written from the server's own thread.
  if (!usePostgres()) {
    test("SQLite: when the log's writer thread cannot start, its rows are reported, provisioning is not held up, and the next rows start a new thread", async () => {
      const { logWriter } = await import('../../src/scim/provisioning-log.service.ts');
      const scratch = await freshDatabaseUrl();
      const database = openDatabase(scratch.url);
      const warnings: string[] = [];
      const onWarning = (w: Error) => warnings.push(w.message);
      process.on('warning', onWarning);
      try {
        await migrate(database);
        const writer = logWriter(database.db, () => 30);
        const row = (p: string) => ({ at: new Date().toISOString(), client: 'thread test', method: 'GET', path: p, status: 200, duration_ms: 1, summary: p, resource_type: null, resource_id: null, user_name: null, error: null, request_body: null, response_body: null });
        writer.add(row('/stored'));
        await writer.close();
        assert.equal((await provisioningLogDbOf(database.db).selectFrom('provisioning_log').select('path').execute()).length, 1);
        // The log's folder is gone (a volume unmounted, say): a new thread cannot open the file.
        await scratch.drop();
        writer.add(row('/lost-1'));
        writer.add(row('/lost-2'));
        await writer.drain();
        await new Promise((r) => setImmediate(r));
        assert.equal(warnings.length, 1, warnings.join('\n'));
        assert.match(warnings[0], /provisioning log: 2 request\(s\) from \S+ to \S+ were not logged: .*(unable to open|cannot open)/i);
        // The folder is back: the next rows start a thread that stores them.
        fs.mkdirSync(path.dirname(parseDatabaseUrl(scratch.url).file!), { recursive: true });
        writer.add(row('/later'));
        await writer.close();
        assert.equal(warnings.length, 1, warnings.join('\n'));
        const fresh = new SQLite(provisioningLogFile(parseDatabaseUrl(scratch.url).file!), { readonly: true });
        try {
          assert.deepEqual(fresh.prepare('select path from provisioning_log').all(), [{ path: '/later' }]);
        } finally {
          fresh.close();
        }
      } finally {
        process.off('warning', onWarning);
        await database.close();
        await scratch.drop();
      }
    });
  }

  test('while another connection holds the log, its writer keeps the waiting rows up to a limit and reports the requests past it, stores the rest once the log is free, and a shutdown during a hold ends and says what it could not store', async () => {
    const { logWriter, waitLimits } = await import('../../src/scim/provisioning-log.service.ts');
    // A second handle on the database has a writer of its own.
    const database = openDatabase(h.t.databaseUrl, { poolSize: 2 });
    const log = provisioningLogDbOf(database.db);
    const body = 'x'.repeat(1_000);
    const row = (p: string) => ({ at: new Date().toISOString(), client: 'held log test', method: 'GET', path: p, status: 200, duration_ms: 1, summary: p, resource_type: null, resource_id: null, user_name: null, error: null, request_body: null, response_body: body });
    const paths = async () => (await log.selectFrom('provisioning_log').select('path').where('client', '=', 'held log test').orderBy('id').execute()).map((r) => r.path);
    // What an admin reads in the audit log about the requests missing from the provisioning log.
    const { before } = await database.db.selectFrom('audit_log').select((e) => e.fn.coalesce(e.fn.max('id'), e.lit(0)).as('before')).executeTakeFirstOrThrow();
    const noticed = async () =>
      (await database.db.selectFrom('audit_log').select(['actor_name', 'source', 'summary', 'details']).where('action', '=', 'provisioning_log.not_logged').where('id', '>', Number(before)).orderBy('id').execute()).map((e) => ({ ...e, details: JSON.parse(e.details ?? 'null') }));
    const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    const saved = { ...waitLimits };
    // Room for four of these rows (about 1,120 characters each) waiting for the log.
    Object.assign(waitLimits, { lockWaitMs: 100, maxQueuedChars: 4_500, shutdownWaitMs: 500 });
    process.on('warning', onWarning);
    const writer = logWriter(database.db, () => 30);
    let letGo = await holdProvisioningLog(h.t.databaseUrl);
    try {
      writer.add(row('/held/1'));
      const flushed = writer.flush();
      // The first batch waits lockWaitMs for the lock, lets go and is kept to be tried again; the rows
      // added meanwhile wait with it, four at most.
      await new Promise((r) => setTimeout(r, 400));
      const more = [2, 3, 4, 5, 6].map((i) => row(`/held/${i}`));
      for (const r of more) writer.add(r);
      await letGo();
      await flushed;
      await writer.drain();
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(await paths(), ['/held/1', '/held/2', '/held/3', '/held/4'], 'the rows within the limit were stored once the log was free');
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], /^provisioning log: 2 request\(s\) from \S+ to \S+ were not logged: another connection held the log/);
      const reason = 'another connection held the log, and the rows waiting for it had reached 4,500 characters';
      assert.deepEqual(await noticed(), [
        {
          actor_name: 'provisioning log',
          source: 'system',
          summary: `2 SCIM requests from ${more[3].at} to ${more[4].at} are missing from the provisioning log: ${reason}`,
          details: { requests: 2, from: more[3].at, to: more[4].at, reason },
        },
      ]);

      // Held again, a close (at shutdown) ends after its wait, says what it could not store, and lets
      // the database close too.
      letGo = await holdProvisioningLog(h.t.databaseUrl);
      const last = row('/at-shutdown');
      writer.add(last);
      const closed = await Promise.race([writer.close().then(() => true), new Promise((r) => setTimeout(() => r(false), 15_000))]);
      assert.equal(closed, true, 'the close ended while the log was held');
      await new Promise((r) => setImmediate(r));
      assert.equal(warnings.length, 2, warnings.join('\n'));
      assert.match(warnings[1], /1 request\(s\) from \S+ to \S+ were not logged: the log was still held by another connection at shutdown/);
      assert.deepEqual((await noticed()).slice(1).map((e) => e.summary), [`1 SCIM request from ${last.at} to ${last.at} is missing from the provisioning log: the log was still held by another connection at shutdown`]);
      await letGo();
      // The writer used again after the hold stores its rows.
      writer.add(row('/after'));
      await writer.close();
      assert.deepEqual(await paths(), ['/held/1', '/held/2', '/held/3', '/held/4', '/after']);
    } finally {
      await letGo().catch(() => undefined);
      process.off('warning', onWarning);
      Object.assign(waitLimits, saved);
      await log.deleteFrom('provisioning_log').where('client', '=', 'held log test').execute();
      await database.close();
    }
  });
});
