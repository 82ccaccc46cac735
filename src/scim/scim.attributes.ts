// Turns what a client sends into the canonical stored form of a resource, and the stored form back
// into what we return: attribute names in schema spelling (SCIM names are case-insensitive),
// "True"/"False" strings as booleans (Entra), read-only attributes (id, meta, groups) and the
// write-only password dropped, unknown core attributes ignored (RFC 7644 §3.5.1: PUT bodies echo
// whatever a GET returned), extension objects kept exactly as sent.
import { badRequest } from './scim.errors.ts';
import { getProp } from './filter.eval.ts';
import { ENTERPRISE_ATTRS, isEnterpriseUrn, subAttr, topAttr, enterpriseAttr, URN, type AttrDef, type ResourceKind } from './scim.schemas.ts';

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Resource = Record<string, Json>;

/**
 * String attributes that may arrive as JSON numbers: IdPs map the enterprise extension's
 * employeeNumber, costCenter and the like from numeric HR fields. A number there is stored as its
 * decimal text; anywhere else a string attribute given a number or boolean is a 400 invalidValue.
 */
const NUMBER_AS_TEXT = new Set(ENTERPRISE_ATTRS.filter((d) => d.type === 'string'));

/** Attributes the server owns; a client may echo them but never sets them. */
const SERVER_OWNED = new Set(['id', 'meta', 'schemas']);

/**
 * Most values one multi-valued attribute of a user or a group (emails, phoneNumbers, addresses, roles…;
 * not a group's members) may hold. A person has a handful; without a bound, one request could hand the
 * server hundreds of thousands of them (the 10 MB body limit allows it) to index and compare.
 */
export const MAX_VALUES = 1000;

/** `list`, or a 400 naming `attribute` when it holds more than MAX_VALUES values. */
export function withinLimit<T extends Json[]>(list: T, attribute: string): T {
  if (list.length > MAX_VALUES) throw badRequest(`"${attribute}" would hold ${list.length.toLocaleString('en-US')} values; at most ${MAX_VALUES.toLocaleString('en-US')} are accepted`, 'invalidValue');
  return list;
}

export function coerce(def: AttrDef, value: unknown, where: string): Json {
  if (value === null || value === undefined) return null;
  if (def.multiValued) {
    const arr = Array.isArray(value) ? value : [value];
    return withinLimit(arr.filter((v) => v !== null && v !== undefined).map((v) => coerceSingle(def, v, where)), where);
  }
  if (Array.isArray(value)) {
    // A single-valued attribute sent as a one-element array: take the element (lenient).
    if (value.length === 1) return coerceSingle(def, value[0], where);
    throw badRequest(`${where} must be a single value`);
  }
  return coerceSingle(def, value, where);
}

function coerceSingle(def: AttrDef, value: unknown, where: string): Json {
  // JSON.parse reads 1e400 as Infinity, which JSON cannot hold: it was stored as null, or as the text "Infinity".
  if (typeof value === 'number' && !Number.isFinite(value)) throw badRequest(`${where} is a number too large to store`);
  switch (def.type) {
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return value.trim().toLowerCase() === 'true';
      throw badRequest(`${where} must be a boolean`);
    case 'complex': {
      // A bare value where the attribute has a `value` sub-attribute: a member's id, or Entra's manager
      // ({"op":"Add","path":"…:enterprise:2.0:User:manager","value":"<id>"}), is {value: id}.
      if ((typeof value === 'string' || typeof value === 'number') && (def.multiValued || subAttr(def, 'value'))) return coerceComplex(def, { value: String(value) }, where);
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw badRequest(`${where} must be an object`);
      return coerceComplex(def, value as Record<string, unknown>, where);
    }
    case 'integer':
    case 'decimal':
      if (typeof value === 'number') return value;
      throw badRequest(`${where} must be a number`);
    default:
      if (typeof value === 'string') return value;
      if (typeof value === 'number' && NUMBER_AS_TEXT.has(def)) return String(value);
      throw badRequest(`${where} must be a string, not ${typeof value === 'object' ? 'an object' : `the ${typeof value} ${String(value)}`}`);
  }
}

