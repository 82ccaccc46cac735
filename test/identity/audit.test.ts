// Operations › Audit Log: newest first, filters, cursor paging, and who did what from where.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createLocalAdmin, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';

let t: TestApp;
let admin: Client;
let adminName: string;
const tag = randomBytes(4).toString('hex');

before(async () => {
  t = await startTestApp();
  const a = await createLocalAdmin(t.database);
  adminName = a.username;
  admin = await signIn(t.baseUrl, a.username, a.password);
  for (let i = 0; i < 5; i++) {
    const r = await admin.json('/api/role-groups', { method: 'POST', body: { name: `audit-${tag}-${i}`, levels: { accounts: 'read' } } });
    assert.equal(r.status, 201);
  }
});
after(() => t.close());

test('entries come newest first and page through every entry exactly once', async () => {
  const all = await admin.json('/api/audit?limit=200');
  const ats = all.body.items.map((i: { at: string }) => i.at);
  assert.deepEqual(ats, [...ats].sort().reverse());
  const ids: number[] = [];
  let cursor: string | null = null;
  do {
    const res: { status: number; body: { items: { id: number }[]; nextCursor: string | null } } = await admin.json(`/api/audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.equal(res.status, 200);
    ids.push(...res.body.items.map((i) => i.id));
    cursor = res.body.nextCursor;
  } while (cursor);
  assert.deepEqual(ids, all.body.items.map((i: { id: number }) => i.id));
});

test('an entry records time, actor, source, action, target and a readable summary', async () => {
  const res = await admin.json(`/api/audit?q=audit-${tag}-3`);
  assert.equal(res.status, 200);
  assert.equal(res.body.items.length, 1);
  const e = res.body.items[0];
  assert.equal(e.action, 'role_group.create');
  assert.equal(e.actorName, adminName);
  assert.equal(e.source, 'api');
  assert.equal(e.targetType, 'role_group');
  assert.equal(e.targetName, `audit-${tag}-3`);
  assert.match(e.summary, new RegExp(`created role group audit-${tag}-3 \\(Accounts: Read Only\\)`));
  assert.ok(!Number.isNaN(Date.parse(e.at)));
});

test('requests from the UI are recorded with source ui', async () => {
  const res = await admin.fetch('/api/role-groups', { method: 'POST', body: { name: `ui-${tag}` }, headers: { 'x-ledgerline-client': 'ui' } });
  assert.equal(res.status, 201);
  const entries = await admin.json(`/api/audit?source=ui&q=ui-${tag}`);
  assert.equal(entries.body.items.length, 1);
  assert.equal((await admin.json(`/api/audit?source=api&q=ui-${tag}`)).body.items.length, 0);
});

test('filters by action prefix, target and free text (case-insensitive)', async () => {
  const creates = await admin.json('/api/audit?action=role_group.create&limit=200');
  assert.ok(creates.body.items.length >= 5);
  assert.ok(creates.body.items.every((i: { action: string }) => i.action === 'role_group.create'));
  const prefix = await admin.json('/api/audit?action=auth.');
  assert.ok(prefix.body.items.length >= 1);
  assert.ok(prefix.body.items.every((i: { action: string }) => i.action.startsWith('auth.')));
  const text = await admin.json(`/api/audit?q=AUDIT-${tag.toUpperCase()}`);
  assert.equal(text.body.items.length, 5);
  const target = await admin.json(`/api/audit?targetType=role_group&targetId=${text.body.items[0].targetId}`);
  assert.equal(target.body.items.length, 1);
});

test('a bad cursor or limit answers 400 naming the field', async () => {
  const cursor = await admin.json('/api/audit?cursor=%%%');
  assert.equal(cursor.status, 400);
  assert.ok('cursor' in cursor.body.error.fields);
  const limit = await admin.json('/api/audit?limit=201');
  assert.equal(limit.status, 400);
  assert.ok('limit' in limit.body.error.fields);
});

test('a page after a cursor is read from the time index on from the cursor, and entries of the same time are each listed once', async () => {
  const { auditPageQuery } = await import('../../src/identity/audit.service.ts');
  const { encodeCursor } = await import('../../src/platform/paging.ts');
  const db = t.database.db;
  // 300 entries, three to each second: the cursor's time is shared with the entries on either side of it.
  const at = (i: number) => new Date(Date.UTC(2004, 0, 1, 0, 0, Math.floor(i / 3))).toISOString();
  await db.insertInto('audit_log').values(Array.from({ length: 300 }, (_, i) => ({ at: at(i), actor_name: 'cursor test', source: 'system', action: 'test.cursor', summary: `cursor ${tag} ${i}` }))).execute();
  try {
    await sql`analyze audit_log`.execute(db);
    const compiled = auditPageQuery(db, { cursor: encodeCursor([at(150), 1_000_000]) }, 50).compile();
    const sqlite = t.database.dialect === 'sqlite';
    const plan = JSON.stringify((await db.executeQuery({ ...compiled, sql: `${sqlite ? 'explain query plan' : 'explain'} ${compiled.sql}` } as never)).rows);
    // A search of the index bounded by the cursor, not a scan of it (or of the table) from the newest entry.
    assert.match(plan, sqlite ? /SEARCH audit_log USING INDEX audit_log_at \(at<\?\)/ : /Index Cond: \(ROW\(at, id\) < ROW\(/, plan);

    const summaries: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res: { status: number; body: { items: { summary: string }[]; nextCursor: string | null } } = await admin.json(`/api/audit?q=${encodeURIComponent(`cursor ${tag}`)}&limit=7${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(res.status, 200);
      summaries.push(...res.body.items.map((e) => e.summary));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(summaries, Array.from({ length: 300 }, (_, i) => `cursor ${tag} ${299 - i}`));
  } finally {
    await db.deleteFrom('audit_log').where('actor_name', '=', 'cursor test').execute();
  }
});

test('a cursor that is not an audit log cursor answers 400 naming the field', async () => {
  const { encodeCursor } = await import('../../src/platform/paging.ts');
  for (const key of [[1], ['2026-01-01T00:00:00.000Z'], [5, 1], ['2026-01-01T00:00:00.000Z', 'x'], ['2026-01-01T00:00:00.000Z', 1.5], ['2026-01-01T00:00:00.000Z', 1, 2]]) {
    const res = await admin.json(`/api/audit?cursor=${encodeCursor(key)}`);
    assert.equal(res.status, 400, JSON.stringify(key));
    assert.ok('cursor' in res.body.error.fields, JSON.stringify(res.body));
  }
});

test('from and to take a day or an ISO time, compared as times, both included; anything else is a 400 naming it', async () => {
  const db = t.database.db;
  const times = ['2003-06-01T00:00:00.000Z', '2003-06-01T12:00:00.000Z', '2003-06-01T23:59:59.999Z', '2003-06-02T00:00:00.000Z'];
  await db.insertInto('audit_log').values(times.map((at, i) => ({ at, actor_name: 'range test', source: 'system', action: 'test.range', summary: `range ${tag} e${i + 1}` }))).execute();
  try {
    const entries = async (query: string) => {
      const res = await admin.json(`/api/audit?q=${encodeURIComponent(`range ${tag}`)}&${query}`);
      assert.equal(res.status, 200, `${query}: ${JSON.stringify(res.body)}`);
      return res.body.items.map((i: { summary: string }) => i.summary.split(' ')[2]).sort();
    };
    // What the Audit Log screen sends: the local day's first and last millisecond as ISO times.
    assert.deepEqual(await entries('from=2003-06-01T12:00:00.000Z&to=2003-06-01T23:59:59.999Z'), ['e2', 'e3']);
    // 14:00 at +02:00 is 12:00 UTC: compared as text it came after e2.
    assert.deepEqual(await entries(`from=${encodeURIComponent('2003-06-01T14:00:00+02:00')}`), ['e2', 'e3', 'e4']);
    assert.deepEqual(await entries(`to=${encodeURIComponent('2003-06-01T13:00:00+01:00')}`), ['e1', 'e2']);
    // A day: from its first moment (UTC), to its last, both included.
    assert.deepEqual(await entries('from=2003-06-01&to=2003-06-01'), ['e1', 'e2', 'e3']);
    assert.deepEqual(await entries('from=2003-06-02'), ['e4']);
    assert.deepEqual(await entries('from=&to='), ['e1', 'e2', 'e3', 'e4'], 'an empty filter is no filter');
    for (const [query, param] of [['from=zzz', 'from'], ['from=2003-6-1', 'from'], ['to=2003-02-29', 'to'], ['to=2003-06-01T12:60:00Z', 'to'], ['from=yesterday', 'from']]) {
      const res = await admin.json(`/api/audit?${query}`);
      assert.equal(res.status, 400, `${query}: ${JSON.stringify(res.body)}`);
      assert.equal(res.body.error.code, 'invalid');
      assert.ok(res.body.error.fields?.[param], `${query}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.error.message, new RegExp(`^${param}\\b`), JSON.stringify(res.body));
    }
    assert.equal((await admin.json('/api/audit?to=2003-02-29')).body.error.fields.to, '2003-02-29 is not a day: February 2003 has 28 days');
    const backwards = await admin.json('/api/audit?from=2003-06-02&to=2003-06-01T23:00:00Z');
    assert.equal(backwards.status, 400, JSON.stringify(backwards.body));
    assert.ok(backwards.body.error.fields?.from && backwards.body.error.fields?.to, JSON.stringify(backwards.body));
  } finally {
    await db.deleteFrom('audit_log').where('actor_name', '=', 'range test').execute();
  }
});
