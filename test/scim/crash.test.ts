// A crash in the middle of provisioning. The server (`ledgerline serve`, its own process) is killed
// with SIGKILL while Okta- and Entra-style writes are in flight: creates, deactivations (Okta's PUT and
// Entra's PATCH), hard deletes, group pushes with members, and Okta's PUT of a group's full member
// list. Started again on the same database, it must hold every write it acknowledged, and of the
// writes in flight at the kill either all or nothing: no user without their e-mail rows or audit
// row, no group without its SCIM role and role group or with part of its members, counters that
// match the rows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase } from '../../src/db/database.ts';
import { levelsOfRoleGroup } from '../../src/identity/permissions.repo.ts';
import { createToken } from '../../src/scim/scim-tokens.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { freePort, freshDatabaseUrl, spawnServe, type ServeProcess } from '../helpers/app.ts';
import { PATCH_OP } from './scim-client.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';

/** `ledgerline serve` on the test's database, one process (WORKERS=1), so that SIGKILL ends it all. */
async function serve(databaseUrl: string, port: number): Promise<ServeProcess & { base: string }> {
  const served = await spawnServe(databaseUrl, port, { env: { WORKERS: '1' } });
  return { ...served, base: `${served.baseUrl}/ResourceServer/api/SCIM` };
}

/** The user as the test sends it: everything follows from the userName, so any stored user can be checked whole. */
const userBody = (userName: string, active = true) => ({
  schemas: [USER, ENTERPRISE],
  userName,
  name: { givenName: 'Crash', familyName: userName.split('@')[0] },
  displayName: `Crash ${userName}`,
  emails: [
    { value: userName, type: 'work', primary: true },
    { value: `home.${userName}`, type: 'home' },
  ],
  [ENTERPRISE]: { employeeNumber: userName.split('@')[0] },
  active,
});

type Outcome = { status: number; body: any } | 'lost';
/** Kills per run: each one lands the crash at another point of the requests in flight. */
const ROUNDS = 3;

