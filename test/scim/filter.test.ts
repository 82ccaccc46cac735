// The SCIM filter language: parsing (RFC 7644 §3.4.2.2 plus the leniency real clients need) and
// compilation to SQL, checked against a real database through the protocol engine (no HTTP).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter, parsePatchPath } from '../../src/scim/filter.parser.ts';
import { compileUserFilter } from '../../src/scim/filter.sql.ts';
import { handleScim, type ScimRequest } from '../../src/scim/scim.engine.ts';
import { migrate, openDatabase, type Database } from '../../src/db/database.ts';
import { freshDatabaseUrl, type TestDatabase } from '../helpers/app.ts';
import { sql } from 'kysely';

describe('filter parser', () => {
  test('parses every comparison operator, case-insensitively', () => {
    for (const op of ['eq', 'ne', 'co', 'sw', 'ew', 'gt', 'ge', 'lt', 'le']) {
      const f = parseFilter(`userName ${op.toUpperCase()} "x"`);
      assert.deepEqual(f, { op, attr: { name: 'userName' }, value: 'x' });
    }
    assert.deepEqual(parseFilter('title pr'), { op: 'pr', attr: { name: 'title' } });
  });

  test('and binds tighter than or, and parentheses and not group', () => {
    const f = parseFilter('a eq "1" or b eq "2" and c eq "3"');
    assert.equal(f.op, 'or');
    assert.equal((f as any).right.op, 'and');
    const g = parseFilter('not (a eq "1") and (b eq "2" or c eq "3")');
    assert.equal(g.op, 'and');
    assert.equal((g as any).left.op, 'not');
    assert.equal((g as any).right.op, 'or');
  });

  test('reads booleans, null, numbers, JSON string escapes and unquoted words', () => {
    assert.equal((parseFilter('active eq true') as any).value, true);
    assert.equal((parseFilter('active eq False') as any).value, false);
    assert.equal((parseFilter('x eq null') as any).value, null);
    assert.equal((parseFilter('x gt 10') as any).value, 10);
    assert.equal((parseFilter('x eq "a \\"b\\" c"') as any).value, 'a "b" c');
    assert.equal((parseFilter('userName sw O') as any).value, 'O');
    assert.equal((parseFilter('meta.created gt 2015-10-10T14:38:21.8617979-07:00') as any).value, '2015-10-10T14:38:21.8617979-07:00');
  });

  test('parses sub-attributes, schema URN prefixes and complex value filters', () => {
    assert.deepEqual((parseFilter('name.familyName eq "x"') as any).attr, { name: 'name', sub: 'familyName' });
    assert.deepEqual((parseFilter('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "x"') as any).attr, {
      uri: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
      name: 'department',
    });
    const f = parseFilter('emails[type eq "work" and value co "@example.com"]') as any;
    assert.equal(f.op, 'has');
    assert.equal(f.filter.op, 'and');
  });

  test('rejects malformed filters with scimType invalidFilter', () => {
    for (const bad of ['', 'userName', 'userName eq', 'userName zz "x"', '(userName eq "x"', 'userName eq "x" garbage', 'emails[type eq "a"', 'userName eq "unterminated']) {
      assert.throws(() => parseFilter(bad), (e: any) => e.status === 400 && e.scimType === 'invalidFilter', bad);
    }
  });

  test('parses PATCH paths with value filters and a trailing sub-attribute', () => {
    assert.deepEqual(parsePatchPath('emails[type eq "work"].value').subAfterFilter, 'value');
    assert.deepEqual(parsePatchPath('members[value eq "abc"]').attr, { name: 'members' });
    assert.deepEqual(parsePatchPath('name.givenName').attr, { name: 'name', sub: 'givenName' });
  });
});

