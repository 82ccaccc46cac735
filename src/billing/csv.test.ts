import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCsv, toCsv } from './csv.ts';

test('csv parsing handles quotes, doubled quotes, CRLF and a byte-order mark', () => {
  const rows = parseCsv('\ufeffa,b,c\r\n"x, y","say ""hi""",3\r\n\r\nlast,row,\n');
  assert.deepEqual(rows.map((r) => r.cells), [['a', 'b', 'c'], ['x, y', 'say "hi"', '3'], ['last', 'row', '']]);
  assert.deepEqual(rows.map((r) => r.line), [1, 2, 4]);
});

test('a quoted field may span lines and the next row keeps its true line number', () => {
  const rows = parseCsv('h\n"multi\nline"\nnext');
  assert.deepEqual(rows.map((r) => [r.line, r.cells[0]]), [[1, 'h'], [2, 'multi\nline'], [4, 'next']]);
});

test('a file without a trailing newline keeps its last row', () => {
  assert.deepEqual(parseCsv('a,b\n1,2').map((r) => r.cells), [['a', 'b'], ['1', '2']]);
});

test('exports quote what needs quoting and neutralise spreadsheet formulas', () => {
  assert.equal(toCsv(['name', 'n'], [['=HYPERLINK("x")', 5], ['a,b', -3]]), 'name,n\r\n"\'=HYPERLINK(""x"")",5\r\n"a,b",-3\r\n');
});
