// The PATCH engine (RFC 7644 §3.5.2): add / replace / remove, with and without `path`, value
// objects whose keys are dotted or URN-prefixed paths, value-path filters
// (`emails[type eq "work"].value`, `members[value eq "…"]`), ops in any case ("Replace" from Entra),
// "True"/"False" strings as booleans, and Entra's remove-with-value-array on members.
// Pure: takes the stored attributes and returns new ones. Group membership is not held in memory
// (groups may have 100,000 members): member operations are folded into a MemberChange that the
// group service applies as inserts/deletes of just the difference.
import { badRequest } from './scim.errors.ts';
import { getProp, matches } from './filter.eval.ts';
import { parsePatchPath, type AttrPath, type Filter, type PatchPath } from './filter.parser.ts';
import { coerce, findKey, fixPrimary, isObj, withinLimit, withoutNulls, type Json, type Resource } from './scim.attributes.ts';
import { enterpriseAttr, isEnterpriseUrn, subAttr, topAttr, URN, type AttrDef, type ResourceKind } from './scim.schemas.ts';

export interface PatchOperation {
  op: string;
  path?: string;
  value?: unknown;
}

/** Membership edits in order-independent form: the final set is (replaceAll ? ∅ : current) − remove + add. */
export interface MemberChange {
  replaceAll: boolean;
  add: Set<string>;
  remove: Set<string>;
}

export interface PatchResult {
  attributes: Resource;
  members: MemberChange | null;
  /** True when anything other than membership was touched. */
  attributesChanged: boolean;
}

type Op = 'add' | 'replace' | 'remove';

/** Operations a PATCH may hold, of which on attributes other than a group's members (see Engine.attributeOps). */
export const MAX_OPERATIONS = 10_000;
export const MAX_ATTRIBUTE_OPERATIONS = 1_000;

export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw badRequest('PATCH body must be a PatchOp object', 'invalidSyntax');
  const ops = getProp(body, 'Operations');
  if (!Array.isArray(ops) || ops.length === 0) throw badRequest('PATCH body needs a non-empty "Operations" array', 'invalidSyntax');
  const schemas = getProp(body, 'schemas');
  if (schemas !== undefined && !(Array.isArray(schemas) && schemas.some((s) => typeof s === 'string' && s.toLowerCase() === URN.patch.toLowerCase()))) {
    throw badRequest(`PATCH "schemas" must contain ${URN.patch}`, 'invalidSyntax');
  }
  if (ops.length > MAX_OPERATIONS) throw badRequest(`A PATCH may hold at most ${MAX_OPERATIONS.toLocaleString('en-US')} operations (this one holds ${ops.length.toLocaleString('en-US')}); send it as several`, 'tooMany');
  return ops.map((o, i) => {
    if (!o || typeof o !== 'object') throw badRequest(`Operation ${i + 1} must be an object`, 'invalidSyntax');
    const op = getProp(o, 'op');
    const path = getProp(o, 'path');
    if (typeof op !== 'string') throw badRequest(`Operation ${i + 1} needs "op"`, 'invalidSyntax');
    if (path !== undefined && path !== null && typeof path !== 'string') throw badRequest(`Operation ${i + 1}: "path" must be a string`, 'invalidPath');
    return { op, path: typeof path === 'string' && path.trim() ? path : undefined, value: getProp(o, 'value') };
  });
}

interface Target {
  /** the object that holds the attribute: the resource, or the extension object */
  ext: boolean;
  def: AttrDef | undefined;
  name: string;
  sub?: AttrDef;
  subName?: string;
}

/** Another extension schema's attribute (Entra's custom ones): free-form, its names kept as sent and matched in any case. */
interface FreeTarget {
  /** the extension's key in the resource (as stored, else as sent) */
  urn: string;
  name: string;
  sub?: string;
}

