// Migration 017 takes the passwords that SCIM PATCHes left in users' stored attributes out of them
// (with a new version), and masks the provisioning log's bodies as they are masked now: a PATCH's
// `value` for `path: "password"`, and a body that is not JSON and mentions a password. Rows with
// nothing to hide stay as they were.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { migrate, provisioningLogDbOf } from '../../src/db/database.ts';
import { handleScim } from '../../src/scim/scim.engine.ts';
import { stringifyResponse } from '../../src/scim/json-text.ts';
import { atMigration } from '../helpers/migrations.ts';

test('migration 017 drops stored SCIM passwords and masks them in the provisioning log, leaving the rest', async () => {
  await atMigration('014_log_failures_index', async (database) => {
    const { db } = database;
    // Before 015, the log is in the database's own file on SQLite too; 015 then moves these rows.
    const now = new Date().toISOString();
    const user = (name: string, scim_attributes: string) => ({
      id: randomUUID(), user_name: `${name}@acme.test`, user_name_norm: `${name}@acme.test`, display_name: null, given_name: null, family_name: null, email: null, email_norm: null,
      external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null,
      scim_attributes, version: 3, created_at: now, updated_at: now,
    });
    const kept = user('kept', JSON.stringify({ title: 'password "reset" desk' }));
    const patched = user('patched', JSON.stringify({ displayName: 'Pat', password: 'Stored-Pw-1', title: 'x' }));
    const broken = user('broken', '{"password":"Stored-Pw-2", "cut');
    // Past the first page of 1,000.
    const many = Array.from({ length: 1100 }, (_, i) => user(`m${i}`, JSON.stringify({ password: `Stored-Pw-m${i}` })));
    await db.insertInto('users').values([kept, patched, broken]).execute();
    for (let i = 0; i < many.length; i += 200) await db.insertInto('users').values(many.slice(i, i + 200)).execute();

    const row = (method: string, request_body: string | null, response_body: string | null) => ({
      at: now, client: 'Okta', method, path: '/ResourceServer/api/SCIM/Users/x', status: 200, duration_ms: 1, summary: 's',
      resource_type: 'User', resource_id: null, user_name: null, error: null, request_body, response_body,
    });
    const patchBody = JSON.stringify({ schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'password', value: 'Logged-Pw-1' }] });
    const okta = JSON.stringify({ userName: 'o@acme.test', password: '********' });
    const logged = [
      row('PATCH', patchBody, JSON.stringify({ id: 'x', password: 'Logged-Pw-2' })),
      row('POST', '{"password":"Logged\\"-Pw-3", broken', null),
      row('POST', okta, '{"id":"y"}'),
      row('GET', null, JSON.stringify({ title: 'no secret here' })),
    ];
    await db.insertInto('provisioning_log' as any).values(logged).execute();

    await migrate(database);
    const stored = async (id: string) => db.selectFrom('users').select(['scim_attributes', 'version']).where('id', '=', id).executeTakeFirstOrThrow();
    assert.deepEqual(await stored(kept.id), { scim_attributes: kept.scim_attributes, version: 3 });
    assert.deepEqual(await stored(patched.id), { scim_attributes: JSON.stringify({ displayName: 'Pat', title: 'x' }), version: 4 });
    assert.deepEqual(await stored(broken.id), { scim_attributes: broken.scim_attributes, version: 3 }, 'text that is not JSON is read as no attributes and left');
    const left = await db.selectFrom('users').select('id').where('scim_attributes', 'like', '%Stored-Pw-m%').execute();
    assert.equal(left.length, 0);

    const log = await provisioningLogDbOf(db).selectFrom('provisioning_log').select(['method', 'request_body', 'response_body']).orderBy('id').execute();
    assert.equal(log.length, 4);
    assert.ok(!JSON.stringify(log).includes('Logged'), JSON.stringify(log));
    assert.equal(log[0].request_body, patchBody.replace('"Logged-Pw-1"', '"********"'));
    assert.equal(log[0].response_body, JSON.stringify({ id: 'x', password: '********' }));
    assert.match(log[1].request_body!, /^\[not kept: \d+ characters that are not JSON and mention a password, secret or token\]$/);
    assert.deepEqual(log.slice(2), [{ method: 'POST', request_body: okta, response_body: '{"id":"y"}' }, { method: 'GET', request_body: null, response_body: JSON.stringify({ title: 'no secret here' }) }]);

    // What a GET returns after it.
    const actor = { id: null, name: 'test', source: 'scim' as const };
    const got = await handleScim({ db, baseUrl: 'http://x/scim', actor }, { method: 'GET', path: `/Users/${patched.id}`, query: {} });
    assert.equal(got.status, 200);
    const answer = JSON.parse(stringifyResponse(got.body));
    assert.equal(answer.title, 'x');
    assert.equal(answer.password, undefined);
    assert.equal(answer.meta.version, 'W/"4"');
  });
});
