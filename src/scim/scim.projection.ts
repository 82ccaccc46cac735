// `attributes` / `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9) applied to an outgoing resource.
// Also tells the services whether an expensive attribute (group members, user groups) is wanted,
// so `excludedAttributes=members` never touches the membership table.
import { JsonText, withMembersParsed } from './json-text.ts';
import { getProp, matches } from './filter.eval.ts';
import { parsePatchPath, type Filter } from './filter.parser.ts';
import { findKey, isObj, type Json, type Resource } from './scim.attributes.ts';
import { URN } from './scim.schemas.ts';

interface Sel {
  uri?: string;
  name: string;
  sub?: string;
  filter?: Filter;
}

export interface Projection {
  include: Sel[] | null;
  exclude: Sel[];
}

/** Splits on commas outside brackets. */
function splitList(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const c of s) {
    if (c === '[') depth++;
    if (c === ']') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter(Boolean);
}

function parseSel(raw: string, kind: 'User' | 'Group'): Sel {
  const core = kind === 'User' ? URN.user : URN.group;
  let s = raw;
  if (s.toLowerCase().startsWith(core.toLowerCase() + ':')) s = s.slice(core.length + 1);
  if (s.toLowerCase() === URN.enterprise.toLowerCase()) return { name: URN.enterprise };
  const p = parsePatchPath(s);
  return { uri: p.attr.uri, name: p.attr.name, sub: p.attr.sub ?? p.subAfterFilter, filter: p.filter };
}

export function parseProjection(kind: 'User' | 'Group', attributes?: string | string[], excluded?: string | string[]): Projection {
  const list = (v?: string | string[]) => (Array.isArray(v) ? v.flatMap(splitList) : v ? splitList(v) : []);
  const inc = list(attributes).map((a) => parseSel(a, kind));
  return { include: inc.length ? inc : null, exclude: list(excluded).map((a) => parseSel(a, kind)) };
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** True when the top-level attribute `name` will be in the output. */
export function wants(p: Projection, name: string): boolean {
  if (p.exclude.some((s) => !s.uri && !s.sub && same(s.name, name))) return false;
  if (!p.include) return true;
  return p.include.some((s) => !s.uri && same(s.name, name));
}

/** True when `attributes` or `excludedAttributes` name part of the top-level attribute `name` (a sub-attribute or a filter of its values). */
export function wantsPart(p: Projection, name: string): boolean {
  return [...(p.include ?? []), ...p.exclude].some((s) => !s.uri && same(s.name, name) && Boolean(s.sub || s.filter));
}

const ALWAYS = new Set(['id', 'schemas']);

export function project(res: Resource, p: Projection): Resource {
  if (!p.include && p.exclude.length === 0) return res;
  // Attributes still in their stored text (toResource in scim.users.ts) are picked from as objects.
  res = withMembersParsed(res);
  let out: Resource;
  if (p.include) {
    out = {};
    for (const k of Object.keys(res)) if (ALWAYS.has(k)) out[k] = res[k];
    for (const sel of p.include) {
      const s = asWhole(res, sel);
      const extKey = s.uri ? findKey(res, s.uri) : undefined;
      const holder = s.uri ? (extKey ? res[extKey] : undefined) : res;
      if (!isObj(holder)) continue;
      const key = findKey(holder, s.name);
      if (!key) continue;
      let val = holder[key];
      if (s.filter && Array.isArray(val)) val = val.filter((e) => matches(e, s.filter!));
      if (s.sub) {
        if (Array.isArray(val)) val = val.map((e) => (isObj(e) ? pick(e, s.sub!) : e));
        else if (val && typeof val === 'object') val = pick(val as Record<string, Json>, s.sub);
      }
      if (extKey) {
        const ext = (out[extKey] ??= {}) as Record<string, Json>;
        ext[key] = merge(ext[key], val);
      } else out[key] = merge(out[key], val);
    }
  } else out = { ...res };
  for (const sel of p.exclude) {
    const s = asWhole(out, sel);
    const extKey = s.uri ? findKey(out, s.uri) : undefined;
    let holder = s.uri ? (extKey ? out[extKey] : undefined) : out;
    if (!isObj(holder)) continue;
    // An extension's attribute is taken out of a copy: `out` may share the extension's object with `res`.
    if (extKey) holder = out[extKey] = { ...holder };
    const key = findKey(holder, s.name);
    if (!key || ALWAYS.has(key)) continue;
    if (s.sub) {
      const v = holder[key];
      const drop = (e: Json) => {
        if (isObj(e)) {
          const c = { ...e };
          const sk = findKey(c, s.sub!);
          if (sk) delete c[sk];
          return c;
        }
        return e;
      };
      holder[key] = Array.isArray(v) ? v.map(drop) : drop(v);
    } else delete holder[key];
  }
  return out;
}

/**
 * A selection of a whole extension (`urn:…:acme:2.0:User`, parsed as uri `urn:…:acme:2.0` and name
 * `User`) as the top-level key the resource holds it under; any other selection as it is.
 */
function asWhole(res: Resource, s: Sel): Sel {
  if (!s.uri || s.sub || s.filter) return s;
  const key = findKey(res, `${s.uri}:${s.name}`);
  return key ? { name: key } : s;
}

function pick(e: Record<string, Json>, sub: string): Record<string, Json> {
  const k = findKey(e, sub);
  return k ? { [k]: e[k] } : {};
}

/** A JSON object's value: not an array, and not a JsonText (stored text, such as a group's members: its fields are not the value's). */
const isObject = (v: Json | undefined): v is Record<string, Json> => isObj(v) && !(v instanceof JsonText);

/** Two picks of one attribute (`name.givenName,name.familyName`, or the same one twice) put together. */
function merge(a: Json | undefined, b: Json): Json {
  if (a === undefined) return b;
  if (isObject(a) && isObject(b)) return { ...a, ...b };
  return b;
}

export { getProp };
