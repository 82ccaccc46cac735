// Migration 016 stores an e-mail sent without `primary` as is_primary null, where it was 0 like
// `primary: false`. Rows written before it are corrected from each user's stored attributes: a 0
// whose e-mail has no `primary` becomes null, a 0 from `primary: false` and every 1 stay, and the
// e-mail filters then answer by the new rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { migrate } from '../../src/db/database.ts';
import { handleScim } from '../../src/scim/scim.engine.ts';
import { atMigration } from '../helpers/migrations.ts';

test('migration 016 turns the stored 0 of an e-mail sent without primary into null, and keeps every other row', async () => {
  await atMigration('014_log_failures_index', async (database) => {
    const { db } = database;
    const now = new Date().toISOString();
    type Email = { value: string; type?: unknown; primary?: unknown };
    const people: { name: string; emails: Email[]; rows: [string, string | null, number][] }[] = [
      // Rows as the code before 016 wrote them: lower-cased value, lower-cased type when a string, 1 only for primary: true.
      { name: 'ana', emails: [{ value: 'Ana@Acme.test', type: 'Work', primary: true }, { value: 'ana@home.test', type: 'home' }],
        rows: [['ana@acme.test', 'work', 1], ['ana@home.test', 'home', 0]] },
      { name: 'ben', emails: [{ value: 'ben@acme.test', type: 'work', primary: false }], rows: [['ben@acme.test', 'work', 0]] },
      // A non-ASCII address (SQLite's lower() would not fold Ä) and a type that is not a string.
      { name: 'cleo', emails: [{ value: 'CLEÄ@Acme.test', type: 7 }], rows: [['cleä@acme.test', null, 0]] },
      // The same value and type twice: the first occurrence decides (it has no primary).
      { name: 'dan', emails: [{ value: 'dan@acme.test', type: 'work' }, { value: 'DAN@acme.test', type: 'WORK', primary: false }], rows: [['dan@acme.test', 'work', 0]] },
      // Two types of one address: one says false, one says nothing.
      { name: 'eve', emails: [{ value: 'eve@acme.test', type: 'work', primary: false }, { value: 'eve@acme.test' }],
        rows: [['eve@acme.test', 'work', 0], ['eve@acme.test', null, 0]] },
    ];
    const user = (id: string, name: string, attributes: unknown) => ({
      id, user_name: `${name}@acme.test`, user_name_norm: `${name}@acme.test`, display_name: null, given_name: null, family_name: null, email: null, email_norm: null,
      external_id: null, role_id: null, status: 'active' as const, source: 'idp' as const, time_zone: 'UTC', locale: 'en-US', password_hash: null,
      scim_attributes: JSON.stringify(attributes), version: 1, created_at: now, updated_at: now,
    });
    const ids: Record<string, string> = {};
    for (const p of people) {
      const id = randomUUID();
      ids[p.name] = id;
      await db.insertInto('users').values(user(id, p.name, { emails: p.emails })).execute();
      for (const [value_norm, type_norm, is_primary] of p.rows) await db.insertInto('scim_user_emails').values({ user_id: id, value_norm, type_norm, is_primary }).execute();
    }

    // Past the migration's first page of 1,000 users: 1,200 without e-mails, then one whose e-mail says nothing.
    await db.insertInto('users').values(Array.from({ length: 1200 }, (_, i) => user(`f-${String(i).padStart(4, '0')}`, `f-${i}`, {}))).execute();
    await db.insertInto('users').values(user('z-last', 'z-last', { emails: [{ value: 'last@acme.test' }] })).execute();
    await db.insertInto('scim_user_emails').values({ user_id: 'z-last', value_norm: 'last@acme.test', type_norm: null, is_primary: 0 }).execute();

    await migrate(database);
    const last = await db.selectFrom('scim_user_emails').select('is_primary').where('user_id', '=', 'z-last').execute();
    assert.deepEqual(last.map((r) => r.is_primary), [null]);
    const rows = async (name: string) => (await db.selectFrom('scim_user_emails').select(['value_norm', 'type_norm', 'is_primary']).where('user_id', '=', ids[name])
      .orderBy('value_norm').orderBy('type_norm').execute()).map((r) => [r.value_norm, r.type_norm, r.is_primary === null ? null : Number(r.is_primary)]);
    assert.deepEqual(await rows('ana'), [['ana@acme.test', 'work', 1], ['ana@home.test', 'home', null]]);
    assert.deepEqual(await rows('ben'), [['ben@acme.test', 'work', 0]]);
    assert.deepEqual(await rows('cleo'), [['cleä@acme.test', null, null]]);
    assert.deepEqual(await rows('dan'), [['dan@acme.test', 'work', null]]);
    const eve = await rows('eve');
    assert.equal(eve.length, 2);
    assert.deepEqual(eve.find((r) => r[1] === 'work'), ['eve@acme.test', 'work', 0]);
    assert.deepEqual(eve.find((r) => r[1] === null), ['eve@acme.test', null, null]);

    // The filters read the corrected rows; the rebuilt table's indexes and cascade still hold.
    const actor = { id: null, name: 'test', source: 'scim' as const };
    const find = async (filter: string) => {
      const r = await handleScim({ db, baseUrl: 'http://x/scim', actor }, { method: 'GET', path: '/Users', query: { filter, count: '100' } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      return ((r.body as any).Resources as any[]).map((u) => u.userName).sort();
    };
    assert.deepEqual(await find('emails.primary pr'), ['ana@acme.test', 'ben@acme.test', 'eve@acme.test']);
    assert.deepEqual(await find('emails[primary eq false]'), ['ben@acme.test', 'eve@acme.test']);
    assert.deepEqual(await find('emails.value eq "cleä@acme.test"'), ['cleo@acme.test']);
    await db.deleteFrom('users').where('id', '=', ids.ana).execute();
    assert.equal((await rows('ana')).length, 0);
    assert.equal(Number((await db.selectFrom('scim_user_emails').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n), 6);
  });
});
