// The SCIM concurrency guarantees with several server processes on one database (WORKERS=2, the
// documented way to use more cores): the processes share nothing but the database, so whatever one
// of them does, the other must see and respect. The test opens 16 keep-alive connections, which
// node:cluster hands to the two workers in turn, finds out which worker holds each, and sends the
// requests that race alternately over a connection of one worker and of the other.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { randomUUID } from 'node:crypto';
import { buildConnector, Client } from 'undici';
import { openDatabase, type Database } from '../../src/db/database.ts';
import { createToken, revokeToken } from '../../src/scim/scim-tokens.service.ts';
import { systemActor } from '../../src/platform/actor.ts';
import { freePort, freshDatabaseUrl, spawnServe, type ServeProcess, type TestDatabase } from '../helpers/app.ts';
import { PATCH_OP } from './scim-client.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ROUNDS = 8;

let fresh: TestDatabase;
let served: ServeProcess;
let database: Database;
/** The test's connections, by the worker that holds them: [one worker's, the other's]. */
let workers: Client[][];
let clients: Client[] = [];
let token: string;

before(async () => {
  fresh = await freshDatabaseUrl();
  const twoListening = async (_: string, output: string) => (output.match(/worker \d+ listening/g) ?? []).length >= 2;
  // The primary process migrates the database before it starts the workers.
  served = await spawnServe(fresh.url, await freePort(), { env: { WORKERS: '2', LOG_LEVEL: 'info' }, ready: twoListening });
  database = openDatabase(fresh.url, { poolSize: 2 });
  ({ token } = await createToken(database.db, systemActor('test'), 'workers'));
  workers = await connectionsByWorker(16);
});

after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  if (served) {
    served.child.kill('SIGTERM');
    assert.equal(await served.exited, 0, served.output());
  }
  await database?.close();
  await fresh?.drop();
});

interface Answer {
  status: number;
  body: any;
  etag?: string;
}

/**
 * A SCIM request over one of the test's connections: the `k`th of requests sent together goes to
 * one worker when k is even and to the other when k is odd.
 */
async function scim(k: number, method: 'GET' | 'POST' | 'PATCH' | 'DELETE', path: string, body?: unknown, headers: Record<string, string> = {}, bearer = token): Promise<Answer> {
  const own = workers[k % 2];
  const res = await own[Math.floor(k / 2) % own.length].request({
    path: `/ResourceServer/api/SCIM${path}`,
    method,
    headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/scim+json', ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.body.text();
  const etag = res.headers.etag;
  return { status: res.statusCode, body: text ? JSON.parse(text) : null, etag: typeof etag === 'string' ? etag : undefined };
}

/**
 * Opens `n` connections to the server and sorts them by the worker process that accepted each: the
 * worker (a child of the primary) whose open sockets include the server end of the connection, found
 * through /proc/net/tcp by the client end's port.
 */
async function connectionsByWorker(n: number): Promise<Client[][]> {
  const connect = buildConnector({});
  const opened = await Promise.all(
    Array.from({ length: n }, async () => {
      let localPort = 0;
      const client = new Client(served.baseUrl, {
        connect: (opts, done) =>
          connect(opts, (err, socket) => {
            if (socket) localPort = (socket as { localPort?: number }).localPort ?? 0;
            (done as (e: Error | null, s: typeof socket) => void)(err, socket);
          }),
      });
      clients.push(client);
      const res = await client.request({ path: '/healthz', method: 'GET' });
      await res.body.text();
      return { client, localPort };
    }),
  );
  const serverPort = Number(new URL(served.baseUrl).port);
  const port = (address: string) => parseInt(address.split(':')[1], 16);
  // The server end of each connection (local port: the server's; remote port: the client's), by socket inode.
  const inodeOf = new Map<number, string>();
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9 && port(f[1]) === serverPort && f[3] === '01') inodeOf.set(port(f[2]), f[9]);
  }
  const byPid = new Map<number, Client[]>();
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let sockets: Set<string>;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== served.child.pid) continue;
      sockets = new Set(fs.readdirSync(`/proc/${entry}/fd`).map((fd) => fs.readlinkSync(`/proc/${entry}/fd/${fd}`)));
    } catch {
      continue; // not ours, or gone meanwhile
    }
    const held = opened.filter((o) => sockets.has(`socket:[${inodeOf.get(o.localPort)}]`)).map((o) => o.client);
    byPid.set(Number(entry), held);
  }
  const groups = [...byPid.values()];
  assert.equal(groups.length, 2, 'two worker processes');
  assert.ok(groups.every((g) => g.length > 0), `each worker holds some of the connections (${groups.map((g) => g.length).join(' / ')} of ${n})`);
  assert.equal(groups[0].length + groups[1].length, n, 'every connection found in one of the workers');
  return groups;
}

const statuses = (answers: Answer[]) => answers.map((a) => a.status).sort((a, b) => a - b);
const newUser = async (k = 0) => {
  const res = await scim(k, 'POST', '/Users', { schemas: [USER], userName: `${randomUUID()}@workers.example`, active: true });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.id as string;
};