test('a server killed mid-provisioning keeps every acknowledged write and no half of any other, and serves on after a restart', { timeout: 240_000 }, async () => {
  const database = await freshDatabaseUrl();
  const port = await freePort();
  let server = await serve(database.url, port);
  let token: string;
  {
    const d = openDatabase(database.url);
    token = (await createToken(d.db, systemActor('test'), 'crash test')).token;
    await d.close();
  }
  const call = async (method: string, p: string, body?: unknown): Promise<Outcome> => {
    let status: number;
    let text: string;
    try {
      const res = await fetch(server.base + p, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json', 'user-agent': 'crash-test' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      status = res.status;
      text = await res.text();
    } catch {
      return 'lost'; // the connection died with the server: the outcome is unknown
    }
    return { status, body: text ? JSON.parse(text) : null };
  };

  try {
    // The group Okta keeps re-sending with its full member list, pushed before the load.
    const pushed = await call('POST', '/Groups', { schemas: [GROUP], displayName: 'Crash Everyone', members: [] });
    assert.ok(pushed !== 'lost' && pushed.status === 201);
    const everyoneId = pushed.body.id as string;

    const created = new Map<string, string>(); // userName -> id, acknowledged (201)
    const userNameOf = new Map<string, string>(); // id -> userName, of the same
    const sentUsers = new Set<string>();
    const deletable: string[] = []; // acknowledged users only the deleter touches
    const groupable: string[] = []; // acknowledged users the other writers use
    const deactivated = new Set<string>(); // ids, acknowledged
    const deactivating = new Set<string>(); // ids, sent
    const deleted = new Set<string>(); // ids, acknowledged (204)
    const deleting = new Set<string>(); // ids, sent
    const groupsSent = new Map<string, string[]>(); // displayName -> member ids sent
    const groupsCreated = new Map<string, string>(); // displayName -> id, acknowledged
    const everyoneLists: string[][] = [[]]; // member lists PUT to Crash Everyone: acknowledged ones, then the one in flight
    let everyoneAcked = 0; // index in everyoneLists of the last acknowledged list
    let stop = false;

    const creator = async (round: number, c: number) => {
      for (let n = 0; !stop; n++) {
        const userName = `crash-${round}-${c}-${n}@acme.test`;
        sentUsers.add(userName);
        const r = await call('POST', '/Users', userBody(userName));
        if (r === 'lost') return;
        assert.equal(r.status, 201, JSON.stringify(r.body));
        created.set(userName, r.body.id);
        userNameOf.set(r.body.id, userName);
        (n % 5 === 0 ? deletable : groupable).push(r.body.id);
      }
    };
    const deactivator = async () => {
      for (let n = 0; !stop; n++) {
        const id = groupable.find((u) => !deactivating.has(u));
        if (!id) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        deactivating.add(id);
        const userName = userNameOf.get(id)!;
        // Okta's custom app: the whole user with active false; Entra: a PATCH with a "False" string.
        const r =
          n % 2 === 0
            ? await call('PUT', `/Users/${id}`, { ...userBody(userName, false), id })
            : await call('PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'Replace', path: 'active', value: 'False' }] });
        if (r === 'lost') return;
        assert.ok(r.status === 200 || r.status === 204, JSON.stringify(r.body));
        deactivated.add(id);
      }
    };
    const deleter = async () => {
      while (!stop) {
        const id = deletable.find((u) => !deleting.has(u));
        if (!id) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        deleting.add(id);
        const r = await call('DELETE', `/Users/${id}`);
        if (r === 'lost') return;
        assert.equal(r.status, 204, JSON.stringify(r.body));
        deleted.add(id);
      }
    };
    const groupPusher = async (round: number) => {
      for (let n = 0; !stop; n++) {
        const members = groupable.slice(-40);
        if (members.length < 10) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const displayName = `Crash Team ${round}.${n}`;
        groupsSent.set(displayName, members);
        const r = await call('POST', '/Groups', { schemas: [GROUP], displayName, members: members.map((value) => ({ value })) });
        if (r === 'lost') return;
        assert.equal(r.status, 201, JSON.stringify(r.body));
        groupsCreated.set(displayName, r.body.id);
      }
    };
    const everyonePutter = async () => {
      while (!stop) {
        const members = [...groupable];
        everyoneLists.push(members);
        const r = await call('PUT', `/Groups/${everyoneId}`, { schemas: [GROUP], id: everyoneId, displayName: 'Crash Everyone', members: members.map((value) => ({ value })) });
        if (r === 'lost') return;
        assert.equal(r.status, 200, JSON.stringify(r.body));
        everyoneAcked = everyoneLists.length - 1;
      }
    };

    /** Everything acknowledged is there; everything there is whole. */
    async function verify(): Promise<number> {
      const d = openDatabase(database.url);
      try {
        const db = d.db;
        // Users: every acknowledged create is there unless its delete was acknowledged; every stored
        // user is one the test sent, whole, with one audit row for its creation.
        for (const [userName, id] of created) {
          const r = await call('GET', `/Users/${id}`);
          assert.ok(r !== 'lost');
          if (deleted.has(id)) {
            assert.equal(r.status, 404, `${userName} was deleted (acknowledged)`);
            continue;
          }
          if (!deleting.has(id)) assert.equal(r.status, 200, `${userName} was created (acknowledged)`);
          if (r.status === 404) continue; // its delete was in flight and committed
          assert.equal(r.body.userName, userName);
          assert.deepEqual(r.body.emails, userBody(userName).emails);
          assert.equal(r.body[ENTERPRISE].employeeNumber, userName.split('@')[0]);
          if (deactivated.has(id)) assert.equal(r.body.active, false, `${userName} was deactivated (acknowledged)`);
          else if (!deactivating.has(id)) assert.equal(r.body.active, true, `${userName} was never deactivated`);
        }
        const users = await db.selectFrom('users').select(['id', 'user_name', 'email_norm', 'status']).where('source', '=', 'idp').execute();
        const emailRows = await db.selectFrom('scim_user_emails').select(['user_id', 'value_norm', 'type_norm', 'is_primary']).orderBy('value_norm').execute();
        const creations = await db.selectFrom('audit_log').select(['target_id']).where('action', '=', 'user.create').execute();
        const deletions = await db.selectFrom('audit_log').select(['target_id']).where('action', '=', 'user.delete').execute();
        const count = (rows: { target_id: string | null }[], id: string) => rows.filter((a) => a.target_id === id).length;
          for (const u of users) {
          assert.ok(sentUsers.has(u.user_name), `${u.user_name} was never sent`);
          assert.equal(u.email_norm, u.user_name);
          assert.deepEqual(
            emailRows.filter((e) => e.user_id === u.id).map((e) => [e.value_norm, e.type_norm, e.is_primary]),
            [[u.user_name, 'work', 1], [`home.${u.user_name}`, 'home', null]],
            `e-mail rows of ${u.user_name}`,
          );
          assert.equal(count(creations, u.id), 1, `audit rows for the creation of ${u.user_name}`);
          assert.equal(count(deletions, u.id), 0, `${u.user_name} is there, so no delete of it was recorded`);
        }
        assert.equal(new Set(emailRows.map((e) => e.user_id)).size, users.length, 'no e-mail rows of a user that is not there');
        for (const id of deleting) {
          const gone = !users.some((u) => u.id === id);
          assert.equal(count(deletions, id), gone ? 1 : 0, `a delete is recorded exactly when the user is gone (${id})`);
          assert.equal(count(creations, id), 1, 'the audit trail of a deleted user stays');
        }
        const listed = await call('GET', '/Users?count=0');
        assert.ok(listed !== 'lost');
        assert.equal(listed.body.totalResults, users.length, 'the counted users match the rows');

        // Groups: each is whole (members as sent, its SCIM role, role group and permissions) or absent.
        const groups = await db.selectFrom('pushed_groups').select(['id', 'display_name']).execute();
        const members = await db.selectFrom('pushed_group_members').select(['group_id', 'user_id']).orderBy('id').execute();
        const membersOf = (id: string) => members.filter((m) => m.group_id === id).map((m) => m.user_id);
        const scimDefault = await db.selectFrom('role_groups').select('id').where('is_scim_default', '=', 1).executeTakeFirstOrThrow();
        const defaultLevels = await levelsOfRoleGroup(db, scimDefault.id);
        for (const [displayName, id] of groupsCreated) assert.ok(groups.some((g) => g.id === id), `${displayName} was created (acknowledged)`);
        for (const g of groups) {
          if (g.id === everyoneId) {
            const now = membersOf(g.id).sort();
            const candidates = everyoneLists.slice(everyoneAcked).map((l) => [...l].sort());
            assert.ok(
              candidates.some((l) => JSON.stringify(l) === JSON.stringify(now)),
              `Crash Everyone has the members of its last acknowledged PUT or of the one in flight, not ${now.length} others`,
            );
          } else {
            assert.deepEqual(membersOf(g.id), groupsSent.get(g.display_name), `members of ${g.display_name}`);
          }
          const role = await db.selectFrom('roles').select('id').where('pushed_group_id', '=', g.id).execute();
          const roleGroup = await db.selectFrom('role_groups').select('id').where('pushed_group_id', '=', g.id).execute();
          assert.equal(role.length, 1, `the SCIM role of ${g.display_name}`);
          assert.equal(roleGroup.length, 1, `the SCIM role group of ${g.display_name}`);
          const link = await db.selectFrom('role_role_groups').select('role_id').where('role_group_id', '=', roleGroup[0].id).execute();
          assert.deepEqual(link, [{ role_id: role[0].id }]);
          const rows = await db.selectFrom('role_group_levels').select(['screen', 'level']).where('role_group_id', '=', roleGroup[0].id).execute();
          assert.deepEqual(Object.fromEntries(rows.map((r) => [r.screen, r.level])), defaultLevels, `the permissions of ${g.display_name}'s role group, copied from SCIM Default`);
        }
        const groupList = await call('GET', '/Groups?count=0');
        assert.ok(groupList !== 'lost');
        assert.equal(groupList.body.totalResults, groups.length, 'the counted groups match the rows');
        return users.filter((u) => !created.has(u.user_name)).length;

      } finally {
        await d.close();
      }
    }

    for (let round = 1; round <= ROUNDS; round++) {
      const before = { created: created.size, deactivated: deactivated.size, deleted: deleted.size, groups: groupsCreated.size, puts: everyoneAcked };
      stop = false;
      const load = Promise.all([creator(round, 0), creator(round, 1), creator(round, 2), creator(round, 3), deactivator(), deleter(), groupPusher(round), everyonePutter()]);
      // Kill once every kind of write has been acknowledged a few times, with all eight clients busy.
      const deadline = Date.now() + 60_000;
      while (
        !(created.size - before.created >= 150 && deactivated.size - before.deactivated >= 10 && deleted.size - before.deleted >= 5 && groupsCreated.size - before.groups >= 2 && everyoneAcked - before.puts >= 2)
      ) {
        if (Date.now() > deadline) throw new Error(`round ${round}: the load did not get going: ${JSON.stringify(before)}, now ${created.size} creates, ${deactivated.size} deactivations, ${deleted.size} deletes, ${groupsCreated.size} groups, ${everyoneAcked} group PUTs`);
        await new Promise((r) => setTimeout(r, 10));
      }
      const inFlight = { creates: sentUsers.size - created.size, deactivations: deactivating.size - deactivated.size, deletes: deleting.size - deleted.size, groups: groupsSent.size - groupsCreated.size };
      server.child.kill('SIGKILL');
      stop = true;
      await server.exited;
      await load;
      server = await serve(database.url, port);
      const committedUnacknowledged = await verify();
      console.log(
        `# round ${round}: killed with at most ${inFlight.creates} creates, ${inFlight.deactivations} deactivations, ${inFlight.deletes} deletes and ${inFlight.groups} group pushes ` +
          `(earlier rounds' lost ones included) and 1 group PUT in flight; ${created.size} acknowledged creates checked; ${committedUnacknowledged} creates whole though never acknowledged (all rounds)`,
      );
    }

    // It serves on: a new user is created, an acknowledged userName is still taken.
    const again = await call('POST', '/Users', userBody('after-the-crash@acme.test'));
    assert.ok(again !== 'lost' && again.status === 201, JSON.stringify(again));
    const [kept] = [...created].filter(([, id]) => !deleting.has(id));
    const taken = await call('POST', '/Users', userBody(kept[0]));
    assert.ok(taken !== 'lost' && taken.status === 409 && taken.body.scimType === 'uniqueness', JSON.stringify(taken));
  } finally {
    server.child.kill('SIGKILL');
    await server.exited;
    await database.drop();
  }
});