describe('filter compiled to SQL', () => {
  let tdb: TestDatabase;
  let database: Database;
  const actor = { id: null, name: 'test', source: 'scim' as const };
  const call = (req: Partial<ScimRequest> & { method: string; path: string }) =>
    handleScim({ db: database.db, baseUrl: 'http://x/scim', actor }, { query: {}, ...req });
  const ids: Record<string, string> = {};
  const find = async (filter: string) => {
    const r = await call({ method: 'GET', path: '/Users', query: { filter, count: '100' } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return ((r.body as any).Resources as any[]).map((u) => u.userName).sort();
  };

  before(async () => {
    tdb = await freshDatabaseUrl();
    database = openDatabase(tdb.url);
    await migrate(database);
    const users = [
      { userName: 'Alice@Acme.com', name: { givenName: 'Alice', familyName: 'Smith' }, displayName: 'Alice Smith', externalId: 'ext-1', title: 'Engineer',
        emails: [{ value: 'alice@acme.com', type: 'work', primary: true }, { value: 'alice@home.org', type: 'home' }],
        'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Finance' }, phoneNumbers: [{ value: '555-1', type: 'work' }] },
      { userName: 'bob@acme.com', name: { givenName: 'Bob', familyName: 'Jones' }, displayName: 'Bob Jones', externalId: 'ext-2', active: false,
        emails: [{ value: 'bob@acme.com', type: 'work', primary: true }] },
      { userName: 'carol@other.org', name: { givenName: 'Carol', familyName: 'Smith' }, displayName: 'carol smith', externalId: 'EXT-3',
        emails: [{ value: 'carol@other.org', type: 'home', primary: true }], 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'Sales' } },
    ];
    for (const u of users) {
      const r = await call({ method: 'POST', path: '/Users', body: u });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      ids[u.userName] = (r.body as any).id;
    }
  });
  after(async () => {
    await database.close();
    await tdb.drop();
  });

  test('userName eq is case-insensitive', async () => {
    assert.deepEqual(await find('userName eq "alice@acme.com"'), ['Alice@Acme.com']);
    assert.deepEqual(await find('USERNAME eq "BOB@ACME.COM"'), ['bob@acme.com']);
  });

  test('externalId eq is case-exact', async () => {
    assert.deepEqual(await find('externalId eq "ext-1"'), ['Alice@Acme.com']);
    assert.deepEqual(await find('externalId eq "ext-3"'), []);
  });

  test('emails.value and emails[...] match any address of a user, not only the primary one', async () => {
    assert.deepEqual(await find('emails.value eq "alice@home.org"'), ['Alice@Acme.com']);
    assert.deepEqual(await find('emails co "acme.com"'), ['Alice@Acme.com', 'bob@acme.com']);
    assert.deepEqual(await find('emails[type eq "work" and value ew "@acme.com"]'), ['Alice@Acme.com', 'bob@acme.com']);
    assert.deepEqual(await find('emails[type eq "home"]'), ['Alice@Acme.com', 'carol@other.org']);
  });

  test('emails.primary: pr matches only e-mails that say primary, eq false only those that say false', async () => {
    const made: string[] = [];
    try {
      for (const u of [
        { userName: 'erin@x.test', emails: [{ value: 'erin@x.test', type: 'work' }] },
        { userName: 'frank@x.test', emails: [{ value: 'frank@x.test', type: 'work', primary: false }, { value: 'frank@y.test', type: 'home', primary: 'True' }] },
      ]) {
        const r = await call({ method: 'POST', path: '/Users', body: u });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        made.push((r.body as any).id);
      }
      // Alice's work address says primary, her home one does not; Erin's says nothing.
      assert.deepEqual(await find('emails.primary pr'), ['Alice@Acme.com', 'bob@acme.com', 'carol@other.org', 'frank@x.test']);
      assert.deepEqual(await find('not (emails.primary pr)'), ['erin@x.test']);
      assert.deepEqual(await find('emails[primary pr and type eq "home"]'), ['carol@other.org', 'frank@x.test']);
      assert.deepEqual(await find('emails[primary eq false]'), ['frank@x.test']);
      assert.deepEqual(await find('emails[primary eq "FALSE"]'), ['frank@x.test']);
      // An e-mail without primary is not primary: ne true finds it.
      assert.deepEqual(await find('emails[type eq "work" and primary ne true]'), ['erin@x.test', 'frank@x.test']);
      assert.deepEqual(await find('emails[primary eq true and value ew "@y.test"]'), ['frank@x.test']);
    } finally {
      for (const id of made) assert.equal((await call({ method: 'DELETE', path: `/Users/${id}` })).status, 204);
    }
  });

  test('and, or, not and parentheses combine', async () => {
    assert.deepEqual(await find('name.familyName eq "smith" and (emails.value co "acme" or emails.value co "other")'), ['Alice@Acme.com', 'carol@other.org']);
    assert.deepEqual(await find('not (name.familyName eq "Smith")'), ['bob@acme.com']);
    assert.deepEqual(await find('displayName eq "CAROL SMITH"'), ['carol@other.org']);
  });

  test('active, sw/ew/co, pr, ne and date comparisons work', async () => {
    assert.deepEqual(await find('active eq false'), ['bob@acme.com']);
    assert.deepEqual(await find('active eq true'), ['Alice@Acme.com', 'carol@other.org']);
    assert.deepEqual(await find('userName sw "a"'), ['Alice@Acme.com']);
    assert.deepEqual(await find('userName ew ".org"'), ['carol@other.org']);
    assert.deepEqual(await find('title pr'), ['Alice@Acme.com']);
    assert.deepEqual(await find('title ne "Engineer"'), ['bob@acme.com', 'carol@other.org']);
    assert.equal((await find('meta.created gt 2015-10-10T14:38:21.8617979-07:00')).length, 3);
    assert.equal((await find('meta.lastModified lt "2000-01-01T00:00:00Z"')).length, 0);
  });

  test('extension and other stored attributes are filtered in SQL too', async () => {
    assert.deepEqual(await find('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "finance"'), ['Alice@Acme.com']);
    assert.deepEqual(await find('phoneNumbers[type eq "work" and value eq "555-1"]'), ['Alice@Acme.com']);
    assert.deepEqual(await find('phoneNumbers.value eq "555-1"'), ['Alice@Acme.com']);
  });

  test('userName eq and emails.value eq compile to index lookups, not scans', async () => {
    const plan = async (filter: string) => {
      const q = database.db.selectFrom('users').select('id').where(compileUserFilter(database.db, parseFilter(filter))).compile();
      if (database.dialect === 'sqlite') return JSON.stringify((await database.db.executeQuery({ ...q, sql: `explain query plan ${q.sql}` } as any)).rows);
      // PostgreSQL would rightly scan three rows; forbid that to see which index the query can use.
      return database.db.transaction().execute(async (trx) => {
        await sql`set local enable_seqscan = off`.execute(trx);
        return JSON.stringify((await trx.executeQuery({ ...q, sql: `explain ${q.sql}` } as any)).rows);
      });
    };
    // The unique index on user_name_norm, not a scan whose filter names the column.
    const byUserName = /USING (COVERING )?INDEX \S+ \(user_name_norm=|Index (Only )?Scan using users_user_name_norm_key/;
    assert.match(await plan('userName eq "x"'), byUserName);
    assert.match(await plan('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"'), byUserName);
    assert.match(await plan('emails.value eq "x"'), /scim_user_emails_value/i);
    assert.match(await plan('displayName eq "X"'), /users_display_name_lower/i);
  });

  test('an unknown cursor and a bad count are 400s with a scimType', async () => {
    const r = await call({ method: 'GET', path: '/Users', query: { cursor: 'nonsense!' } });
    assert.equal(r.status, 400);
    assert.equal((r.body as any).scimType, 'invalidCursor');
    const c = await call({ method: 'GET', path: '/Users', query: { count: 'many' } });
    assert.equal(c.status, 400);
  });

  test('after a PUT, e-mail filters see the new addresses, types and primary flag, and a PUT leaving them as they were keeps them', async () => {
    const dave = { userName: 'dave@zeta.test', emails: [{ value: 'dave@zeta.test', type: 'work', primary: true }] };
    const created = await call({ method: 'POST', path: '/Users', body: dave });
    const id = (created.body as any).id as string;
    const put = async (body: object) => assert.equal((await call({ method: 'PUT', path: `/Users/${id}`, body })).status, 200);
    try {
      await put({ ...dave, active: false });
      assert.deepEqual(await find('emails[type eq "work" and value eq "dave@zeta.test"]'), ['dave@zeta.test']);
      await put({ ...dave, emails: [{ value: 'dave@zeta.test', type: 'private' }] });
      assert.deepEqual(await find('emails[type eq "work" and value eq "dave@zeta.test"]'), []);
      assert.deepEqual(await find('emails[type eq "private" and value eq "dave@zeta.test"]'), ['dave@zeta.test']);
      assert.deepEqual(await find('emails[value eq "dave@zeta.test" and primary eq true]'), []);
      await put({ ...dave, emails: [{ value: 'dave@zeta.test', type: 'private', primary: true }] });
      assert.deepEqual(await find('emails[value eq "dave@zeta.test" and primary eq true]'), ['dave@zeta.test']);
      await put({ ...dave, emails: [{ value: 'd.new@zeta.test', type: 'private', primary: true }] });
      assert.deepEqual(await find('emails.value eq "dave@zeta.test"'), []);
      assert.deepEqual(await find('emails.value eq "d.new@zeta.test"'), ['dave@zeta.test']);
    } finally {
      await call({ method: 'DELETE', path: `/Users/${id}` });
    }
  });
});

describe('filters and sorting agree with RFC 7644 on both databases', () => {
  let tdb: TestDatabase;
  let database: Database;
  const actor = { id: null, name: 'test', source: 'scim' as const };
  const call = (req: Partial<ScimRequest> & { method: string; path: string }) =>
    handleScim({ db: database.db, baseUrl: 'http://x/scim', actor }, { query: {}, ...req });
  const list = async (path: '/Users' | '/Groups', query: Record<string, string>) => {
    const r = await call({ method: 'GET', path, query: { count: '100', ...query } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return (r.body as any).Resources as any[];
  };
  const users = async (filter: string) => (await list('/Users', { filter })).map((u) => u.userName).sort();
  const groups = async (filter: string) => (await list('/Groups', { filter })).map((g) => g.displayName).sort();

  before(async () => {
    tdb = await freshDatabaseUrl();
    database = openDatabase(tdb.url);
    await migrate(database);
    const made = [
      { userName: 'a@audit.test', externalId: 'ext-a', title: 'Eng', emails: [{ value: 'a@audit.test', type: 'work' }] },
      { userName: 'b@audit.test', emails: [{ value: 'b@audit.test' }], phoneNumbers: [{ value: '+1 555', primary: true }] },
      { userName: 'c@audit.test', externalId: 'AbC-123', name: { givenName: 'Carl', familyName: 'Östlund' }, displayName: 'Zoë Ünicode', title: 'Ärztin',
        phoneNumbers: [{ value: '+1 556', primary: false }] },
      { userName: 'd@audit.test', externalId: 'x*y?z[1]_%' },
    ];
    for (const u of made) assert.equal((await call({ method: 'POST', path: '/Users', body: u })).status, 201);
    for (const g of [{ displayName: 'With ext', externalId: 'gx' }, { displayName: 'Without ext' }]) {
      assert.equal((await call({ method: 'POST', path: '/Groups', body: g })).status, 201);
    }
  });
  after(async () => {
    await database.close();
    await tdb.drop();
  });

  test('not() is logical negation: it keeps resources that lack the attribute', async () => {
    assert.deepEqual(await users('not(externalId eq "ext-a")'), ['b@audit.test', 'c@audit.test', 'd@audit.test']);
    assert.deepEqual(await users('not(title eq "Eng")'), ['b@audit.test', 'c@audit.test', 'd@audit.test']);
    assert.deepEqual(await users('not(title eq "Eng" or externalId sw "x")'), ['b@audit.test', 'c@audit.test']);
    assert.deepEqual(await users('not(not(title eq "Eng"))'), ['a@audit.test']);
    assert.deepEqual(await users('emails[not(type eq "work")]'), ['b@audit.test']);
    assert.deepEqual(await users('phoneNumbers[not(value eq "+1 555")]'), ['c@audit.test']);
    assert.deepEqual(await groups('not(externalId eq "gx")'), ['Without ext']);
  });

  test('attribute names qualified with the resource\'s core schema URN are accepted and use the indexed columns', async () => {
    assert.deepEqual(await users('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "A@audit.test"'), ['a@audit.test']);
    assert.deepEqual(await users('URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER:name.givenName eq "carl"'), ['c@audit.test']);
    assert.deepEqual(await users('emails[urn:ietf:params:scim:schemas:core:2.0:User:type eq "work"]'), ['a@audit.test']);
    assert.deepEqual(await groups('urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "with ext"'), ['With ext']);
    for (const [path, filter] of [['/Users', 'urn:ietf:params:scim:schemas:core:2.0:Group:displayName eq "x"'], ['/Groups', 'urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"']] as const) {
      const r = await call({ method: 'GET', path, query: { filter } });
      assert.equal(r.status, 400, filter);
      assert.equal((r.body as any).scimType, 'invalidFilter');
    }
    const q = database.db.selectFrom('users').select('id')
      .where(compileUserFilter(database.db, parseFilter('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "x"'))).compile();
    assert.match(q.sql, /user_name_norm/);
  });

  test('sw, co and ew on case-exact attributes respect case, as eq does', async () => {
    assert.deepEqual(await users('externalId sw "abc"'), []);
    assert.deepEqual(await users('externalId sw "AbC"'), ['c@audit.test']);
    assert.deepEqual(await users('externalId co "bc-"'), []);
    assert.deepEqual(await users('externalId co "bC-"'), ['c@audit.test']);
    assert.deepEqual(await users('externalId ew "c-123"'), []);
    assert.deepEqual(await users('externalId ew "C-123"'), ['c@audit.test']);
    // Pattern characters of LIKE and GLOB in the value are literal.
    assert.deepEqual(await users('externalId co "*y?z[1]_%"'), ['d@audit.test']);
    assert.deepEqual(await users('externalId sw "x?"'), []);
    assert.deepEqual(await users('externalId sw "x_"'), []);
    assert.deepEqual(await users('externalId ew "]_%"'), ['d@audit.test']);
  });

  test('case-insensitive attributes match their exact stored spelling beyond ASCII', async () => {
    assert.deepEqual(await users('displayName eq "Zoë Ünicode"'), ['c@audit.test']);
    assert.deepEqual(await users('displayName eq "zoë Ünicode"'), ['c@audit.test']);
    assert.deepEqual(await users('displayName sw "ZOë Ü"'), ['c@audit.test']);
    assert.deepEqual(await users('title eq "Ärztin"'), ['c@audit.test']);
    assert.deepEqual(await users('name.familyName eq "Östlund"'), ['c@audit.test']);
  });

  test('booleans inside stored multi-valued attributes match true and false', async () => {
    assert.deepEqual(await users('phoneNumbers[primary eq true]'), ['b@audit.test']);
    assert.deepEqual(await users('phoneNumbers.primary eq true'), ['b@audit.test']);
    assert.deepEqual(await users('phoneNumbers[primary eq false]'), ['c@audit.test']);
    assert.deepEqual(await users('phoneNumbers[primary eq "True"]'), ['b@audit.test']);
    assert.deepEqual(await users('phoneNumbers[primary ne true]'), ['c@audit.test']);
  });

  test('sortBy puts resources without the attribute last ascending and first descending', async () => {
    const made: string[] = [];
    try {
      for (const u of [
        { userName: 'none1@sort.test' },
        { userName: 'b@sort.test', displayName: 'Bravo' },
        { userName: 'empty@sort.test', displayName: '' },
        { userName: 'a@sort.test', displayName: 'alpha' },
        { userName: 'none2@sort.test' },
      ]) {
        const r = await call({ method: 'POST', path: '/Users', body: u });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        made.push((r.body as any).id);
      }
      const sorted = async (sortOrder: string) =>
        (await list('/Users', { filter: 'userName ew "@sort.test"', sortBy: 'displayName', sortOrder })).map((u) => u.userName);
      // Those without a value keep the default order (created, then id) among themselves. An empty
      // displayName sorts as the text it is (before 'a'): the order is the index's (users_display_name_lower).
      assert.deepEqual(await sorted('ascending'), ['empty@sort.test', 'a@sort.test', 'b@sort.test', 'none1@sort.test', 'none2@sort.test']);
      assert.deepEqual(await sorted('descending'), ['none1@sort.test', 'none2@sort.test', 'b@sort.test', 'a@sort.test', 'empty@sort.test']);
    } finally {
      for (const id of made) assert.equal((await call({ method: 'DELETE', path: `/Users/${id}` })).status, 204);
    }
  });
  test("another extension's attributes (Entra's custom ones) are filtered: URN and names in any case, numbers and booleans as text, arrays by any value", async () => {
    const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
    const made: string[] = [];
    try {
      for (const u of [
        { userName: 'a1@custom.test', [ACME]: { costCode: 'A1', region: 'EU' } },
        // Stored as sent: the name in another case, and the URN too.
        { userName: 'b2@custom.test', [ACME.toUpperCase()]: { CostCode: 'b2' } },
        { userName: 'n42@custom.test', [ACME]: { costCode: 42 } },
        { userName: 'yes@custom.test', [ACME]: { costCode: true, tags: ['red', 'Green'] } },
        { userName: 'deep@custom.test', [ACME]: { office: { city: 'Zürich' }, costCode: null } },
        { userName: 'none@custom.test' },
      ]) {
        const r = await call({ method: 'POST', path: '/Users', body: u });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        made.push((r.body as any).id);
      }
      const custom = (filter: string) => users(`userName ew "@custom.test" and (${filter})`);
      assert.deepEqual(await custom(`${ACME}:costCode eq "a1"`), ['a1@custom.test']);
      assert.deepEqual(await custom(`${ACME.toUpperCase()}:COSTCODE eq "B2"`), ['b2@custom.test']);
      assert.deepEqual(await custom(`${ACME}:costCode eq 42`), ['n42@custom.test']);
      assert.deepEqual(await custom(`${ACME}:costCode eq "42"`), ['n42@custom.test']);
      assert.deepEqual(await custom(`${ACME}:costCode eq true`), ['yes@custom.test']);
      assert.deepEqual(await custom(`${ACME}:costCode pr`), ['a1@custom.test', 'b2@custom.test', 'n42@custom.test', 'yes@custom.test']);
      assert.deepEqual(await custom(`${ACME}:costCode eq null`), ['deep@custom.test', 'none@custom.test']);
      // ne, and not(eq), keep those without the attribute, as they do for the core schema's.
      assert.deepEqual(await custom(`${ACME}:costCode ne "A1"`), ['b2@custom.test', 'deep@custom.test', 'n42@custom.test', 'none@custom.test', 'yes@custom.test']);
      assert.deepEqual(await custom(`not (${ACME}:costCode eq "a1")`), ['b2@custom.test', 'deep@custom.test', 'n42@custom.test', 'none@custom.test', 'yes@custom.test']);
      assert.deepEqual(await custom(`${ACME}:costCode sw "a" or ${ACME}:costCode ew "2"`), ['a1@custom.test', 'b2@custom.test', 'n42@custom.test']);
      assert.deepEqual(await custom(`${ACME}:costCode co "1" and ${ACME}:region eq "eu"`), ['a1@custom.test']);
      assert.deepEqual(await custom(`${ACME}:tags eq "green"`), ['yes@custom.test']);
      assert.deepEqual(await custom(`${ACME}:office.city eq "zürich"`), ['deep@custom.test']);
      assert.deepEqual(await custom(`${ACME}:office pr`), [], 'an object holds no value to compare');
      for (const filter of [`${ACME}:tags[value eq "red"]`, 'urn:example:other:2.0:User:costCode eq "A1"']) {
        const r = await call({ method: 'GET', path: '/Users', query: { filter } });
        assert.equal(r.status, 400, filter);
        assert.equal((r.body as any).scimType, 'invalidFilter');
      }
    } finally {
      for (const id of made) assert.equal((await call({ method: 'DELETE', path: `/Users/${id}` })).status, 204);
    }
  });

  test("a group's other extension is filtered as a user's is", async () => {
    const REGION = 'urn:ietf:params:scim:schemas:extension:acme:2.0:Group';
    const made: string[] = [];
    try {
      for (const g of [{ displayName: 'Ext EU', [REGION]: { region: 'EU' } }, { displayName: 'Ext US', [REGION]: { region: 'US' } }, { displayName: 'Ext none' }]) {
        const r = await call({ method: 'POST', path: '/Groups', body: g });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        made.push((r.body as any).id);
      }
      assert.deepEqual(await groups(`${REGION}:region eq "eu"`), ['Ext EU']);
      assert.deepEqual(await groups(`displayName sw "Ext " and ${REGION}:region ne "eu"`), ['Ext US', 'Ext none']);
      const sorted = await list('/Groups', { filter: 'displayName sw "Ext "', sortBy: `${REGION}:region`, sortOrder: 'descending' });
      assert.deepEqual(sorted.map((g) => g.displayName), ['Ext none', 'Ext US', 'Ext EU']);
    } finally {
      for (const id of made) assert.equal((await call({ method: 'DELETE', path: `/Groups/${id}` })).status, 204);
    }
  });

  test('sortBy an attribute kept as sent (title, the enterprise extension, a multi-valued one by its primary value, another extension) sorts by it, ignoring case', async () => {
    const ENT = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
    const ACME = 'urn:ietf:params:scim:schemas:extension:acme:2.0:User';
    const made: string[] = [];
    try {
      for (const u of [
        { userName: 'u1@stored-sort.test', title: 'manager', [ENT]: { department: 'Sales' }, phoneNumbers: [{ value: '+3 000' }, { value: '+1 000', primary: true }], [ACME]: { costCode: 'C' } },
        { userName: 'u2@stored-sort.test', title: 'Analyst', [ENT]: { department: 'finance' }, phoneNumbers: [{ value: '+2 000' }, { value: '+0 000' }], [ACME]: { COSTCODE: 'a' } },
        { userName: 'u3@stored-sort.test', title: '' },
        { userName: 'u4@stored-sort.test', title: 'Director', [ENT]: { department: 'Engineering', manager: { value: 'zz' } }, phoneNumbers: [{ value: '+4 000', primary: false }], [ACME]: { costCode: 'B' } },
      ]) {
        const r = await call({ method: 'POST', path: '/Users', body: u });
        assert.equal(r.status, 201, JSON.stringify(r.body));
        made.push((r.body as any).id);
      }
      const sorted = async (sortBy: string, sortOrder = 'ascending') =>
        (await list('/Users', { filter: 'userName ew "@stored-sort.test"', sortBy, sortOrder })).map((u) => u.userName.slice(0, 2)).join(' ');
      // An empty title sorts with the missing values: last ascending, first descending.
      assert.equal(await sorted('title'), 'u2 u4 u1 u3');
      assert.equal(await sorted('TITLE', 'descending'), 'u3 u1 u4 u2');
      assert.equal(await sorted('urn:ietf:params:scim:schemas:core:2.0:User:title'), 'u2 u4 u1 u3');
      assert.equal(await sorted(`${ENT}:department`), 'u4 u2 u1 u3');
      assert.equal(await sorted(`${ENT}:manager.value`, 'descending'), 'u1 u2 u3 u4');
      // The primary number, else the first: +1 (u1's primary), +2 (u2's first), +4.
      assert.equal(await sorted('phoneNumbers'), 'u1 u2 u4 u3');
      assert.equal(await sorted('phoneNumbers.value', 'descending'), 'u3 u4 u2 u1');
      assert.equal(await sorted(`${ACME}:costCode`), 'u2 u4 u1 u3');
      assert.equal(await sorted(`${ACME.toUpperCase()}:CostCode`, 'descending'), 'u3 u1 u4 u2');
      assert.equal(await sorted('urn:ietf:params:scim:schemas:core:2.0:User:userName', 'descending'), 'u4 u3 u2 u1');
      // Attributes with nothing to sort by keep the default order (created, then id).
      for (const sortBy of ['name', 'nosuch', 'urn:example:other:2.0:User:x', `${ENT}:manager`, 'user name']) assert.equal(await sorted(sortBy), 'u1 u2 u3 u4', sortBy);
    } finally {
      for (const id of made) assert.equal((await call({ method: 'DELETE', path: `/Users/${id}` })).status, 204);
    }
  });
});

describe('filter forms that cannot match are either supported or a 400', () => {
  let tdb: TestDatabase;
  let database: Database;
  const actor = { id: null, name: 'test', source: 'scim' as const };
  const call = (req: Partial<ScimRequest> & { method: string; path: string }) =>
    handleScim({ db: database.db, baseUrl: 'http://x/scim', actor }, { query: {}, ...req });
  const get = (path: string, filter: string) => call({ method: 'GET', path, query: { filter, count: '100' } });
  const names = async (path: string, filter: string) => {
    const r = await get(path, filter);
    assert.equal(r.status, 200, `${filter}: ${JSON.stringify(r.body)}`);
    return ((r.body as any).Resources as any[]).map((x) => x.userName ?? x.displayName).sort();
  };

  before(async () => {
    tdb = await freshDatabaseUrl();
    database = openDatabase(tdb.url);
    await migrate(database);
    for (const u of [{ userName: 'alice@forms.test', name: { givenName: 'Alice', familyName: 'Smith' } }, { userName: 'bob@forms.test' }]) {
      assert.equal((await call({ method: 'POST', path: '/Users', body: u })).status, 201);
    }
    assert.equal((await call({ method: 'POST', path: '/Groups', body: { displayName: 'Forms' } })).status, 201);
  });
  after(async () => {
    await database.close();
    await tdb.drop();
  });

  test('meta.location and meta.version are present on every resource; comparing them is a 400', async () => {
    assert.deepEqual(await names('/Users', 'meta.location pr'), ['alice@forms.test', 'bob@forms.test']);
    assert.deepEqual(await names('/Users', 'meta.version pr and meta pr'), ['alice@forms.test', 'bob@forms.test']);
    assert.deepEqual(await names('/Groups', 'meta.location pr'), ['Forms']);
    for (const [path, filter] of [['/Users', 'meta.location eq "x"'], ['/Users', 'meta.nothing pr'], ['/Groups', 'meta.version eq "W/\\"1\\""']]) {
      const r = await get(path, filter);
      assert.equal(r.status, 400, filter);
      assert.equal((r.body as any).scimType, 'invalidFilter', filter);
    }
  });

  test('a value filter on a complex attribute that is not multi-valued filters its sub-attributes', async () => {
    assert.deepEqual(await names('/Users', 'name[givenName eq "alice"]'), ['alice@forms.test']);
    // The core URN inside the brackets is taken off before the attribute is read as name's (it was a 400 naming "givenName.undefined").
    assert.deepEqual(await names('/Users', 'name[urn:ietf:params:scim:schemas:core:2.0:User:givenName eq "alice"]'), ['alice@forms.test']);
    assert.deepEqual(await names('/Users', 'name[givenName sw "A" and familyName eq "Smith"]'), ['alice@forms.test']);
    assert.deepEqual(await names('/Users', 'name[not(givenName eq "Alice")]'), ['bob@forms.test']);
    assert.deepEqual(await names('/Users', 'meta[created pr]'), ['alice@forms.test', 'bob@forms.test']);
    const r = await get('/Users', 'userName[value eq "x"]');
    assert.equal(r.status, 400);
    assert.equal((r.body as any).scimType, 'invalidFilter');
  });

  test('members and groups sub-attributes other than value are a 400', async () => {
    for (const [path, filter] of [['/Groups', 'members.display eq "x"'], ['/Groups', 'members.type eq "User"'], ['/Users', 'groups.display eq "x"']]) {
      const r = await get(path, filter);
      assert.equal(r.status, 400, filter);
      assert.equal((r.body as any).scimType, 'invalidFilter', filter);
    }
  });
});