test('two server processes: eight POSTs at once of one userName give one 201 and seven 409s (uniqueness), and likewise for a group displayName', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const userName = `${randomUUID()}@Same.example`;
    // The same name in different cases: userName is unique regardless of case.
    const users = await Promise.all(Array.from({ length: 8 }, (_, k) => scim(k, 'POST', '/Users', { schemas: [USER], userName: k % 4 >= 2 ? userName.toUpperCase() : userName })));
    assert.deepEqual(statuses(users), [201, 409, 409, 409, 409, 409, 409, 409], `round ${round}`);
    assert.ok(users.filter((a) => a.status === 409).every((a) => a.body.scimType === 'uniqueness'), `round ${round}`);
    const displayName = `Same ${randomUUID()}`;
    const groups = await Promise.all(Array.from({ length: 8 }, (_, k) => scim(k, 'POST', '/Groups', { schemas: [GROUP], displayName })));
    assert.deepEqual(statuses(groups), [201, 409, 409, 409, 409, 409, 409, 409], `round ${round}`);
    const listed = await scim(round, 'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    assert.equal(listed.body.totalResults, 1, `round ${round}`);
  }
});

test('two server processes: 16 PATCHes at once, each adding five members to one group, lose no member, and every member shows the group', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const group = await scim(round, 'POST', '/Groups', { schemas: [GROUP], displayName: `Contended ${randomUUID()}` });
    assert.equal(group.status, 201);
    const users = await Promise.all(Array.from({ length: 80 }, (_, k) => newUser(k)));
    const patches = await Promise.all(
      Array.from({ length: 16 }, (_, k) =>
        scim(k, 'PATCH', `/Groups/${group.body.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: users.slice(k * 5, k * 5 + 5).map((value) => ({ value })) }] }),
      ),
    );
    assert.ok(patches.every((p) => p.status === 204), `round ${round}: ${statuses(patches)}`);
    const got = await scim(round + 1, 'GET', `/Groups/${group.body.id}`);
    assert.deepEqual(got.body.members.map((m: { value: string }) => m.value).sort(), [...users].sort(), `round ${round}`);
    const members = await Promise.all(users.slice(0, 16).map((id, k) => scim(k, 'GET', `/Users/${id}`)));
    assert.ok(members.every((m) => m.body.groups?.length === 1 && m.body.groups[0].value === group.body.id), `round ${round}`);
  }
});

test('two server processes: eight PATCHes at once of one user with the same If-Match: one is applied, seven get 412, and the user has the one change', async () => {
  for (let round = 0; round < ROUNDS; round++) {
    const id = await newUser(round);
    const { etag } = await scim(round + 1, 'GET', `/Users/${id}`);
    assert.ok(etag);
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, k) => scim(k, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: `Writer ${k}` }] }, { 'if-match': etag })),
    );
    assert.deepEqual(statuses(answers), [204, 412, 412, 412, 412, 412, 412, 412], `round ${round}`);
    const winner = answers.findIndex((a) => a.status === 204);
    assert.equal((await scim(round, 'GET', `/Users/${id}`)).body.displayName, `Writer ${winner}`, `round ${round}`);
  }
});

test('two server processes: a token both have just accepted is refused by both at once when it is revoked, for reads and writes alike', async () => {
  const id = await newUser();
  for (let round = 0; round < ROUNDS; round++) {
    const other = await createToken(database.db, systemActor('test'), `rotated ${round}`);
    // 16 requests at once, over every connection: both processes verify the token and remember it.
    const accepted = await Promise.all(Array.from({ length: 16 }, (_, k) => scim(k, 'GET', `/Users/${id}`, undefined, {}, other.token)));
    assert.ok(accepted.every((a) => a.status === 200), `round ${round}: ${statuses(accepted)}`);
    await revokeToken(database.db, systemActor('test'), other.item.id);
    const refused = await Promise.all(
      // Each kind of request twice in a row: once to each worker.
      Array.from({ length: 16 }, (_, k) =>
        Math.floor(k / 2) % 4 === 0
          ? scim(k, 'GET', `/Users/${id}`, undefined, {}, other.token)
          : Math.floor(k / 2) % 4 === 1
            ? scim(k, 'GET', `/Users?filter=${encodeURIComponent('userName eq "nobody@workers.example"')}`, undefined, {}, other.token)
            : Math.floor(k / 2) % 4 === 2
              ? scim(k, 'PATCH', `/Users/${id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: `round ${round}` }] }, {}, other.token)
              : scim(k, 'POST', '/Users', { schemas: [USER], userName: `${randomUUID()}@revoked.example` }, {}, other.token),
      ),
    );
    assert.deepEqual(statuses(refused), Array(16).fill(401), `round ${round}`);
  }
  const user = await scim(1, 'GET', `/Users/${id}`);
  assert.equal(user.body.title, undefined, 'no write made with the revoked token');
});
