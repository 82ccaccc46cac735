// A SCIM write that has to wait for another writer (a second app node or worker on the same
// database, the CLI) waits without stalling the server: reads keep being answered, and the write
// completes once the other writer lets go.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { parseDatabaseUrl, sqliteConnectionOf } from '../../src/db/database.ts';
import { runWrite } from '../../src/scim/scim.writes.ts';
import { PATCH_OP, oktaUser, startScim, type ScimHarness } from './scim-client.ts';
import { otherConnectionInTransaction } from '../helpers/other-connection.ts';
import { startTestApp, usePostgres } from '../helpers/app.ts';

let h: ScimHarness;
before(async () => {
  h = await startScim();
});
after(() => h.t.close());

/** Another connection that takes the database's write lock (SQLite) or blocks the audit log (PostgreSQL). */
async function otherWriter(url: string): Promise<{ release(): Promise<void> }> {
  const other = await otherConnectionInTransaction(url);
  if (parseDatabaseUrl(url).dialect === 'postgres') await other.run('lock table audit_log in exclusive mode');
  return { release: () => other.commit() };
}

test('while another writer holds the lock, a SCIM create waits, reads are answered, and the create then succeeds', async () => {
  const existing = await h.scim('POST', '/Users', oktaUser('already.there@acme.example'));
  assert.equal(existing.status, 201);

  const lock = await otherWriter(h.t.databaseUrl);
  let createDone = false;
  const create = h.scim('POST', '/Users', oktaUser('waits.for.lock@acme.example')).then((r) => {
    createDone = true;
    return r;
  });
  // Give the create time to reach the database and find it locked.
  await new Promise((r) => setTimeout(r, 300));
  const read = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "already.there@acme.example"')}`);
  assert.equal(read.status, 200);
  assert.equal(read.body.totalResults, 1);
  assert.equal(createDone, false, 'the create cannot finish while the other writer holds the lock');

  await lock.release();
  const created = await create;
  assert.equal(created.status, 201);
  const found = await h.scim('GET', `/Users?filter=${encodeURIComponent('userName eq "waits.for.lock@acme.example"')}`);
  assert.equal(found.body.totalResults, 1);
});

test('a read while another request is inside a transaction never sees that transaction’s uncommitted change', async () => {
  const user = await h.scim('POST', '/Users', oktaUser('committed.name@acme.example'));
  assert.equal(user.status, 201);
  let read: Promise<{ status: number; body: any }> | null = null;
  await assert.rejects(
    h.t.database.db.transaction().execute(async (trx) => {
      await trx.updateTable('users').set({ user_name: 'uncommitted.name@acme.example' }).where('id', '=', user.body.id).execute();
      read = h.scim('GET', `/Users/${user.body.id}`);
      // Let the GET reach the server (and its database reads) while the change is uncommitted.
      await new Promise((r) => setTimeout(r, 200));
      throw new Error('roll back');
    }),
    /roll back/,
  );
  const res = await read!;
  assert.equal(res.status, 200);
  assert.equal(res.body.userName, 'committed.name@acme.example');
});