/**
 * What a path names: an attribute of the core schema or of the enterprise extension (Target), one of
 * another extension's (FreeTarget), or a whole extension (`root`, its key in the resource). A URN that
 * ends in the resource's type (`urn:…:acme:2.0:User`), or one the resource holds, is a whole extension.
 */
function resolveTarget(kind: ResourceKind, res: Resource, a: AttrPath): Target | FreeTarget | { root: string } | 'ignore' {
  let uri = a.uri;
  let name = a.name;
  let sub = a.sub;
  if (uri && uri.toLowerCase() === (kind === 'User' ? URN.user : URN.group).toLowerCase()) uri = undefined;
  if (!uri && kind === 'User' && isEnterpriseUrn(`${a.name}`)) return { root: URN.enterprise };
  if (uri) {
    const whole = `${uri}:${name}`;
    if (kind !== 'User' || !isEnterpriseUrn(uri)) {
      // `urn:…:enterprise:2.0:User` parsed as uri `urn:…:enterprise:2.0` + name `User`
      if (kind === 'User' && isEnterpriseUrn(whole) && !sub) return { root: URN.enterprise };
      if (isEnterpriseUrn(uri) || isEnterpriseUrn(whole) || !/extension/i.test(whole)) throw badRequest(`Unknown schema in path "${uri}"`, 'invalidPath');
      const held = findKey(res, whole);
      if (!sub && (held || (!findKey(res, uri) && name.toLowerCase() === kind.toLowerCase()))) return { root: held ?? whole };
      if (!/extension/i.test(uri)) throw badRequest(`Unknown schema in path "${uri}"`, 'invalidPath');
      return { urn: findKey(res, uri) ?? uri, name, sub };
    }
    const def = enterpriseAttr(name);
    if (!def) throw badRequest(`Unknown attribute "${name}" in ${URN.enterprise}`, 'invalidPath');
    const sd = sub ? subAttr(def, sub) : undefined;
    if (sub && !sd) throw badRequest(`Unknown attribute "${name}.${sub}"`, 'invalidPath');
    return { ext: true, def, name: def.name, sub: sd, subName: sd?.name };
  }
  const def = topAttr(kind, name);
  if (!def) throw badRequest(`Unknown attribute "${name}"`, 'invalidPath');
  // A password is not kept (changePassword is not supported): dropped here as a POST or PUT drops it,
  // never stored, returned or matched by a filter.
  if (['id', 'meta', 'schemas', 'groups'].includes(def.name) || def.mutability === 'writeOnly') return 'ignore';
  const sd = sub ? subAttr(def, sub) : undefined;
  if (sub && !sd) throw badRequest(`Unknown attribute "${name}.${sub}"`, 'invalidPath');
  name = def.name;
  return { ext: false, def, name, sub: sd, subName: sd?.name };
}

function container(res: Resource, t: Target, create: boolean): Record<string, Json> | undefined {
  if (!t.ext) return res;
  let ext = res[URN.enterprise];
  if (!ext || typeof ext !== 'object' || Array.isArray(ext)) {
    if (!create) return undefined;
    ext = {};
    res[URN.enterprise] = ext;
  }
  return ext as Record<string, Json>;
}

/**
 * What makes two values of a multi-valued attribute the same: value and type (type in any case), or,
 * for a value without one (an address), all of it. An add keeps the values already there and appends
 * only the new ones, found through a set of these keys: comparing each new value with each one there
 * took 10 s for 4,000 e-mails added to 4,000, and held every other request meanwhile (session 34).
 * `known` keeps the keys of values that have one (see Engine.keys).
 */
function valueKey(v: Json, known: WeakMap<object, string>): string {
  if (!isObj(v) || v.value === undefined) return `=${JSON.stringify(v)}`;
  let key = known.get(v);
  if (key === undefined) {
    key = `v${JSON.stringify([v.value, typeof v.type === 'string' ? v.type.toLowerCase() : v.type ?? null])}`;
    known.set(v, key);
  }
  return key;
}