function coerceComplex(def: AttrDef, value: Record<string, unknown>, where: string): Json {
  const out: Record<string, Json> = {};
  for (const [k, v] of Object.entries(value)) {
    const sd = subAttr(def, k);
    if (!sd) {
      if (k === '$ref' || k.toLowerCase() === 'displayname') out[k] = v as Json;
      continue;
    }
    if (v === undefined) continue;
    out[sd.name] = v === null ? null : coerce(sd, v, `${where}.${sd.name}`);
  }
  return out;
}

/** A JSON object (not null, not an array). */
export const isObj = (v: unknown): v is Record<string, Json> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The key of `obj` that is `name`, else one equal to it in any case (SCIM names are case-insensitive). */
export function findKey(obj: Record<string, Json>, name: string): string | undefined {
  if (Object.hasOwn(obj, name)) return name;
  const l = name.toLowerCase();
  return Object.keys(obj).find((k) => k.toLowerCase() === l);
}

/** Values of a multi-valued attribute: keep only one `primary: true`, the last (RFC 7643 §2.4: it "MUST appear no more than once"). */
export function fixPrimary(list: Json[]): Json[] {
  let seen = false;
  for (let i = list.length - 1; i >= 0; i--) {
    const e = list[i];
    if (isObj(e) && e.primary === true) {
      if (seen) e.primary = false;
      seen = true;
    }
  }
  return list;
}

/** `obj` without its null members (and those of the objects in it, to `depth` levels). */
function dropNulls(obj: Record<string, Json>, depth: number): void {
  for (const [k, v] of Object.entries(obj)) {
    if (v === null) delete obj[k];
    else if (depth > 1 && isObj(v)) dropNulls(v, depth - 1);
    else if (depth > 1 && Array.isArray(v)) for (const e of v) if (isObj(e)) dropNulls(e, depth - 1);
  }
}

/**
 * A resource's attributes as stored: no null sub-attributes (`"name": {"givenName": null}`, an e-mail
 * `{"value": null, "type": "work"}`), no values of a multi-valued attribute left empty by that, no
 * list left empty. Null is unassigned (RFC 7643 §2.5); stored, it was returned as `null`. The enterprise
 * extension's attributes are one level further in (its manager's `value`).
 */
export function withoutNulls(res: Resource): Resource {
  dropNulls(res, 3);
  for (const [k, v] of Object.entries(res)) {
    if (!Array.isArray(v)) continue;
    const kept = v.filter((e) => !(isObj(e) && Object.keys(e).length === 0));
    if (kept.length) res[k] = kept;
    else delete res[k];
  }
  return res;
}

/** Adds `ext`'s attributes to the resource's enterprise extension (the nested form and the URN-prefixed one may both come). */
function withExtension(out: Resource, ext: Record<string, Json>): void {
  out[URN.enterprise] = { ...((out[URN.enterprise] as Record<string, Json> | undefined) ?? {}), ...ext };
}

