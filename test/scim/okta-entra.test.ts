// The exact request sequences Okta (custom AIW app: GET then PUT for every change) and Entra ID
// (PATCH with capitalised ops, "False" strings, remove-with-value-array, excludedAttributes=members)
// send, from ../shared/reference/okta-entra-scim-saml.md §2–§3, and what each does to a person.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession } from '../../src/identity/sessions.service.ts';
import { effectivePermissionsOf } from '../../src/identity/permissions.repo.ts';
import { provisioningLogDbOf } from '../../src/db/database.ts';
import { flushProvisioningLog } from '../../src/scim/provisioning-log.service.ts';
import { PATCH_OP, oktaUser, startScim, type ScimHarness } from './scim-client.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(() => h.t.close());

async function sessionFor(userId: string): Promise<string> {
  const value = await createSession(h.t.database.db, h.t.config, { userId, method: 'saml' });
  return `ll_session=${value}`;
}
const me = (cookie: string) => fetch(`${h.t.baseUrl}/api/me`, { headers: { cookie } }).then((r) => r.status);

describe('Okta custom app (PUT for every update)', () => {
  test('test connection, look-up, create, read, profile PUT, deactivate and reactivate a person', async () => {
    const conn = await h.scim('GET', '/Users?startIndex=1&count=2');
    assert.equal(conn.status, 200);
    assert.ok(conn.body.schemas.includes('urn:ietf:params:scim:api:messages:2.0:ListResponse'));
    for (const k of ['totalResults', 'itemsPerPage', 'startIndex']) assert.equal(typeof conn.body[k], 'number');

    const lookup = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "test.user@okta.local"')}&startIndex=1&count=100`);
    assert.equal(lookup.status, 200);
    assert.equal(lookup.body.totalResults, 0);
    assert.deepEqual(lookup.body.Resources, []);

    const created = await h.scim('POST', '/Users', oktaUser('test.user@okta.local'));
    assert.equal(created.status, 201);
    assert.equal(created.body.userName, 'test.user@okta.local');
    assert.equal(created.body.meta.resourceType, 'User');
    assert.equal(created.body.password, undefined, 'the password is never returned');
    assert.match(created.headers.get('content-type') ?? '', /application\/scim\+json/);
    const id = created.body.id as string;

    const row = await h.t.database.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.source, 'idp');
    assert.equal(row.status, 'active');
    assert.equal(row.password_hash, null);
    assert.ok(!String(row.scim_attributes).includes('1mz050nq'), 'the password Okta sends is not stored');
    const perms = await effectivePermissionsOf(h.t.database.db, id);
    assert.equal(perms!.permissions.accounts, 'read', 'a new person gets the SCIM Default role group (read-only)');
    assert.equal(perms!.permissions.users, 'read');

    const again = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "TEST.USER@okta.local"')}`);
    assert.equal(again.body.totalResults, 1, 'userName matches case-insensitively');

    // Profile update: GET then PUT of the whole object, echoing id, meta and groups.
    const got = await h.scim('GET', `/Users/${id}`);
    assert.equal(got.status, 200);
    const put = await h.scim('PUT', `/Users/${id}`, { ...got.body, name: { givenName: 'Another', middleName: 'Excited', familyName: 'User' } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.name, { givenName: 'Another', middleName: 'Excited', familyName: 'User' });
    assert.notEqual(put.body.meta.version, got.body.meta.version);

    // Deactivate: GET then PUT with active false ends every session at once.
    const cookie = await sessionFor(id);
    assert.equal(await me(cookie), 200);
    const before = await h.scim('GET', `/Users/${id}`);
    const off = await h.scim('PUT', `/Users/${id}`, { ...before.body, active: false });
    assert.equal(off.status, 200);
    assert.equal(off.body.active, false);
    assert.equal(await me(cookie), 401);
    const left = await h.t.database.db.selectFrom('sessions').select('id_hash').where('user_id', '=', id).execute();
    assert.equal(left.length, 0);
    const disabled = await h.t.database.db.selectFrom('users').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(disabled.status, 'disabled');

    // Inactive people stay readable and filterable.
    const inactive = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "test.user@okta.local"')}`);
    assert.equal(inactive.body.Resources[0].active, false);

    const on = await h.scim('PUT', `/Users/${id}`, { ...off.body, active: true });
    assert.equal(on.body.active, true);
    const back = await h.t.database.db.selectFrom('users').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(back.status, 'active');
  });

  test('each PUT is in the audit log in words, and a PUT to a userName already taken is a 409 that changes nothing', async () => {
    const a = await h.scim('POST', '/Users', oktaUser('audit.a@okta.local'));
    assert.equal((await h.scim('POST', '/Users', oktaUser('audit.b@okta.local'))).status, 201);
    const id = a.body.id as string;
    const cookie = await sessionFor(id);
    const off = await h.scim('PUT', `/Users/${id}`, { ...a.body, active: false });
    assert.equal(off.status, 200);
    assert.equal(await me(cookie), 401);
    const on = await h.scim('PUT', `/Users/${id}`, { ...off.body, active: true });
    const renamed = await h.scim('PUT', `/Users/${id}`, { ...on.body, userName: 'audit.a2@okta.local' });
    assert.equal(renamed.body.userName, 'audit.a2@okta.local');
    const audit = () => h.t.database.db.selectFrom('audit_log').select(['action', 'summary']).where('target_id', '=', id).orderBy('at').orderBy('id').execute();
    assert.deepEqual((await audit()).map((e) => [e.action, e.summary]), [
      ['user.create', 'created user audit.a@okta.local'],
      ['user.deactivate', 'deactivated user audit.a@okta.local and ended 1 session'],
      ['user.reactivate', 'reactivated user audit.a@okta.local'],
      ['user.update', 'renamed user audit.a@okta.local to audit.a2@okta.local'],
    ]);

    const taken = await h.scim('PUT', `/Users/${id}`, { ...renamed.body, userName: 'AUDIT.B@okta.local', active: false });
    assert.equal(taken.status, 409);
    assert.equal(taken.body.scimType, 'uniqueness');
    const now = await h.scim('GET', `/Users/${id}`);
    assert.equal(now.body.userName, 'audit.a2@okta.local');
    assert.equal(now.body.active, true);
    assert.equal(now.body.meta.version, renamed.body.meta.version);
    assert.equal((await audit()).length, 4);
  });

  test('each update names the attributes it changed, or says nothing changed, in the audit log and the provisioning log', async () => {
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const created = await h.scim('POST', '/Users', oktaUser('words@okta.local', { [ENT]: { department: 'Finance' } }));
    const id = created.body.id as string;
    const put = (body: Record<string, unknown>) => h.scim('PUT', `/Users/${id}`, body);
    const same = await put(created.body);
    assert.equal(same.status, 200);
    // Okta's re-sent profile changes nothing: no write, the same version and lastModified.
    assert.equal(same.body.meta.version, created.body.meta.version);
    assert.equal(same.body.meta.lastModified, created.body.meta.lastModified);
    const changedProfile = await put({ ...same.body, title: 'Controller', name: { givenName: 'Test', familyName: 'Other' } });
    const entra = await h.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: `${ENT}:department`, value: 'Sales' },
        { op: 'Add', path: `${ENT}:manager`, value: created.body.id },
      ],
    });
    assert.equal(entra.status, 204);
    const now = (await h.scim('GET', `/Users/${id}`)).body;
    await put({ ...now, active: false, title: 'Former controller', userName: 'words2@okta.local' });
    const expected = [
      'created user words@okta.local',
      'replaced user words@okta.local (nothing changed)',
      'replaced user words@okta.local: name, title',
      'updated user words@okta.local: department, manager',
      'deactivated user words2@okta.local; renamed user words@okta.local to words2@okta.local; changed title',
    ];
    const audit = await h.t.database.db.selectFrom('audit_log').select('summary').where('target_id', '=', id).orderBy('at').orderBy('id').execute();
    assert.deepEqual(audit.map((a) => a.summary), expected.filter((e) => !e.endsWith('(nothing changed)')), 'the audit log records changes');
    assert.equal(changedProfile.status, 200);
    await flushProvisioningLog(h.t.database.db);
    const log = await provisioningLogDbOf(h.t.database.db).selectFrom('provisioning_log').select('summary').where('resource_id', '=', id).where('method', '!=', 'GET').orderBy('id').execute();
    assert.deepEqual(log.map((l) => l.summary), expected);
  });

  test("Okta's en_US locale and IANA time zone become the person's display preferences when first sent or changed; unknown values and re-sent ones leave them alone", async () => {
    const created = await h.scim('POST', '/Users', oktaUser('locale.user@okta.local', { locale: 'en_US', timezone: 'America/Los_Angeles' }));
    assert.equal(created.status, 201);
    assert.equal(created.body.locale, 'en_US', 'the SCIM resource keeps the value as sent');
    const id = created.body.id as string;
    const prefs = async () => {
      const r = await h.admin.json(`/api/users/${id}`);
      assert.equal(r.status, 200);
      return { locale: r.body.locale, timeZone: r.body.timeZone };
    };
    assert.deepEqual(await prefs(), { locale: 'en-US', timeZone: 'America/Los_Angeles' });
    // The signed-in person's own preferences (what the UI formats dates with) say the same.
    const me = await fetch(`${h.t.baseUrl}/api/me`, { headers: { cookie: await sessionFor(id) } }).then((r) => r.json());
    assert.equal(me.user.locale, 'en-US');

    const got = await h.scim('GET', `/Users/${id}`);
    const put = await h.scim('PUT', `/Users/${id}`, { ...got.body, locale: 'fr_CA', timezone: 'Europe/Paris' });
    assert.equal(put.status, 200);
    assert.deepEqual(await prefs(), { locale: 'fr-CA', timeZone: 'Europe/Paris' });
    // A choice made in Ledgerline stays while the IdP re-sends the values it sent before (Okta's PUT
    // of the whole profile, here for a new title).
    const chosen = await h.admin.json(`/api/users/${id}`, { method: 'PATCH', body: { locale: 'de-DE', timeZone: 'Asia/Tokyo' } });
    assert.equal(chosen.status, 200, JSON.stringify(chosen.body));
    const again = await h.scim('PUT', `/Users/${id}`, { ...put.body, title: 'Clerk' });
    assert.equal(again.status, 200);
    assert.equal(again.body.title, 'Clerk');
    assert.deepEqual(await prefs(), { locale: 'de-DE', timeZone: 'Asia/Tokyo' });
    const junk = await h.scim('PUT', `/Users/${id}`, { ...again.body, locale: 'not a locale!', timezone: 'Mars/Olympus_Mons' });
    assert.equal(junk.status, 200);
    assert.equal(junk.body.timezone, 'Mars/Olympus_Mons');
    assert.deepEqual(await prefs(), { locale: 'de-DE', timeZone: 'Asia/Tokyo' });
    // New values from the IdP replace the choice.
    assert.equal((await h.scim('PUT', `/Users/${id}`, { ...junk.body, locale: 'en_GB', timezone: 'Europe/London' })).status, 200);
    assert.deepEqual(await prefs(), { locale: 'en-GB', timeZone: 'Europe/London' });
    const fresh = await h.scim('POST', '/Users', oktaUser('junk.locale@okta.local', { locale: '???', timezone: 'Nowhere/Else' }));
    assert.equal(fresh.status, 201);
    const r = await h.admin.json(`/api/users/${fresh.body.id}`);
    assert.deepEqual({ locale: r.body.locale, timeZone: r.body.timeZone }, { locale: 'en-US', timeZone: 'UTC' });
  });

  test('push a group, PUT its full member list, rename it with PUT, then delete it', async () => {
    const a = (await h.scim('POST', '/Users', oktaUser('okta.a@acme.com'))).body.id;
    const b = (await h.scim('POST', '/Users', oktaUser('okta.b@acme.com'))).body.id;
    const c = (await h.scim('POST', '/Users', oktaUser('okta.c@acme.com'))).body.id;
    const look = await h.scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "Okta Finance"')}`);
    assert.equal(look.body.totalResults, 0);
    const g = await h.scim('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName: 'Okta Finance', members: [] });
    assert.equal(g.status, 201);
    assert.deepEqual(g.body.members, []);
    const gid = g.body.id as string;

    const role = await h.t.database.db.selectFrom('roles').selectAll().where('pushed_group_id', '=', gid).executeTakeFirstOrThrow();
    const rg = await h.t.database.db.selectFrom('role_groups').selectAll().where('pushed_group_id', '=', gid).executeTakeFirstOrThrow();
    assert.equal(role.name, 'Okta Finance');
    assert.equal(rg.name, 'Okta Finance');
    const link = await h.t.database.db.selectFrom('role_role_groups').selectAll().where('role_id', '=', role.id).execute();
    assert.deepEqual(link.map((l) => l.role_group_id), [rg.id]);

    const cur = await h.scim('GET', `/Groups/${gid}`);
    const put = await h.scim('PUT', `/Groups/${gid}`, { ...cur.body, members: [{ value: a, display: 'a' }, { value: b, display: 'b' }] });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body.members.map((m: any) => m.value).sort(), [a, b].sort());

    const cur2 = await h.scim('GET', `/Groups/${gid}`);
    const put2 = await h.scim('PUT', `/Groups/${gid}`, { ...cur2.body, displayName: 'Okta Finance EU', members: [{ value: b }, { value: c }] });
    assert.equal(put2.status, 200);
    assert.deepEqual(put2.body.members.map((m: any) => m.value).sort(), [b, c].sort());
    const renamed = await h.t.database.db.selectFrom('roles').select('name').where('pushed_group_id', '=', gid).executeTakeFirstOrThrow();
    assert.equal(renamed.name, 'Okta Finance EU');
    const renamedRg = await h.t.database.db.selectFrom('role_groups').select('name').where('pushed_group_id', '=', gid).executeTakeFirstOrThrow();
    assert.equal(renamedRg.name, 'Okta Finance EU');

    const del = await h.scim('DELETE', `/Groups/${gid}`);
    assert.equal(del.status, 204);
    assert.equal((await h.scim('GET', `/Groups/${gid}`)).status, 404);
    assert.equal((await h.t.database.db.selectFrom('roles').select('id').where('id', '=', role.id).execute()).length, 0);
    assert.equal((await h.t.database.db.selectFrom('role_groups').select('id').where('id', '=', rg.id).execute()).length, 0);
    assert.equal((await h.scim('GET', `/Users/${b}`)).status, 200, 'members stay users');
  });
});

