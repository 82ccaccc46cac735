// A SCIM write that has to wait for another writer (a second app node or worker on the same
// database, the CLI) waits without stalling the server: reads keep being answered, and the write
// completes once the other writer lets go.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDatabaseUrl } from '../../src/db/database.ts';
import { oktaUser, startScim, type ScimHarness } from './scim-client.ts';
import { otherConnectionInTransaction } from '../helpers/other-connection.ts';

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