/** `[type eq "work"]` → {type: "work"}: what a new element gets when an add/replace finds no match. */
function seedFromFilter(f: Filter): Record<string, Json> | null {
  if (f.op === 'eq' && !f.attr.sub && f.value !== null) return { [f.attr.name]: f.value as Json };
  if (f.op === 'and') {
    const l = seedFromFilter(f.left);
    const r = seedFromFilter(f.right);
    return l && r ? { ...l, ...r } : null;
  }
  return null;
}

class Engine {
  members: MemberChange | null = null;
  attributesChanged = false;
  /**
   * The keys (valueKey) of values with a value, kept from one add to the next, so that a PATCH of
   * many adds computes each once. Only adds of whole values follow each other with it: they change a
   * value in place only by its `primary`, which its key leaves out. Any other operation may change a
   * value's value or type in place, so it starts the keys afresh.
   */
  private keys = new WeakMap<object, string>();
  /**
   * Changes to attributes other than members (each key of a value without a path counts once). Each
   * may scan a multi-valued attribute's 1,000 values, and a PATCH holds the request thread while it is
   * applied: 10,000 of them took 2.9-3.3 s (filtered replaces taking turns with adds over 990 e-mails,
   * in-process), 1,000 take 0.2-0.25 s. Members are not held in memory, so their operations are cheap.
   */
  private attributeOps = 0;
  constructor(private readonly kind: ResourceKind, private readonly res: Resource) {}

  apply(op: PatchOperation): void {
    const o = op.op.trim().toLowerCase();
    if (o !== 'add' && o !== 'replace' && o !== 'remove') throw badRequest(`Unknown PATCH op "${op.op}"`, 'invalidSyntax');
    if (!op.path) {
      if (o === 'remove') throw badRequest('"remove" needs a path', 'noTarget');
      if (!isObj(op.value)) throw badRequest(`"${o}" without a path needs an object value`, 'invalidValue');
      for (const [k, v] of Object.entries(op.value)) {
        if (isObj(v) && k.toLowerCase() === (this.kind === 'User' ? URN.user : URN.group).toLowerCase()) {
          for (const [ck, cv] of Object.entries(v)) this.applyPath(o, ck, cv);
        } else {
          // An extension's URN with an object (`{"urn:…:enterprise:2.0:User": {"department": "x"}}`)
          // is a path to the whole extension: applyPath sets each of its attributes.
          this.applyPath(o, k, v);
        }
      }
      return;
    }
    this.applyPath(o, op.path, op.value);
  }

  private applyPath(op: Op, rawPath: string, value: unknown): void {
    const p = parsePatchPath(rawPath);
    const t = resolveTarget(this.kind, this.res, p.attr);
    if (t === 'ignore') return;
    if ('root' in t) {
      if (p.filter) throw badRequest(`A filter does not apply to ${t.root}`, 'invalidPath');
      if (op === 'remove') {
        if (t.root in this.res) {
          delete this.res[t.root];
          this.attributesChanged = true;
        }
        return;
      }
      if (!isObj(value)) throw badRequest(`${t.root} needs an object value`);
      for (const [k, v] of Object.entries(value)) this.applyPath(op, `${t.root}:${k}`, v);
      return;
    }
    if ('def' in t && this.kind === 'Group' && t.name === 'members') return this.applyMembers(op, p, t, value);
    if (++this.attributeOps > MAX_ATTRIBUTE_OPERATIONS) {
      throw badRequest(`A PATCH may change attributes other than members at most ${MAX_ATTRIBUTE_OPERATIONS.toLocaleString('en-US')} times; send it as several`, 'tooMany');
    }
    this.attributesChanged = true;
    if (!('def' in t)) {
      if (p.filter) throw badRequest(`A filter does not apply to "${t.name}" of ${t.urn}`, 'invalidPath');
      return this.applyFree(op, t, value);
    }
    if (op !== 'add' || p.filter || t.sub) this.keys = new WeakMap();
    if (p.filter) return this.applyFiltered(op, p, t, value);
    this.applySimple(op, t, value);
  }