test('creates sent together are each stored whole or refused alone: a userName sent twice gives one 201 and one 409, and a create the database refuses fails without taking the others with it', async () => {
  // On PostgreSQL such creates share one statement (createUserInOneStatement); one the database
  // refuses fails that statement, and the others must still be stored, each with its own rows.
  const db = h.t.database.db;
  const pgsql = parseDatabaseUrl(h.t.databaseUrl).dialect === 'postgres';
  if (pgsql) {
    await sql`create function refuse_test_users() returns trigger language plpgsql as $$
      begin if new.user_name_norm like 'refused.%' then raise exception 'refused by the test'; end if; return new; end $$`.execute(db);
    await sql`create trigger refuse_test_users before insert on users for each row execute function refuse_test_users()`.execute(db);
  } else {
    await sql`create trigger refuse_test_users before insert on users when new.user_name_norm like 'refused.%' begin select raise(abort, 'refused by the test'); end`.execute(db);
  }
  try {
    const tag = Date.now().toString(36);
    const taken = await h.scim('POST', '/Users', oktaUser(`taken.${tag}@acme.example`));
    assert.equal(taken.status, 201);
    const fresh = Array.from({ length: 10 }, (_, i) => `together${i}.${tag}@acme.example`);
    const [created, twice, again, refused] = await Promise.all([
      Promise.all(fresh.map((n) => h.scim('POST', '/Users', oktaUser(n)))),
      Promise.all([0, 1].map(() => h.scim('POST', '/Users', oktaUser(`twice.${tag}@acme.example`)))),
      h.scim('POST', '/Users', oktaUser(`TAKEN.${tag}@acme.example`)),
      h.scim('POST', '/Users', oktaUser(`refused.${tag}@acme.example`)),
    ]);

    for (const [i, r] of created.entries()) {
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const read = await h.scim('GET', `/Users/${r.body.id}`);
      assert.equal(read.body.userName, fresh[i]);
      assert.deepEqual(read.body.emails.map((e: { value: string }) => e.value), [fresh[i]]);
      const byEmail = await h.scim('GET', `/Users?filter=${encodeURIComponent(`emails.value eq "${fresh[i]}"`)}`);
      assert.deepEqual(byEmail.body.Resources.map((u: { id: string }) => u.id), [r.body.id], 'its e-mail row is stored');
    }
    assert.deepEqual(twice.map((r) => r.status).sort(), [201, 409]);
    assert.equal(twice.find((r) => r.status === 409)!.body.scimType, 'uniqueness');
    assert.equal(again.status, 409);
    assert.equal(again.body.scimType, 'uniqueness');
    assert.equal(refused.status, 500);
    assert.equal(refused.body.schemas[0], 'urn:ietf:params:scim:api:messages:2.0:Error');

    const stored = await db.selectFrom('users').select('user_name').where('user_name', 'like', `%.${tag}@acme.example`).execute();
    assert.deepEqual(stored.map((u) => u.user_name).sort(), [...fresh, `taken.${tag}@acme.example`, `twice.${tag}@acme.example`].sort());
    const audited = await db.selectFrom('audit_log').select('target_name').where('action', '=', 'user.create').where('target_name', 'like', `%.${tag}@acme.example`).execute();
    assert.deepEqual(audited.map((a) => a.target_name).sort(), stored.map((u) => u.user_name).sort(), 'one audit row for each stored user, none for the refused ones');
    const emailRows = await db.selectFrom('scim_user_emails').select('value_norm').where('value_norm', 'like', `%.${tag}@acme.example`).execute();
    assert.equal(emailRows.length, stored.length, 'one e-mail row for each stored user, none for the refused ones');
  } finally {
    await sql`drop trigger refuse_test_users${sql.raw(pgsql ? ' on users' : '')}`.execute(db);
    if (pgsql) await sql`drop function refuse_test_users()`.execute(db);
  }
});

