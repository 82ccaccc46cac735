// JSON text written elsewhere (by the database) carried inside a resource until the response is
// serialised. A group of 100,000 members is then one string that SQLite wrote, not 100,000 rows
// turned into objects here and serialised again (see membersOf in scim.groups.ts).
// JSON.stringify calls toJSON, which leaves a marker in the text; stringifyResponse puts the text
// in its place. The marker holds a random part chosen at start-up, so no client-supplied string can
// be taken for one (and U+0001 in a client's string is written escaped, as `\u0001`, anyway).
import { randomBytes } from 'node:crypto';
import type { Json } from './scim.attributes.ts';

const MARK = `\u0001json-text:${randomBytes(12).toString('hex')}`;
const MARK_IN_TEXT = JSON.stringify(MARK);

/** The texts whose markers the JSON.stringify under way has written, in the order written. */
let written: string[] = [];

export class JsonText {
  constructor(readonly text: string) {}

  /** The value itself, for the rare projection that picks sub-attributes out of it. */
  parse(): Json {
    return JSON.parse(this.text) as Json;
  }

  toJSON(): string {
    written.push(this.text);
    return MARK;
  }
}

/** JSON.stringify(value), with each JsonText inside it written as its text. */
export function stringifyResponse(value: unknown): string {
  if (written.length) written = [];
  const text = JSON.stringify(value);
  if (!written.length) return text;
  const parts = text.split(MARK_IN_TEXT);
  if (parts.length !== written.length + 1) throw new Error(`${written.length} JSON texts but ${parts.length - 1} markers`);
  let out = parts[0];
  for (let i = 0; i < written.length; i++) out += written[i] + parts[i + 1];
  written = [];
  return out;
}