  /** An attribute of another extension, free-form: its value set as sent, added to (a list appended to, an object merged) or removed. */
  private applyFree(op: Op, t: FreeTarget, value: unknown): void {
    const held = this.res[t.urn];
    if (op === 'remove' || value === null) {
      if (op === 'add' && value === null) throw badRequest(`"add" needs a value`, 'invalidValue');
      if (!isObj(held)) return;
      const key = findKey(held, t.name);
      if (key === undefined) return;
      if (t.sub) {
        const cur = held[key];
        for (const e of Array.isArray(cur) ? cur : [cur]) {
          const sk = isObj(e) ? findKey(e, t.sub) : undefined;
          if (sk !== undefined) delete (e as Record<string, Json>)[sk];
        }
      } else delete held[key];
      // An extension left with nothing is not listed in `schemas` any more.
      if (Object.keys(held).length === 0) delete this.res[t.urn];
      return;
    }
    if (value === undefined) throw badRequest(`"${op}" needs a value`, 'invalidValue');
    const ext = isObj(held) ? held : (this.res[t.urn] = {});
    const key = findKey(ext, t.name) ?? t.name;
    const v = value as Json;
    const cur = ext[key];
    if (t.sub) {
      if (Array.isArray(cur)) {
        for (const e of cur) if (isObj(e)) e[findKey(e, t.sub) ?? t.sub] = v;
      } else ext[key] = isObj(cur) ? { ...cur, [findKey(cur, t.sub) ?? t.sub]: v } : { [t.sub]: v };
      return;
    }
    if (op === 'add' && Array.isArray(cur)) {
      const there = new Set(cur.map((e) => JSON.stringify(e)));
      ext[key] = withinLimit([...cur, ...(Array.isArray(v) ? v : [v]).filter((e) => !there.has(JSON.stringify(e)))], `${t.urn}:${key}`);
    } else if (op === 'add' && isObj(cur) && isObj(v)) ext[key] = { ...cur, ...v };
    else ext[key] = v;
  }

  private applySimple(op: Op, t: Target, value: unknown): void {
    const def = t.def!;
    if (op === 'remove') {
      if (def.required) throw badRequest(`"${def.name}" is required and cannot be removed`, 'mutability');
      const c = container(this.res, t, false);
      if (!c) return;
      if (t.sub) {
        const cur = c[t.name];
        if (Array.isArray(cur)) for (const e of cur) if (isObj(e)) delete e[t.subName!];
        if (isObj(cur)) delete cur[t.subName!];
        return;
      }
      if (def.multiValued && value !== undefined && value !== null && Array.isArray(c[t.name])) {
        // Entra: {"op":"Remove","path":"emails","value":[{"value":"x"}]} removes just those values.
        const drop = new Set((Array.isArray(value) ? value : [value]).map((v) => (isObj(v) ? String(getProp(v, 'value') ?? '') : String(v))));
        c[t.name] = (c[t.name] as Json[]).filter((e) => !(isObj(e) && drop.has(String(e.value ?? ''))));
        return;
      }
      const named = def.type === 'complex' && !def.multiValued ? namedValue(value) : undefined;
      // Entra removes a manager by naming it ("value": "<id>" or [{"value": "<id>"}]): only if it is still the one.
      if (named !== undefined && isObj(c[t.name]) && String((c[t.name] as Record<string, Json>).value ?? '') !== named) return;
      delete c[t.name];
      return;
    }
    if (value === undefined) throw badRequest(`"${op}" needs a value`, 'invalidValue');
    const c = container(this.res, t, true)!;
    if (t.sub) {
      const sv = coerce(t.sub, value, `${t.name}.${t.subName}`);
      const cur = c[t.name];
      if (Array.isArray(cur)) {
        // `emails.value` on a multi-valued attribute: applies to every element (RFC 7644 §3.5.2.3).
        for (const e of cur) if (isObj(e)) e[t.subName!] = sv;
        if (cur.length === 0 && def.multiValued) c[t.name] = [{ [t.subName!]: sv }];
      } else if (def.multiValued) c[t.name] = [{ [t.subName!]: sv }];
      else c[t.name] = { ...(isObj(cur) ? cur : {}), [t.subName!]: sv };
      return;
    }
    const v = coerce(def, value, def.name);
    if (v === null) {
      if (def.required) throw badRequest(`"${def.name}" is required`, 'invalidValue');
      delete c[t.name];
      return;
    }
    if (def.multiValued) {
      const incoming = v as Json[];
      if (op === 'replace') c[t.name] = fixPrimary(incoming);
      else {
        const cur = Array.isArray(c[t.name]) ? (c[t.name] as Json[]) : [];
        // a new primary value demotes the old one
        if (incoming.some((e) => isObj(e) && e.primary === true)) for (const e of cur) if (isObj(e)) e.primary = false;
        const there = new Set(cur.map((e) => valueKey(e, this.keys)));
        c[t.name] = withinLimit(fixPrimary([...cur, ...incoming.filter((n) => !there.has(valueKey(n, this.keys)))]), def.name);
      }
      return;
    }
    if (def.type === 'complex' && isObj(v)) {
      const cur = c[t.name];
      c[t.name] = { ...(isObj(cur) ? cur : {}), ...v };
      return;
    }
    c[t.name] = v;
  }

