// JSON text written elsewhere (by the database) carried inside a resource until the response is
// serialised. A group of 100,000 members is then one string that SQLite wrote, not 100,000 rows
// turned into objects here and serialised again (see membersOf in scim.groups.ts); a user's stored
// attributes go out as the text they were stored as (toResource in scim.users.ts).
// JSON.stringify calls toJSON, which leaves a marker in the text; stringifyResponse puts the text
// in its place. The marker holds a random part chosen at start-up, so no client-supplied string can
// be taken for one (and U+0001 in a client's string is written escaped, as `\u0001`, anyway).
import { randomBytes } from 'node:crypto';
import type { Json } from './scim.attributes.ts';

const MARK = `\u0001json-text:${randomBytes(12).toString('hex')}`;
const MARK_IN_TEXT = JSON.stringify(MARK);

/** The property a JsonMembers is put under; never the first one of its object. */
export const MEMBERS_KEY = `\u0001json-members:${randomBytes(12).toString('hex')}`;
/** How that property reads in JSON.stringify's text, up to its value's marker. */
const MEMBERS_IN_TEXT = `,${JSON.stringify(MEMBERS_KEY)}:`;

/** The JsonTexts whose markers the JSON.stringify under way has written, in the order written. */
let written: JsonText[] = [];

export class JsonText {
  /** The text in the pieces it was made of (a large group's members: one piece per chunk read), in order. */
  readonly pieces: readonly string[];

  constructor(text: string | readonly string[]) {
    this.pieces = typeof text === 'string' ? [text] : text;
  }

  get text(): string {
    return this.pieces.length === 1 ? this.pieces[0] : this.pieces.join('');
  }

  /** The value itself, for the rare projection that picks sub-attributes out of it. */
  parse(): Json {
    return JSON.parse(this.text) as Json;
  }

  toJSON(): string {
    written.push(this);
    return MARK;
  }
}

/**
 * The members of a JSON object's text (`{"a":1,"b":2}`), written into the object that holds this
 * under MEMBERS_KEY, in its place: `{"x":0,[MEMBERS_KEY]: new JsonMembers('{"a":1}')}` is written as
 * `{"x":0,"a":1}`. Their names must not be the holder's other names.
 */
export class JsonMembers extends JsonText {}

/**
 * JSON.stringify(value), with each JsonText inside it written as its text, in pieces: the text is
 * their concatenation. A JsonText's pieces stay pieces, so a large answer can be sent a piece at a
 * time without ever being one string.
 */
export function responsePieces(value: unknown): string[] {
  if (written.length) written = [];
  const text = JSON.stringify(value);
  if (!written.length) return [text];
  const parts = text.split(MARK_IN_TEXT);
  if (parts.length !== written.length + 1) throw new Error(`${written.length} JSON texts but ${parts.length - 1} markers`);
  const out: string[] = [];
  for (let i = 0; i < written.length; i++) {
    const part = parts[i];
    if (part.endsWith(MEMBERS_IN_TEXT)) {
      // `,"<key>":<marker>` becomes `,<members>`, or nothing for an object without any.
      const t = written[i].text;
      const members = t.slice(t.indexOf('{') + 1, t.lastIndexOf('}'));
      out.push(part.slice(0, -MEMBERS_IN_TEXT.length) + (members.trim() ? `,${members}` : ''));
    } else out.push(part, ...written[i].pieces);
  }
  written = [];
  out.push(parts[parts.length - 1]);
  return out;
}

/** JSON.stringify(value), with each JsonText inside it written as its text. */
export function stringifyResponse(value: unknown): string {
  return responsePieces(value).join('');
}

/** `obj` with a JsonMembers under MEMBERS_KEY parsed into its members, in its place (for a projection to pick from). */
export function withMembersParsed<T extends object>(obj: T): T {
  const spliced = (obj as Record<string, unknown>)[MEMBERS_KEY];
  if (!(spliced instanceof JsonMembers)) return obj;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    if (k === MEMBERS_KEY) Object.assign(out, spliced.parse());
    else out[k] = v;
  }
  return out as T;
}

/**
 * The names of the object in `text` (JSON text of an object) that begin with `urn:`, in order: the
 * extension schemas a stored resource holds, found without parsing it: a string at depth 1 is a name
 * when `{` or `,` comes before it (a value follows `:`). `text` must be valid JSON.
 */
export function topLevelUrnKeys(text: string): string[] {
  const keys: string[] = [];
  if (!text.includes('"urn:')) return keys;
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22 /* " */) {
      const start = i;
      for (i++; i < text.length && text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c /* \ */) i++;
      if (depth === 1 && text.startsWith('"urn:', start) && isNameStart(text, start)) keys.push(JSON.parse(text.slice(start, i + 1)) as string);
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) depth++;
    else if (c === 0x7d /* } */ || c === 0x5d /* ] */) depth--;
  }
  return keys;
}

