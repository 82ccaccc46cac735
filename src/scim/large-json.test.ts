// A large body's `members` parsed a slice at a time: always exactly what JSON.parse makes of the text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseInSlices, scanJson } from './large-json.ts';

/** The outcome of a parse: its value, or that it threw a SyntaxError. */
async function outcome(parse: () => unknown): Promise<{ value: unknown } | { error: string }> {
  try {
    return { value: await parse() };
  } catch (err) {
    assert.ok(err instanceof SyntaxError, `a SyntaxError, not ${String(err)}`);
    return { error: 'SyntaxError' };
  }
}

async function sameAsJsonParse(text: string, slice: number): Promise<void> {
  assert.deepStrictEqual(await outcome(() => parseInSlices(text, 'members', scanJson(text, 64, 'members', slice).array)), await outcome(() => JSON.parse(text)), `${JSON.stringify(text)} in slices of ${slice}`);
}

const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const member = (i: number) => ({ value: `id-${i}`, display: `Name, "quoted" [${i}] {x}\\`, type: 'User' });

test('valid bodies: the same value as JSON.parse, whatever the number of members and the size of a slice', async () => {
  const texts: string[] = [];
  for (const n of [0, 1, 2, 3, 4, 5, 7, 12]) {
    const members = Array.from({ length: n }, (_, i) => member(i));
    texts.push(JSON.stringify({ schemas: [GROUP], id: 'g', displayName: 'G', members }));
    texts.push(JSON.stringify({ members, displayName: 'first' }, null, 2));
    texts.push(`\r\n { "members" \t:\n [ ${members.map((m) => JSON.stringify(m)).join(' ,\n ')} ] , "x" : [1,[2,{"members":[3]}]] }\n`);
  }
  texts.push(
    '{"members":null}',
    '{"members":"[1,2]"}',
    '{"a":{"members":[1,2,3]},"b":[1,2,3]}',
    '{"members":[1,2],"members":[3]}',
    '{"members":[1,2],"members":null}',
    '{"members":null,"members":[1,2,3]}',
    // The same name written with an escape: JSON.parse keeps whichever comes last.
    '{"members":[1,2,3],"memb\\u0065rs":[4]}',
    '{"memb\\u0065rs":[4],"members":[1,2,3]}',
    '{"x":"\\\\","members":["\\\\\\"",",","]"]}',
    '[{"members":[1,2]}]',
    '{"members":[[1,2],[3,[4,5]],{"a":[6]}],"z":{}}',
  );
  for (const text of texts) for (const slice of [1, 2, 3, 5000]) await sameAsJsonParse(text, slice);
  // The array is found, and cut after every slice-th element.
  const text = JSON.stringify({ schemas: [GROUP], members: Array.from({ length: 7 }, (_, i) => member(i)) });
  const at = scanJson(text, 64, 'members', 3).array!;
  assert.equal(text[at.open], '[');
  assert.equal(text[at.close], ']');
  assert.equal(at.cuts.length, 2);
});

test('every one-character change of a body is refused or accepted exactly as JSON.parse does, with the same value', async () => {
  const base = JSON.stringify({ schemas: [GROUP], displayName: 'G', members: [member(1), { value: 'b' }, { value: 'c' }, 4, [5]] });
  const inserts = [',', ']', '[', '"', '}', '{', ' ', '\\', ':', '1'];
  let invalid = 0;
  for (let i = 0; i <= base.length; i++) {
    const changed = [base.slice(0, i) + base.slice(i + 1), ...inserts.map((c) => base.slice(0, i) + c + base.slice(i))];
    for (const text of changed) {
      for (const slice of [1, 2, 5000]) await sameAsJsonParse(text, slice);
      try {
        JSON.parse(text);
      } catch {
        invalid++;
      }
    }
  }
  assert.ok(invalid > base.length, `most changes make it invalid (${invalid})`);
});

test('a large array is parsed over several turns of the event loop, so other work runs in between', async () => {
  const text = JSON.stringify({ schemas: [GROUP], members: Array.from({ length: 20_000 }, (_, i) => member(i)) });
  let turns = 0;
  let counting = true;
  const count = () => {
    turns++;
    if (counting) setImmediate(count);
  };
  setImmediate(count);
  const parsed = (await parseInSlices(text, 'members', scanJson(text, 64, 'members').array)) as { members: unknown[] };
  counting = false;
  assert.equal(parsed.members.length, 20_000);
  assert.deepEqual(parsed, JSON.parse(text));
  assert.ok(turns >= 4, `other work ran in ${turns} turns meanwhile`);
});

test('the same pass tells a body nested too deep, inside the array or out of it, and then finds no array', () => {
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  for (const text of [`{"members":[${deep(63)}]}`, `{"x":${deep(64)},"members":[1]}`]) assert.deepEqual(scanJson(text, 64, 'members'), { tooDeep: true, array: null }, text);
  assert.equal(scanJson(`{"members":[${deep(62)}]}`, 64, 'members').tooDeep, false);
  assert.equal(scanJson(`{"members":[${deep(62)}]}`, 64).tooDeep, false);
  assert.equal(scanJson(`{"members":[${deep(62)}]}`, 64).array, null, 'no key asked for, no array looked for');
});