  private applyFiltered(op: Op, p: PatchPath, t: Target, value: unknown): void {
    const def = t.def!;
    if (!def.multiValued) throw badRequest(`"${def.name}" is not multi-valued; a filter does not apply`, 'invalidPath');
    const c = container(this.res, t, op !== 'remove');
    const cur = c && Array.isArray(c[t.name]) ? (c[t.name] as Json[]) : [];
    const sd = p.subAfterFilter ? subAttr(def, p.subAfterFilter) : undefined;
    if (p.subAfterFilter && !sd) throw badRequest(`Unknown attribute "${def.name}.${p.subAfterFilter}"`, 'invalidPath');
    const hit = cur.filter((e) => matches(e, p.filter!));
    if (op === 'remove') {
      if (!c) return;
      if (sd) {
        for (const e of hit) if (isObj(e)) delete e[sd.name];
      } else {
        const gone = new Set(hit);
        const left = cur.filter((e) => !gone.has(e));
        // None left: the attribute is unassigned, not an empty list (RFC 7643 §2.5).
        if (left.length) c[t.name] = left;
        else delete c[t.name];
      }
      return;
    }
    if (value === undefined || (value === null && op === 'add')) throw badRequest(`"${op}" needs a value`, 'invalidValue');
    // Replaced by null, which is unassigned (RFC 7643 §2.5): what the filter matches is removed (a 500 before).
    if (value === null) return this.applyFiltered('remove', p, t, undefined);
    if (hit.length === 0) {
      // Entra sends `Replace emails[type eq "work"].value` for a user who has no work e-mail yet.
      const seed = seedFromFilter(p.filter!);
      if (!seed) throw badRequest(`No value of "${def.name}" matches the filter`, 'noTarget');
      const el: Record<string, Json> = {};
      for (const [k, v] of Object.entries(seed)) {
        // The filter's value, typed as the sub-attribute is (`primary eq "x"` stored "x" as a boolean's
        // value); a name the attribute does not have is left out, as in any other value.
        const sub = subAttr(def, k);
        if (sub) el[sub.name] = coerce(sub, v, `${def.name}.${sub.name}`);
      }
      const addition = sd ? { ...el, [sd.name]: coerce(sd, value, `${def.name}.${sd.name}`) } : { ...el, ...this.oneValue(op, def, value) };
      c![t.name] = withinLimit(fixPrimary([...cur, addition]), def.name);
      return;
    }
    for (const e of hit) {
      if (!isObj(e)) continue;
      if (sd) e[sd.name] = coerce(sd, value, `${def.name}.${sd.name}`);
      else {
        const v = this.oneValue(op, def, value);
        if (op === 'replace') {
          for (const k of Object.keys(e)) delete e[k];
        }
        Object.assign(e, v);
      }
    }
    c![t.name] = fixPrimary(cur);
  }