/** Client body → canonical stored attributes (no id/meta; schemas recomputed on output). */
export function canonicalize(kind: ResourceKind, body: Record<string, unknown>): Resource {
  const out: Resource = {};
  for (const [k, v] of Object.entries(body)) {
    if (v === undefined) continue;
    if (/^urn:/i.test(k)) {
      if (isEnterpriseUrn(k)) {
        // A Group has no enterprise extension: ignored like any unknown attribute (it was stored as sent).
        if (kind !== 'User' || v === null) continue;
        if (typeof v !== 'object' || Array.isArray(v)) throw badRequest(`${URN.enterprise} must be an object`);
        withExtension(out, canonicalizeExtension(v as Record<string, unknown>));
      } else if (k.toLowerCase().startsWith(URN.user.toLowerCase() + ':') && kind === 'User') {
        // Core attribute written with its URN prefix.
        Object.assign(out, canonicalize(kind, { [k.slice(URN.user.length + 1)]: v }));
      } else if (k.toLowerCase().startsWith(URN.enterprise.toLowerCase() + ':')) {
        // An enterprise attribute written with its URN prefix: a User's, as if nested in the extension;
        // a Group has no enterprise extension, so it is ignored like any unknown attribute.
        if (kind !== 'User' || v === null) continue;
        withExtension(out, canonicalizeExtension({ [k.slice(URN.enterprise.length + 1)]: v }));
      } else if (/extension/i.test(k)) {
        otherExtension(kind, out, k, v);
      }
      continue;
    }
    if (SERVER_OWNED.has(k.toLowerCase())) continue;
    const def = topAttr(kind, k);
    if (!def) continue; // unknown attribute: ignored
    if (def.mutability === 'readOnly' || def.mutability === 'writeOnly') continue;
    if (def.name === 'members') continue; // group membership lives in its own table
    const c = coerce(def, v, def.name);
    if (c === null || (Array.isArray(c) && c.length === 0 && def.name !== 'members')) continue;
    out[def.name] = def.multiValued && Array.isArray(c) ? fixPrimary(c) : c;
  }
  return withoutNulls(out);
}

/**
 * Another extension schema's attributes (Entra's custom ones), kept as sent but for nulls (dropped as
 * everywhere: withoutNulls): the extension as an object under its URN (`"urn:…:acme:2.0:User":
 * {"costCode": "A1"}`), or one attribute under its full name (`"urn:…:acme:2.0:User:costCode": "A1"`,
 * `…:User:office.city`), the form a PATCH path takes, which was dropped before: put in the extension's
 * object, as a PATCH without a path puts it. A key is a whole extension when its last part is the
 * resource type (`…:2.0:User`), an attribute when the part before is.
 */
function otherExtension(kind: ResourceKind, out: Resource, key: string, v: unknown): void {
  const cut = key.lastIndexOf(':');
  const [uri, attr] = [key.slice(0, cut), key.slice(cut + 1)];
  const isType = (s: string) => s.toLowerCase() === kind.toLowerCase();
  const held = (urn: string) => findKey(out, urn) ?? urn;
  if (!isType(attr) && isType(uri.slice(uri.lastIndexOf(':') + 1)) && attr) {
    if (v === null) return;
    const at = held(uri);
    const ext: Record<string, Json> = isObj(out[at]) ? (out[at] as Record<string, Json>) : {};
    const dot = attr.indexOf('.');
    const [name, sub] = dot < 0 ? [attr, undefined] : [attr.slice(0, dot), attr.slice(dot + 1)];
    const nameKey = findKey(ext, name) ?? name;
    if (sub === undefined) ext[nameKey] = v as Json;
    else {
      const cur = ext[nameKey];
      ext[nameKey] = isObj(cur) ? { ...cur, [findKey(cur, sub) ?? sub]: v as Json } : { [sub]: v as Json };
    }
    out[at] = ext;
    return;
  }
  if (!isObj(v)) return;
  const at = held(key);
  const ext: Record<string, Json> = isObj(out[at]) ? (out[at] as Record<string, Json>) : {};
  for (const [name, value] of Object.entries(v)) ext[findKey(ext, name) ?? name] = value;
  out[at] = ext;
}

function canonicalizeExtension(v: Record<string, unknown>): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [k, val] of Object.entries(v)) {
    const def = enterpriseAttr(k);
    if (!def) continue;
    if (val === null || val === undefined) continue;
    out[def.name] = coerce(def, val, def.name);
  }
  return out;
}

/** A row's stored SCIM attributes (the JSON `canonicalize` produced); none when absent or unreadable. */
export function storedAttributes(text: string | null): Resource {
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    return isObj(v) ? v : {};
  } catch {
    return {};
  }
}