/** Whether the string starting at `i` is a member's name: the last character before it (blanks aside) is `{` or `,`. */
function isNameStart(text: string, i: number): boolean {
  let j = i - 1;
  while (j >= 0 && (text[j] === ' ' || text[j] === '\n' || text[j] === '\r' || text[j] === '\t')) j--;
  return j >= 0 && (text[j] === '{' || text[j] === ',');
}

/**
 * Whether `text` is exactly one JSON object (RFC 8259), blanks around it allowed: what JSON.parse
 * accepts, checked without building anything. A user's stored attributes are written into a response
 * as they are (JsonMembers); a text edited outside Ledgerline (`{"title":"x",}`) would otherwise make
 * the whole response invalid JSON. Iterative, so no nesting is too deep for it.
 */
export function isJsonObjectText(text: string): boolean {
  const n = text.length;
  let i = skipBlanks(text, 0);
  if (text.charCodeAt(i) !== 0x7b /* { */) return false;
  // Open containers, innermost last: true for an object, false for an array.
  const open: boolean[] = [];
  // What comes next: a value, or (just after `{` / `[`) a value or the close.
  for (;;) {
    // At the start of a value (or, in an object, of a member's name).
    let c = text.charCodeAt(i);
    if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      const isObject = c === 0x7b;
      open.push(isObject);
      i = skipBlanks(text, i + 1);
      c = text.charCodeAt(i);
      if (c === (isObject ? 0x7d : 0x5d)) {
        open.pop();
        i++;
      } else {
        if (isObject && (i = memberName(text, i)) < 0) return false;
        continue;
      }
    } else if (c === 0x22 /* " */) {
      if ((i = stringEnd(text, i)) < 0) return false;
    } else if (c === 0x2d /* - */ || (c >= 0x30 && c <= 0x39)) {
      if ((i = numberEnd(text, i)) < 0) return false;
    } else if (text.startsWith('true', i)) i += 4;
    else if (text.startsWith('false', i)) i += 5;
    else if (text.startsWith('null', i)) i += 4;
    else return false;
    // After a value: `,` and the next one, or the close of its container (and maybe more closes).
    for (;;) {
      if (!open.length) return skipBlanks(text, i) === n;
      i = skipBlanks(text, i);
      c = text.charCodeAt(i);
      const isObject = open[open.length - 1];
      if (c === 0x2c /* , */) {
        i = skipBlanks(text, i + 1);
        if (isObject && (i = memberName(text, i)) < 0) return false;
        break;
      }
      if (c !== (isObject ? 0x7d : 0x5d)) return false;
      open.pop();
      i++;
    }
  }
}

function skipBlanks(text: string, i: number): number {
  for (;;) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return i;
    i++;
  }
}

/** A member's name and its `:` from `i`, to the start of its value; -1 when there is none. */
function memberName(text: string, i: number): number {
  if (text.charCodeAt(i) !== 0x22) return -1;
  if ((i = stringEnd(text, i)) < 0) return -1;
  i = skipBlanks(text, i);
  return text.charCodeAt(i) === 0x3a /* : */ ? skipBlanks(text, i + 1) : -1;
}

/** The index after the string that starts (with `"`) at `i`; -1 when it is not one. */
function stringEnd(text: string, i: number): number {
  const n = text.length;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) return i + 1;
    if (c < 0x20) return -1;
    if (c === 0x5c /* \ */) {
      const e = text.charCodeAt(++i);
      if (e === 0x75 /* u */) {
        for (let k = 1; k <= 4; k++) if (!isHex(text.charCodeAt(i + k))) return -1;
        i += 4;
      } else if (!(e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74)) return -1;
    }
  }
  return -1;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;
const isHex = (c: number) => isDigit(c) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);

/** The index after the number that starts at `i` (`-?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?`); -1 when it is not one. */
function numberEnd(text: string, i: number): number {
  if (text.charCodeAt(i) === 0x2d) i++;
  if (text.charCodeAt(i) === 0x30) i++;
  else if (isDigit(text.charCodeAt(i))) while (isDigit(text.charCodeAt(i))) i++;
  else return -1;
  if (text.charCodeAt(i) === 0x2e /* . */) {
    if (!isDigit(text.charCodeAt(++i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  const e = text.charCodeAt(i);
  if (e === 0x65 || e === 0x45) {
    const s = text.charCodeAt(++i);
    if (s === 0x2b || s === 0x2d) i++;
    if (!isDigit(text.charCodeAt(i))) return -1;
    while (isDigit(text.charCodeAt(i))) i++;
  }
  return i;
}