test('two nodes creating the same people at once, in opposite orders, create each person once: every other request is a 409, none fails', async () => {
  // On PostgreSQL each node batches its creates; two batches that wait on each other's userNames in
  // opposite orders deadlock, and the one PostgreSQL aborts reruns its creates one by one.
  const other = await startTestApp({ databaseUrl: h.t.databaseUrl });
  try {
    const tag = Date.now().toString(36);
    const names = Array.from({ length: 30 }, (_, i) => `both${i}.${tag}@acme.example`);
    const post = (base: string, name: string) =>
      fetch(`${base}/ResourceServer/api/SCIM/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify(oktaUser(name)),
      }).then(async (r) => ({ name, status: r.status, body: await r.json() }));
    const results = await Promise.all([...names.map((n) => post(h.t.baseUrl, n)), ...names.toReversed().map((n) => post(other.baseUrl, n))]);
    for (const name of names) {
      const mine = results.filter((r) => r.name === name);
      assert.deepEqual(mine.map((r) => r.status).sort(), [201, 409], `${name}: ${JSON.stringify(mine.map((r) => r.body))}`);
    }
    const stored = await h.t.database.db.selectFrom('users').select('user_name').where('user_name', 'like', `both%.${tag}@acme.example`).execute();
    assert.equal(stored.length, names.length);
  } finally {
    await other.close();
  }
});

test('16 PUTs and PATCHes of one user at once each apply whole, one after another: all answer 200, the version rises by 16, each is audited once', async () => {
  // On PostgreSQL a PUT or PATCH of a user applies only to the version it read; one that finds the
  // user changed since reads again (and after a few tries waits for the row lock).
  const u = await h.scim('POST', '/Users', oktaUser('many.writers@acme.example'));
  assert.equal(u.status, 201);
  const id = u.body.id as string;
  const bodies = Array.from({ length: 16 }, (_, i) =>
    i % 2
      ? { method: 'PUT', body: oktaUser('many.writers@acme.example', { displayName: `Writer ${i}`, emails: [{ value: `w${i}@acme.example`, type: 'work', primary: true }] }) }
      : { method: 'PATCH', body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: `Writer ${i}` }] } },
  );
  const results = await Promise.all(bodies.map((b) => h.scim(b.method, `/Users/${id}`, b.body)));
  assert.deepEqual(results.map((r) => r.status), bodies.map((b) => (b.method === 'PUT' ? 200 : 204)));
  const after = await h.scim('GET', `/Users/${id}`);
  assert.equal(after.body.meta.version, `W/"${Number(u.body.meta.version.match(/\d+/)[0]) + 16}"`);
  assert.match(after.body.displayName, /^Writer \d+$/);
  // The stored e-mail rows are those of the last PUT applied, whichever it was (the PATCHes keep them).
  const mail = after.body.emails[0].value as string;
  const found = await h.scim('GET', `/Users?filter=${encodeURIComponent(`emails.value eq "${mail}"`)}`);
  assert.equal(found.body.totalResults, 1);
  const rows = await h.t.database.db.selectFrom('scim_user_emails').select('value_norm').where('user_id', '=', id).execute();
  assert.deepEqual(rows.map((r) => r.value_norm), [mail]);
  const audits = await h.t.database.db.selectFrom('audit_log').select('summary').where('target_id', '=', id).where('action', '=', 'user.update').execute();
  assert.equal(audits.length, 16);
});

test('two PUTs sent at once with the same If-Match: one applies, the other is a 412 and changes nothing', async () => {
  const u = await h.scim('POST', '/Users', oktaUser('if.match.race@acme.example'));
  const etag = u.headers.get('etag')!;
  const [a, b] = await Promise.all(
    ['First', 'Second'].map((displayName) => h.scim('PUT', `/Users/${u.body.id}`, oktaUser('if.match.race@acme.example', { displayName }), { 'if-match': etag })),
  );
  assert.deepEqual([a.status, b.status].sort(), [200, 412]);
  const winner = a.status === 200 ? a : b;
  const after = await h.scim('GET', `/Users/${u.body.id}`);
  assert.equal(after.body.displayName, winner.body.displayName);
  assert.equal(after.headers.get('etag'), winner.headers.get('etag'));
});

test('a PUT that renames a user to a taken userName is a 409 and changes nothing, also on the e-mails and sessions it would have touched', async () => {
  const taken = await h.scim('POST', '/Users', oktaUser('taken.name@acme.example'));
  assert.equal(taken.status, 201);
  const u = await h.scim('POST', '/Users', oktaUser('renamer@acme.example'));
  const put = await h.scim('PUT', `/Users/${u.body.id}`, oktaUser('Taken.Name@acme.example', { active: false, emails: [{ value: 'new@acme.example', type: 'work' }] }));
  assert.equal(put.status, 409);
  assert.equal(put.body.scimType, 'uniqueness');
  assert.equal(put.body.detail, 'userName Taken.Name@acme.example is already taken', 'the same words on both databases');
  const after = await h.scim('GET', `/Users/${u.body.id}`);
  assert.equal(after.body.userName, 'renamer@acme.example');
  assert.equal(after.body.active, true);
  assert.equal(after.body.meta.version, u.body.meta.version);
  const rows = await h.t.database.db.selectFrom('scim_user_emails').select('value_norm').where('user_id', '=', u.body.id).execute();
  assert.deepEqual(rows.map((r) => r.value_norm), ['renamer@acme.example']);
});

// SQLite only: PostgreSQL has no temp_store.
if (!usePostgres()) {
  test("SQLite: a batch of SCIM writes keeps its temporary storage in memory, and the connection gets the default back after it, whether the write succeeded, failed or waited for the lock", async () => {
    const db = h.t.database.db;
    const conn = sqliteConnectionOf(db)!;
    const tempStore = () => conn.pragma('temp_store', { simple: true });
    assert.equal(tempStore(), 0, 'the default before');

    // Inside a batch: MEMORY (2), so the batch's savepoint sub-journal is not a file in /var/tmp.
    const inside = await runWrite(db, async (trx) => (await sql<{ temp_store: number }>`pragma temp_store`.execute(trx)).rows[0].temp_store);
    assert.equal(inside, 2);
    assert.equal(tempStore(), 0, 'the default after a write that succeeded');

    await assert.rejects(
      runWrite(db, async () => {
        throw new Error('refused by the test');
      }),
      /refused by the test/,
    );
    assert.equal(tempStore(), 0, 'the default after a write that failed');

    const lock = await otherWriter(h.t.databaseUrl);
    const waited = h.scim('POST', '/Users', oktaUser('temp.store.waits@acme.example'));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(tempStore(), 0, 'the default while the write waits for the lock');
    await lock.release();
    assert.equal((await waited).status, 201);
    assert.equal(tempStore(), 0, 'the default after it');

    // Other queries still sort on disk past the cache: the default is FILE in this build (TEMP_STORE=1).
    assert.ok((conn.pragma('compile_options') as { compile_options: string }[]).some((o) => o.compile_options === 'TEMP_STORE=1'));
  });
}