  /** The one value (an object) an add or replace of `emails[type eq "work"]` gives: a 400 for none (`[]`) or several. */
  private oneValue(op: Op, def: AttrDef, value: unknown): Record<string, Json> {
    const values = coerce(def, value, def.name) as Json[];
    if (values.length !== 1 || !isObj(values[0])) throw badRequest(`"${op}" of a value of "${def.name}" chosen by a filter needs one value, not ${values.length}`, 'invalidValue');
    return values[0];
  }

  private applyMembers(op: Op, p: PatchPath, t: Target, value: unknown): void {
    const m = (this.members ??= { replaceAll: false, add: new Set(), remove: new Set() });
    const add = (ids: string[]) => ids.forEach((id) => (m.add.add(id), m.remove.delete(id)));
    const remove = (ids: string[]) => ids.forEach((id) => (m.remove.add(id), m.add.delete(id)));
    const clear = () => {
      m.replaceAll = true;
      m.add.clear();
      m.remove.clear();
    };
    if (t.sub || p.subAfterFilter) throw badRequest('Member sub-attributes cannot be changed; add or remove the member', 'mutability');
    if (p.filter) {
      const ids = valueEqIds(p.filter);
      if (!ids) throw badRequest('Member filters support `value eq "…"` (joined with or)', 'invalidFilter');
      if (op === 'remove') return remove(ids);
      // replace members[value eq "a"] with value b: a leaves, b joins
      remove(ids);
      add(memberIds(value));
      return;
    }
    if (op === 'remove') {
      if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) return clear();
      return remove(memberIds(value));
    }
    if (op === 'replace') {
      clear();
      return add(memberIds(value));
    }
    add(memberIds(value));
  }
}

/**
 * The user ids a list of members names, as a POST, a PUT or a PATCH gives them: `"<id>"` or
 * `{"value": "<id>"}`, alone or in an array. Anything else (a number, an empty id, an object without
 * a value) is a 400, the same in the three.
 */
export function memberIds(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const arr = Array.isArray(value) ? value : [value];
  return arr.map((m) => {
    const id = isObj(m) ? getProp(m, 'value') : m;
    if (typeof id !== 'string' || !id) throw badRequest('Each member needs a "value" (the user id)', 'invalidValue');
    return id;
  });
}

/** The id a remove names: "<id>", {"value": "<id>"} or a one-element array of either; undefined if none. */
function namedValue(value: unknown): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  const v = isObj(first) ? getProp(first, 'value') : first;
  return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined;
}

/** `value eq "a" or value eq "b"` → ['a','b']; null for any other shape. */
function valueEqIds(f: Filter): string[] | null {
  if (f.op === 'eq' && f.attr.name.toLowerCase() === 'value' && !f.attr.sub && f.value !== null) return [String(f.value)];
  if (f.op === 'or') {
    const l = valueEqIds(f.left);
    const r = valueEqIds(f.right);
    return l && r ? [...l, ...r] : null;
  }
  return null;
}

export function applyPatch(kind: ResourceKind, current: Resource, ops: PatchOperation[]): PatchResult {
  const res = structuredClone(current);
  const engine = new Engine(kind, res);
  for (const op of ops) engine.apply(op);
  return { attributes: engine.attributesChanged ? withoutNulls(res) : res, members: engine.members, attributesChanged: engine.attributesChanged };
}