/** The primary (or first) value of a multi-valued attribute. */
export function primaryValue(list: Json | undefined): string | null {
  if (!Array.isArray(list) || list.length === 0) return null;
  const el = list.find((e) => isObj(e) && e.primary === true) ?? list[0];
  const v = isObj(el) ? el.value : null;
  return typeof v === 'string' ? v : null;
}

export function str(v: Json | undefined): string | null {
  return typeof v === 'string' ? v : null;
}

/**
 * Longest value kept in a searchable (indexed) column: displayName, externalId, name.givenName and
 * familyName, e-mail values (userName and group names have the same limit). PostgreSQL refuses an
 * index entry over about 2,700 bytes, so a longer value would fail there (it was a 500); IdPs send far
 * shorter ones. The same limit on both databases.
 */
export const MAX_SEARCHABLE_LENGTH = 256;

/** `str(v)`, or a 400 invalidValue naming the attribute when the text is longer than MAX_SEARCHABLE_LENGTH. */
export function searchableStr(v: Json | undefined, attribute: string): string | null {
  const s = str(v);
  if (s !== null && s.length > MAX_SEARCHABLE_LENGTH) throw badRequest(`${attribute} is too long (${MAX_SEARCHABLE_LENGTH} characters at most)`, 'invalidValue');
  return s;
}

export function getPath(obj: Resource, path: string[]): Json | undefined {
  let cur: unknown = obj;
  for (const p of path) cur = getProp(cur, p);
  return cur as Json | undefined;
}

const SECRET_KEY = /pass(word)?|secret|token/i;

/** Whether a PATCH operation's `path` names a secret (`password`, `urn:…:User:password`; a filter's text aside). */
function secretPath(v: { [k: string]: Json }): boolean {
  for (const k of Object.keys(v)) {
    const p = v[k];
    if (k.toLowerCase() === 'path' && typeof p === 'string') return SECRET_KEY.test(p.replace(/\[.*\]/s, ''));
  }
  return false;
}

/**
 * A body (a value JSON.parse gave) as JSON text for the logs, with the value of every `password`-,
 * `secret`- or `token`-like key masked, at any depth, and the `value` of a PATCH operation whose
 * `path` names one; otherwise as JSON.stringify writes it. Written
 * only as far as `limit` characters and cut there (`cut`): the provisioning log keeps 8 KB of a body,
 * and Okta's PUT of a group of 100,000 members is 8 MB.
 */
export function maskedJson(value: Json, limit = Infinity): { text: string; cut: boolean } {
  let text = '';
  const write = (v: Json): void => {
    if (v === null || typeof v !== 'object') {
      text += JSON.stringify(v);
      return;
    }
    if (Array.isArray(v)) {
      text += '[';
      for (let i = 0; i < v.length && text.length <= limit; i++) {
        if (i) text += ',';
        write(v[i]);
      }
      text += ']';
      return;
    }
    text += '{';
    let first = true;
    const secretValue = secretPath(v);
    for (const k of Object.keys(v)) {
      if (text.length > limit) break;
      text += `${first ? '' : ','}${JSON.stringify(k)}:`;
      first = false;
      if (SECRET_KEY.test(k) || (secretValue && k.toLowerCase() === 'value')) text += '"********"';
      else write(v[k]);
    }
    text += '}';
  };
  write(value);
  // Whatever was written after passing the limit (closing brackets) lies beyond it and is cut off.
  return text.length > limit ? { text: text.slice(0, limit), cut: true } : { text, cut: false };
}

/**
 * A body that could not be read as JSON, for the logs: as sent, unless it mentions a password, a
 * secret or a token anywhere. A pattern cannot find where such a value ends in text that is not JSON
 * (an escaped quote, a cut, a broken structure each fooled one), so that body is not kept at all.
 */
export function maskedRaw(text: string, length = text.length): string {
  return SECRET_KEY.test(text) ? `[not kept: ${length.toLocaleString('en-US')} characters that are not JSON and mention a password, secret or token]` : text;
}
