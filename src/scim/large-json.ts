// Parsing a large SCIM body without holding the event loop for the whole parse. A custom Okta app
// PUTs a group's whole member list with every membership change: for 102,100 members that is 8-10 MB
// of JSON, and one JSON.parse of it took 36-121 ms (9.1 MB, in-process), during which no other request
// was answered. Almost all of such a body is one array, the value of the object's `members`: it is
// parsed a slice of elements at a time, with a turn of the event loop between slices, and the rest of
// the object on its own. The array is found by the pass that checks the body's depth (scanJson). The outcome is exactly JSON.parse's: the same value for valid JSON, a
// SyntaxError otherwise.
import { randomBytes } from 'node:crypto';
import { nextTurn } from '../platform/next-turn.ts';

/** Elements of the array parsed in one turn of the event loop. */
const SLICE = 5_000;

/** Put in the array's place while the rest of the object is parsed; no client can know it. */
const PLACEHOLDER = `\u0001slices:${randomBytes(12).toString('hex')}`;

/** Where the array value of the object's top-level `key` lies in `text`, with the commas that end every SLICEth element. */
export interface Located {
  /** Index of the array's `[`, and of its `]`. */
  open: number;
  close: number;
  /** Indexes of the commas between the slices of elements. */
  cuts: number[];
}

const isBlank = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** The index of the quote that ends the JSON string opening at `open` (one not escaped by a backslash), or -1. */
function closingQuote(text: string, open: number): number {
  for (let from = open; ; ) {
    const q = text.indexOf('"', from + 1);
    if (q < 0) return -1;
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return q;
    from = q;
  }
}

/** What one pass over a JSON text found: whether it nests too deep, and where the array under `key` lies. */
export interface Scanned {
  /** Arrays and objects nest deeper than the `maxDepth` asked for (the pass stopped there). */
  tooDeep: boolean;
  /**
   * The array under the top-level `key` of the object the text is; null when no key was asked for, the
   * text is not an object, has no such array, or is not well-formed enough to tell (JSON.parse then
   * has the last word).
   */
  array: Located | null;
}

/**
 * One pass over a JSON text without parsing it: how deep it nests (JSON.parse accepts any depth, but
 * every recursive walk after it, JSON.stringify included, overflows the stack on a body like `[[[[…]]]]`
 * 100,000 deep) and, when `key` is given, where the array under that top-level key lies, cut after
 * every `slice`th element.
 */
export function scanJson(text: string, maxDepth: number, key?: string, slice = SLICE): Scanned {
  const quoted = key === undefined ? null : JSON.stringify(key);
  let depth = 0;
  let found: Located | null = null;
  /** The array cannot be told (see Scanned.array); the pass goes on for the depth. */
  let unclear = quoted === null;
  /** At depth 1: whether the next string is a member's name (it follows `{` or `,`). */
  let nameNext = false;
  /** Where the array under `key` opens, once its name and colon are read. */
  let opensAt = -1;
  let inArray = false;
  /** Commas between the found array's elements so far. */
  let commas = 0;
  let first = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (isBlank(c)) continue;
    if (first && c !== 0x7b /* { */) unclear = true;
    first = false;
    if (c === 0x22 /* " */) {
      const start = i;
      i = closingQuote(text, i);
      if (i < 0) return { tooDeep: false, array: null }; // unterminated: JSON.parse will refuse it
      if (!unclear && depth === 1 && nameNext && start + quoted!.length === i + 1 && text.startsWith(quoted!, start)) {
        // Named twice, the last array is the one found. Whether JSON.parse keeps that one (the name
        // may come again later, with another value or written with escapes) parseInSlices checks by
        // its placeholder.
        let j = i + 1;
        while (j < text.length && isBlank(text.charCodeAt(j))) j++;
        if (text.charCodeAt(j) !== 0x3a /* : */) unclear = true;
        else {
          j++;
          while (j < text.length && isBlank(text.charCodeAt(j))) j++;
          if (text.charCodeAt(j) === 0x5b /* [ */) opensAt = j;
        }
      }
      nameNext = false;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return { tooDeep: true, array: null };
      if (depth === 1) nameNext = true; // the top-level object begins
      if (i === opensAt) {
        found = { open: i, close: -1, cuts: [] };
        inArray = true;
      }
    } else if (c === 0x7d || c === 0x5d) {
      if (inArray && depth === 2) {
        if (c === 0x5d) found!.close = i;
        else unclear = true;
        inArray = false;
      }
      if (--depth < 0) unclear = true;
    } else if (c === 0x2c /* , */) {
      if (depth === 1) nameNext = true;
      else if (inArray && depth === 2 && ++commas % slice === 0) found!.cuts.push(i);
    }
  }
  return { tooDeep: false, array: !unclear && depth === 0 && found && found.close >= 0 ? found : null };
}

/**
 * JSON.parse(text), with the array under the top-level `key` (`at`, as scanJson found it, when there is
 * one) parsed a slice of elements at a time, a turn of the event loop after each. Throws SyntaxError
 * when `text` is not JSON.
 */
export async function parseInSlices(text: string, key: string, at: Located | null): Promise<unknown> {
  if (!at) return JSON.parse(text);
  // The object without the array (in its place, a placeholder): everything outside it is checked here.
  const shell = JSON.parse(`${text.slice(0, at.open)}${JSON.stringify(PLACEHOLDER)}${text.slice(at.close + 1)}`) as Record<string, unknown>;
  // `key` written another way too (with escapes), which JSON.parse would take instead if it comes last.
  if (shell[key] !== PLACEHOLDER) return JSON.parse(text);
  const elements: unknown[] = [];
  const bounds = [at.open, ...at.cuts, at.close];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const part = text.slice(bounds[k] + 1, bounds[k + 1]);
    // An array of blanks is empty; otherwise no slice may be (`[1,]`, `[,1]`: not JSON).
    if (part.trim() === '') {
      if (bounds.length === 2) break;
      throw new SyntaxError('Unexpected "," or "]" in JSON');
    }
    for (const e of JSON.parse(`[${part}]`) as unknown[]) elements.push(e);
    await nextTurn();
  }
  shell[key] = elements;
  return shell;
}