describe('Entra ID (PATCH with its quirks)', () => {
  const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
  test('create with the enterprise extension, query by externalId, PATCH with "False" and Replace, then hard delete', async () => {
    const body = {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', ENT],
      externalId: '0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef',
      userName: 'Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1',
      active: true,
      emails: [{ primary: true, type: 'work', value: 'Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com' }],
      meta: { resourceType: 'User' },
      name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
      roles: [],
      [ENT]: { department: 'Finance', employeeNumber: '7' },
    };
    const created = await h.scim('POST', '/Users', body, { 'user-agent': 'Azure AD SCIM' });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body[ENT], { department: 'Finance', employeeNumber: '7' });
    assert.ok(created.body.schemas.includes(ENT));
    const id = created.body.id as string;

    const byExt = await h.scim('GET', `/Users?filter=${encodeURIComponent('externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"')}`);
    assert.equal(byExt.body.totalResults, 1);
    const byMail = await h.scim('GET', `/Users?filter=${encodeURIComponent('emails[type eq "work"].value eq "test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com"')}`);
    assert.equal(byMail.body.totalResults, 1);

    const cookie = await sessionFor(id);
    const upd = await h.scim('PATCH', `/Users/${id}`, {
      schemas: [PATCH_OP],
      Operations: [
        { op: 'Replace', path: 'emails[type eq "work"].value', value: 'new@testuser.com' },
        { op: 'Replace', path: 'name.familyName', value: 'Updated' },
        { op: 'Add', path: `${ENT}:costCenter`, value: 'CC-1' },
      ],
    });
    assert.equal(upd.status, 204);
    const got = await h.scim('GET', `/Users/${id}`);
    assert.equal(got.body.emails[0].value, 'new@testuser.com');
    assert.equal(got.body.name.familyName, 'Updated');
    assert.equal(got.body[ENT].costCenter, 'CC-1');
    const findByMail = async (value: string) =>
      (await h.scim('GET', `/Users?filter=${encodeURIComponent(`emails[type eq "work"].value eq "${value}"`)}`)).body.totalResults;
    assert.equal(await findByMail('new@testuser.com'), 1);
    assert.equal(await findByMail('test_user_fd0ea19b-0777-472c-9f96-4f70d2226f2e@testuser.com'), 0);

    const off = await h.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
    assert.equal(off.status, 204);
    assert.equal((await h.scim('GET', `/Users/${id}`)).body.active, false);
    assert.equal(await me(cookie), 401, 'deactivation by PATCH ends sessions too');
    assert.equal(await findByMail('new@testuser.com'), 1, 'an update that leaves the e-mails alone keeps them searchable');

    const flagged = await h.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', value: { active: true, 'name.givenName': 'G2', [`${ENT}:employeeNumber`]: '8' } }] });
    assert.equal(flagged.status, 204);
    const now = (await h.scim('GET', `/Users/${id}`)).body;
    assert.equal(now.active, true);
    assert.equal(now.name.givenName, 'G2');
    assert.equal(now[ENT].employeeNumber, '8');

    assert.equal((await h.scim('DELETE', `/Users/${id}`)).status, 204);
    assert.equal((await h.scim('GET', `/Users/${id}`)).status, 404);
    const audit = await h.t.database.db.selectFrom('audit_log').select('summary').where('target_id', '=', id).execute();
    assert.ok(audit.some((a) => a.summary.startsWith('deleted user')), 'the audit trail survives the delete');
  });

  test("a custom extension's attributes (urn:…:extension:acme:2.0:User) are created, replaced, added, removed and read back as Entra sends them", async () => {
    const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
    const created = await h.scim('POST', '/Users', { ...oktaUser('entra.custom@acme.com'), schemas: [USER, ENT, ACME], [ENT]: { department: 'Finance' }, [ACME]: { costCode: 'A1' } }, { 'user-agent': 'Azure AD SCIM' });
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.schemas, [USER, ENT, ACME]);
    assert.deepEqual(created.body[ACME], { costCode: 'A1' });
    const id = created.body.id as string;
    const patch = (...Operations: unknown[]) => h.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations }, { 'user-agent': 'Azure AD SCIM' });
    const read = async () => (await h.scim('GET', `/Users/${id}`)).body;

    assert.equal((await patch({ op: 'Replace', path: `${ACME}:costCode`, value: 'B2' }, { op: 'Add', path: `${ACME}:newAttr`, value: 'v' })).status, 204);
    let got = await read();
    assert.deepEqual(got[ACME], { costCode: 'B2', newAttr: 'v' });
    assert.deepEqual(got.schemas, [USER, ENT, ACME]);
    assert.deepEqual(got[ENT], { department: 'Finance' });

    // With ?aadOptscim062020: one replace without a path, keys as URN paths or the nested form.
    assert.equal((await patch({ op: 'replace', value: { [`${ACME}:costCode`]: 'C3' } })).status, 204);
    assert.equal((await read())[ACME].costCode, 'C3');
    assert.equal((await patch({ op: 'replace', value: { [ACME]: { costcode: 'C4' } } })).status, 204);
    assert.deepEqual((await read())[ACME], { costCode: 'C4', newAttr: 'v' });

    // Picked by attributes / excludedAttributes, by attribute or whole.
    const picked = await h.scim('GET', `/Users/${id}?attributes=${ACME}:costCode`);
    assert.deepEqual(picked.body[ACME], { costCode: 'C4' });
    assert.equal(picked.body.userName, undefined);
    assert.deepEqual((await h.scim('GET', `/Users/${id}?attributes=userName,${ACME}`)).body[ACME], { costCode: 'C4', newAttr: 'v' });
    assert.deepEqual((await h.scim('GET', `/Users/${id}?excludedAttributes=${ACME}:newAttr`)).body[ACME], { costCode: 'C4' });
    assert.equal((await h.scim('GET', `/Users/${id}?excludedAttributes=${ACME}`)).body[ACME], undefined);

    assert.equal((await patch({ op: 'Remove', path: `${ACME}:newAttr` })).status, 204);
    assert.deepEqual((await read())[ACME], { costCode: 'C4' });
    assert.equal((await patch({ op: 'Remove', path: ACME })).status, 204);
    got = await read();
    assert.equal(got[ACME], undefined);
    assert.deepEqual(got.schemas, [USER, ENT]);
    assert.deepEqual(got[ENT], { department: 'Finance' });
  });

  test("a manager as Entra sends it (the manager's id as a bare string) is set, read back, replaced and removed", async () => {
    const boss = (await h.scim('POST', '/Users', oktaUser('entra.boss@acme.com'))).body.id as string;
    const boss2 = (await h.scim('POST', '/Users', oktaUser('entra.boss2@acme.com'))).body.id as string;
    const id = (await h.scim('POST', '/Users', { ...oktaUser('entra.report@acme.com'), [ENT]: { department: 'Finance' } })).body.id as string;
    const patch = (op: string, value?: unknown) =>
      h.scim('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op, path: `${ENT}:manager`, ...(value === undefined ? {} : { value }) }] }, { 'user-agent': 'Azure AD SCIM' });
    const manager = async () => (await h.scim('GET', `/Users/${id}`)).body[ENT];

    assert.equal((await patch('Add', boss)).status, 204);
    assert.deepEqual(await manager(), { department: 'Finance', manager: { value: boss } });
    const byManager = await h.scim('GET', `/Users?filter=${encodeURIComponent(`${ENT}:manager.value eq "${boss}"`)}`);
    assert.deepEqual(byManager.body.Resources.map((r: any) => r.id), [id]);

    assert.equal((await patch('Replace', boss2)).status, 204);
    assert.deepEqual((await manager()).manager, { value: boss2 });
    // A remove naming a manager the person no longer has leaves the current one.
    assert.equal((await patch('Remove', [{ value: boss }])).status, 204);
    assert.deepEqual((await manager()).manager, { value: boss2 });
    assert.equal((await patch('Remove', [{ value: boss2 }])).status, 204);
    assert.deepEqual(await manager(), { department: 'Finance' });

    // The RFC's form, an object, keeps working, and a PUT may carry the bare id too.
    assert.equal((await patch('Add', { value: boss })).status, 204);
    assert.deepEqual((await manager()).manager, { value: boss });
    const put = await h.scim('PUT', `/Users/${id}`, { ...oktaUser('entra.report@acme.com'), [ENT]: { department: 'Finance', manager: boss2 } });
    assert.equal(put.status, 200);
    assert.deepEqual(put.body[ENT].manager, { value: boss2 });
    // A manager that is neither an id nor an object is still refused, naming the attribute.
    const bad = await patch('Add', true);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.scimType, 'invalidValue');
    assert.match(bad.body.detail, /manager/);
  });

  test('groups: create with externalId, read with excludedAttributes=members, Add and Remove members', async () => {
    const u1 = (await h.scim('POST', '/Users', oktaUser('entra.1@acme.com'))).body.id;
    const u2 = (await h.scim('POST', '/Users', oktaUser('entra.2@acme.com'))).body.id;
    const g = await h.scim('POST', '/Groups', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group', 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'Entra Sales',
      meta: { resourceType: 'Group' },
    });
    assert.equal(g.status, 201);
    const gid = g.body.id;

    const add = await h.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ $ref: null, value: u1 }, { $ref: null, value: u2 }] }] });
    assert.equal(add.status, 204);

    const lean = await h.scim('GET', `/Groups/${gid}?excludedAttributes=members`);
    assert.equal(lean.status, 200);
    assert.equal(lean.body.members, undefined);
    assert.equal(lean.body.displayName, 'Entra Sales');
    const listed = await h.scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent('displayName eq "Entra Sales"')}`);
    assert.equal(listed.body.totalResults, 1);
    assert.equal(listed.body.Resources[0].members, undefined);

    const rm = await h.scim('PATCH', `/Groups/${gid}`, { schemas: [PATCH_OP], Operations: [{ op: 'Remove', path: 'members', value: [{ value: u1 }] }] });
    assert.equal(rm.status, 204);
    const full = await h.scim('GET', `/Groups/${gid}`);
    assert.deepEqual(full.body.members.map((m: any) => m.value), [u2]);
    const u2groups = (await h.scim('GET', `/Users/${u2}`)).body.groups;
    assert.deepEqual(u2groups.map((x: any) => x.value), [gid]);
    // The user's groups, with their names, on a GET by id and on the look-up by userName; none is [].
    assert.deepEqual(u2groups.map((x: any) => [x.display, x.type]), [['Entra Sales', 'direct']]);
    const looked = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "entra.2@acme.com"')}`);
    assert.deepEqual(looked.body.Resources[0].groups.map((x: any) => [x.value, x.display]), [[gid, 'Entra Sales']]);
    assert.deepEqual((await h.scim('GET', `/Users/${u1}`)).body.groups, []);
    assert.equal((await h.scim('GET', `/Users/${u1}?excludedAttributes=groups`)).body.groups, undefined);
  });
});
