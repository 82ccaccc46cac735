// Compiles a parsed SCIM filter to a SQL condition over indexed columns (Kysely raw builders):
// userName → users.user_name_norm, externalId → external_id, displayName → lower(display_name)
// (expression index), emails.* → scim_user_emails (indexed), meta.created/lastModified →
// created_at/updated_at, members.value → pushed_group_members. Anything else reads the JSON the
// IdP sent (json_extract / ->>). Never load-then-filter.
// Dialect-specific fragments (JSON array iteration) are kept in the two helpers at the bottom.
import { sql, type Kysely, type OrderByItemBuilder, type RawBuilder, type SqlBool } from 'kysely';
import { isPostgres, jsonbPathText, likeEscape, sqliteJsonPath } from '../db/dialect.ts';
import { parseAttrPath, type AttrPath, type CompareOp, type Filter, type Value } from './filter.parser.ts';
import { badRequest } from './scim.errors.ts';
import { enterpriseAttr, isEnterpriseUrn, subAttr, topAttr, URN, type ResourceKind } from './scim.schemas.ts';

type Leaf = Extract<Filter, { attr: AttrPath }>;
type Kind = 'norm' | 'ci' | 'exact' | 'datetime' | 'int01';
interface Operand {
  expr: RawBuilder<unknown>;
  kind: Kind;
}

const TRUE = sql<SqlBool>`1 = 1`;
const FALSE = sql<SqlBool>`1 = 0`;

/** An xsd:dateTime as RFC 7643 §2.3.5 has it (`2015-10-10T14:38:21Z`, an offset or none, fractions of a second), or a date alone. */
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?$/;

/**
 * A filter's date-time as stored (ISO, UTC); a 400 for anything else. JavaScript's Date alone took
 * `5` for 1 May 2001 and `2024-02-30` for the 1st of March.
 */
function toDateIso(v: Value): string {
  const m = typeof v === 'string' ? DATE_TIME.exec(v.trim()) : null;
  if (m) {
    const [year, month, day, hour, minute, second] = m.slice(1).map((x) => Number(x ?? 0));
    const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
    const d = new Date(v as string);
    if (month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth && hour < 24 && minute < 60 && second < 60 && !Number.isNaN(d.getTime())) return d.toISOString();
  }
  throw badRequest(`"${String(v)}" is not a date-time (such as 2015-10-10T14:38:21Z)`, 'invalidFilter');
}

/** A filter's boolean: true or false, or the same as a string in any case (Entra's "True"); a 400 for anything else. */
function toBoolean(v: Value): boolean {
  if (typeof v === 'boolean') return v;
  const text = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if (text === 'true' || text === 'false') return text === 'true';
  throw badRequest(`"${String(v)}" is not a boolean (true or false)`, 'invalidFilter');
}

/** Lower-cases ASCII letters only, as SQLite's lower() does, so a value compares with lower(column) there. */
function asciiLower(s: string): string {
  return s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
}

/** Escapes * ? and [ in a fragment for GLOB, SQLite's case-sensitive LIKE. */
function globEscape(s: string): string {
  return s.replace(/[*?[]/g, (c) => `[${c}]`);
}

function compare(db: Kysely<any>, o: Operand, op: CompareOp, value: Value): RawBuilder<SqlBool> {
  const { expr } = o;
  if (value === null) {
    if (op === 'eq') return sql<SqlBool>`${expr} is null`;
    if (op === 'ne') return sql<SqlBool>`${expr} is not null`;
    throw badRequest(`Operator "${op}" needs a value`, 'invalidFilter');
  }
  let v: string | number;
  if (o.kind === 'int01') {
    if (op !== 'eq' && op !== 'ne') throw badRequest(`Operator "${op}" does not apply to a boolean`, 'invalidFilter');
    const b = toBoolean(value);
    // Null: an e-mail sent without `primary`, which no boolean equals (and every one differs from).
    return op === 'eq' ? sql<SqlBool>`${expr} = ${b ? 1 : 0}` : sql<SqlBool>`(${expr} is null or ${expr} <> ${b ? 1 : 0})`;
  }
  if (o.kind === 'datetime') v = toDateIso(value);
  else if (typeof value === 'boolean') v = String(value);
  else if (o.kind === 'exact') v = String(value);
  // SQLite's lower() folds ASCII only: the value is lowered the same way, so at least the stored spelling matches.
  else if (o.kind === 'ci' && !isPostgres(db)) v = asciiLower(String(value));
  else v = String(value).toLowerCase();
  const lhs = o.kind === 'ci' ? sql`lower(${expr})` : expr;
  // SQLite's LIKE ignores ASCII case; GLOB does not, as PostgreSQL's LIKE does not.
  const glob = o.kind === 'exact' && !isPostgres(db);
  const like = (before: string, after: string) => {
    if (glob) return sql<SqlBool>`${lhs} glob ${before.replace('%', '*') + globEscape(String(v)) + after.replace('%', '*')}`;
    return sql<SqlBool>`${lhs} like ${before + likeEscape(String(v)) + after} escape '\\'`;
  };
  switch (op) {
    case 'eq': return sql<SqlBool>`${lhs} = ${v}`;
    case 'ne': return sql<SqlBool>`(${lhs} is null or ${lhs} <> ${v})`;
    case 'co': return like('%', '%');
    case 'sw': return like('', '%');
    case 'ew': return like('%', '');
    case 'gt': return sql<SqlBool>`${lhs} > ${v}`;
    case 'ge': return sql<SqlBool>`${lhs} >= ${v}`;
    case 'lt': return sql<SqlBool>`${lhs} < ${v}`;
    case 'le': return sql<SqlBool>`${lhs} <= ${v}`;
  }
}

function present(o: Operand): RawBuilder<SqlBool> {
  return o.kind === 'int01' ? sql<SqlBool>`${o.expr} is not null` : sql<SqlBool>`(${o.expr} is not null and ${o.expr} <> '')`;
}

function combine(f: Filter, leaf: (f: Filter) => RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  switch (f.op) {
    case 'and': return sql<SqlBool>`(${combine(f.left, leaf)} and ${combine(f.right, leaf)})`;
    case 'or': return sql<SqlBool>`(${combine(f.left, leaf)} or ${combine(f.right, leaf)})`;
    // Unknown (null, an attribute absent) is false before negating: not(title eq "x") keeps users without a title.
    case 'not': return sql<SqlBool>`(not coalesce(${combine(f.filter, leaf)}, false))`;
    default: return leaf(f);
  }
}

function leafWith(db: Kysely<any>, f: Filter, operand: (a: AttrPath) => Operand): RawBuilder<SqlBool> {
  if (f.op === 'pr') return present(operand(f.attr));
  if (f.op === 'has' || f.op === 'and' || f.op === 'or' || f.op === 'not') throw badRequest('Nested value filters are not allowed', 'invalidFilter');
  const c = f as Extract<Filter, { value: Value }>;
  return compare(db, operand(c.attr), c.op, c.value);
}

/**
 * The attribute without its schema URN when that is the resource's own core schema
 * (`urn:ietf:params:scim:schemas:core:2.0:User:userName` is `userName`), in any case.
 */
function withoutCoreUrn(kind: ResourceKind, a: AttrPath): AttrPath {
  if (!a.uri || a.uri.toLowerCase() !== (kind === 'User' ? URN.user : URN.group).toLowerCase()) return a;
  return a.sub === undefined ? { name: a.name } : { name: a.name, sub: a.sub };
}

/** A value filter's leaves as sub-attributes of `parent`: `name[givenName eq "A"]` is `name.givenName eq "A"`. */
function underParent(parent: string, f: Filter): Filter {
  switch (f.op) {
    case 'and':
    case 'or': return { op: f.op, left: underParent(parent, f.left), right: underParent(parent, f.right) };
    case 'not': return { op: 'not', filter: underParent(parent, f.filter) };
    case 'has': throw badRequest('Nested value filters are not allowed', 'invalidFilter');
    default:
      if (f.attr.uri || f.attr.sub) throw badRequest(`"${f.attr.sub ? `${f.attr.name}.${f.attr.sub}` : f.attr.name}" is not a sub-attribute of ${parent}`, 'invalidFilter');
      return { ...f, attr: { name: parent, sub: f.attr.name } };
  }
}

/**
 * The filter as the compilers read it: attributes without the resource's core URN, and a value
 * filter on a complex attribute that is not multi-valued (`name[…]`) as a filter on its
 * sub-attributes. A value filter on a simple attribute of the schema (`userName[…]`) is a 400.
 */
function normalized(kind: ResourceKind, f: Filter): Filter {
  switch (f.op) {
    case 'and':
    case 'or': return { op: f.op, left: normalized(kind, f.left), right: normalized(kind, f.right) };
    case 'not': return { op: 'not', filter: normalized(kind, f.filter) };
    case 'has': {
      const attr = withoutCoreUrn(kind, f.attr);
      const def = attr.uri ? undefined : topAttr(kind, attr.name);
      if (def && def.type !== 'complex') throw badRequest(`${def.name} has no sub-attributes to filter on`, 'invalidFilter');
      if (def && !def.multiValued) return underParent(def.name, normalized(kind, f.filter));
      return { op: 'has', attr, filter: normalized(kind, f.filter) };
    }
    default: return { ...f, attr: withoutCoreUrn(kind, f.attr) };
  }
}

/**
 * meta sub-attributes not kept in a column: `location` and `version` are present on every resource
 * (computed when it is returned), so `pr` is true; comparing them is not supported (a 400, not an
 * empty list).
 */
function metaLeaf(kind: ResourceKind, k: string, f: Leaf): RawBuilder<SqlBool> {
  if (k === 'meta.resourcetype') return f.op === 'pr' ? TRUE : f.op === 'eq' && String(f.value).toLowerCase() === kind.toLowerCase() ? TRUE : FALSE;
  if (f.op === 'pr' && (k === 'meta' || k === 'meta.location' || k === 'meta.version')) return TRUE;
  throw badRequest(`${k === 'meta' ? 'meta' : `meta.${f.attr.sub}`} cannot be filtered with "${f.op}"`, 'invalidFilter');
}

/** Canonical (schema) spelling of an attribute, so JSON paths match what storage wrote. */
function canonicalPath(kind: ResourceKind, a: AttrPath): { path: string[]; multi: boolean; subName?: string } {
  if (a.uri) {
    if (kind !== 'User' || !isEnterpriseUrn(a.uri)) throw badRequest(`Unknown schema "${a.uri}" in filter`, 'invalidFilter');
    const def = enterpriseAttr(a.name);
    const name = def?.name ?? a.name;
    const sub = a.sub ? (subAttr(def, a.sub)?.name ?? a.sub) : undefined;
    return { path: sub ? [URN.enterprise, name, sub] : [URN.enterprise, name], multi: false };
  }
  const def = topAttr(kind, a.name);
  const name = def?.name ?? a.name;
  const sub = a.sub ? (subAttr(def, a.sub)?.name ?? a.sub) : undefined;
  if (def?.multiValued) return { path: [name], multi: true, subName: sub ?? 'value' };
  return { path: sub ? [name, sub] : [name], multi: false };
}

/**
 * SQLite's text of a JSON value as PostgreSQL's ->> gives it: json_extract turns true and false into
 * 1 and 0, which no filter's `true` equals.
 */
function sqliteJsonText(json: RawBuilder<unknown>, path: string): RawBuilder<unknown> {
  const p = sql.lit(path);
  return sql`(case json_type(${json}, ${p}) when 'true' then 'true' when 'false' then 'false' else json_extract(${json}, ${p}) end)`;
}

/** The column holding a resource's stored SCIM attributes (JSON text). */
const ATTRIBUTES_COLUMN: Record<ResourceKind, string> = { User: 'users.scim_attributes', Group: 'pushed_groups.scim_attributes' };

/**
 * A resource's stored attributes as the database reads JSON, null when the text is not JSON (edited
 * outside Ledgerline), so that such a row matches no filter on them (a GET shows none of them:
 * toResource) and does not fail the search. SQLite: json_valid() (RFC 8259 JSON only; its
 * json_extract would read `{"a":1,}` too), 5-8% of a scan. PostgreSQL: the cast, unless `guard`
 * (ll_jsonb_or_null, migration 018), which a search uses only after the cast failed (listGuarded).
 * `lowered`: the text lower-cased whole first, keys and values (extensionJson).
 */
function storedJson(db: Kysely<any>, kind: ResourceKind, guard: boolean, lowered = false): RawBuilder<unknown> {
  const column = sql.ref(ATTRIBUTES_COLUMN[kind]);
  const text = lowered ? sql`lower(${column})` : column;
  if (isPostgres(db)) return guard ? sql`ll_jsonb_or_null(${text})` : sql`${text}::jsonb`;
  // Lower-casing does not change whether a text is JSON.
  return sql`(case when json_valid(${column}) then ${text} end)`;
}

/** `exists (select 1 from <elements of a JSON array column> where <cond on element fields>)`. */
function jsonArrayExists(db: Kysely<any>, json: RawBuilder<unknown>, arrayKey: string, cond: (field: (name: string) => RawBuilder<unknown>) => RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  if (isPostgres(db)) {
    const arr = sql`(${json} -> ${sql.lit(arrayKey)})`;
    const field = (name: string) => sql`(j.v ->> ${sql.lit(name)})`;
    return sql<SqlBool>`exists (select 1 from jsonb_array_elements(case when jsonb_typeof(${arr}) = 'array' then ${arr} else '[]'::jsonb end) as j(v) where ${cond(field)})`;
  }
  const path = sqliteJsonPath([arrayKey]);
  const field = (name: string) => sqliteJsonText(sql`j.value`, sqliteJsonPath([name]));
  return sql<SqlBool>`exists (select 1 from json_each(${json}, ${sql.lit(path)}) as j where j.type = 'object' and ${cond(field)})`;
}

/**
 * Another extension schema's URN (Entra's custom attributes, `urn:…:extension:acme:2.0:User`): its
 * attributes are stored as sent (scim.attributes.ts canonicalize), under the URN and the names the
 * client wrote. A Group has no enterprise extension, so its URN is another one there.
 */
function isOtherExtension(kind: ResourceKind, uri: string): boolean {
  return /extension/i.test(uri) && (kind === 'Group' || !isEnterpriseUrn(uri));
}

/**
 * Another extension's attribute, `path` being its URN, its name and a sub-attribute if any, each
 * matched in any case (as a PATCH matches them): read from the stored text lower-cased whole, keys
 * and values, where the lower-cased path finds it in one step. Its values are compared without regard
 * to case anyway (they are strings that are not caseExact, RFC 7643 §2.2). A document holding a name
 * twice in two cases, which Ledgerline never writes (a POST, PUT or PATCH keeps one key a name), is
 * read by one of them. Counting 100,000 users by `costCode eq "c5"`: PostgreSQL 1.2-1.3 s (it casts the
 * text again for each reading, twice here: the type, then the value) against 2.2 s looking each level
 * up with jsonb_each and comparing lower(key); SQLite 0.21 s against 0.30 s. A `title` filter, which
 * needs no lower-casing: 0.27 and 0.17 s.
 */
function extensionJson(db: Kysely<any>, kind: ResourceKind, guard: boolean, path: string[]): { json: RawBuilder<unknown>; keys: string[] } {
  // Lower-cased as each database's lower() lowers the text (SQLite folds ASCII only).
  const keys = path.map((k) => (isPostgres(db) ? k.toLowerCase() : asciiLower(k)));
  return { json: storedJson(db, kind, guard, true), keys };
}

/** The JSON types (jsonb_typeof; SQLite's json_each type) of the values another extension's attribute is compared by. */
const PG_SCALAR = sql`('string', 'number', 'boolean')`;
const SQLITE_SCALAR = sql`('text', 'integer', 'real', 'true', 'false')`;

/** PostgreSQL: the JSON value at `keys` (#>, which jsonbPathText's #>> reads as text). */
function pgValueAt(json: RawBuilder<unknown>, keys: string[]): RawBuilder<unknown> {
  return sql`(${json} #> array[${sql.join(keys.map((k) => sql.lit(k)), sql`,`)}]::text[])`;
}

/**
 * Whether another extension's attribute has a value satisfying `cond` (given the value's text as ->>
 * gives it: `abc`, `42`, `true`): the string, number or boolean stored there, or one of an array of
 * them (a multi-valued attribute matches when one of its values does, RFC 7644 §3.4.2.2); objects and
 * nulls have none. False, never null, when it has none.
 */
function extensionSome(db: Kysely<any>, kind: ResourceKind, guard: boolean, path: string[], cond: (text: RawBuilder<unknown>) => RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  const { json, keys } = extensionJson(db, kind, guard, path);
  if (isPostgres(db)) {
    const at = pgValueAt(json, keys);
    return sql<SqlBool>`coalesce(case jsonb_typeof(${at})
      when 'array' then exists (select 1 from jsonb_array_elements(${at}) as e(v) where jsonb_typeof(e.v) in ${PG_SCALAR} and ${cond(sql`(e.v #>> '{}')`)})
      when 'object' then false when 'null' then false else ${cond(sql`(${at} #>> '{}')`)} end, false)`;
  }
  // json_each at a path: the elements of an array there, or the string, number or boolean itself (a row
  // without a key), or an object's members (keyed by name, left out): the text is read once.
  return sql<SqlBool>`exists (select 1 ${sqliteValuesAt(json, keys)} and ${cond(SQLITE_VALUE_TEXT)})`;
}

/** SQLite: FROM and WHERE of the values of another extension's attribute (extensionSome), one row each, as `e`. */
function sqliteValuesAt(json: RawBuilder<unknown>, keys: string[]): RawBuilder<unknown> {
  return sql`from json_each(${json}, ${sql.lit(sqliteJsonPath(keys))}) as e where e.type in ${SQLITE_SCALAR} and typeof(e.key) <> 'text'`;
}

/** SQLite: the text of json_each's value as PostgreSQL's ->> gives it (true, not 1). */
const SQLITE_VALUE_TEXT = sql`(case e.type when 'true' then 'true' when 'false' then 'false' else e.value end)`;

/** The text another extension's attribute sorts by (lower-cased): its value, or its array's first; null for none. */
function extensionSortText(db: Kysely<any>, kind: ResourceKind, guard: boolean, path: string[]): RawBuilder<unknown> {
  const { json, keys } = extensionJson(db, kind, guard, path);
  if (isPostgres(db)) {
    const at = pgValueAt(json, keys);
    return sql`(case jsonb_typeof(${at})
      when 'array' then (select e.v #>> '{}' from jsonb_array_elements(${at}) with ordinality as e(v, n) where jsonb_typeof(e.v) in ${PG_SCALAR} order by e.n limit 1)
      when 'object' then null when 'null' then null else ${at} #>> '{}' end)`;
  }
  return sql`(select ${SQLITE_VALUE_TEXT} ${sqliteValuesAt(json, keys)} order by e.id limit 1)`;
}

/** The path under the stored attributes of another extension's attribute in a filter or sortBy. */
function extensionPath(a: AttrPath): string[] {
  return a.sub ? [a.uri!, a.name, a.sub] : [a.uri!, a.name];
}

/**
 * A comparison on another extension's attribute: true when one of its values satisfies it, as with
 * a multi-valued attribute; `ne` and `eq null` when none does (so a user without the attribute is
 * `ne` any value, as with the attributes of the core schema).
 */
function extensionLeaf(db: Kysely<any>, kind: ResourceKind, guard: boolean, f: Leaf): RawBuilder<SqlBool> {
  const some = (cond: (operand: Operand) => RawBuilder<SqlBool>) => extensionSome(db, kind, guard, extensionPath(f.attr), (text) => cond({ expr: text, kind: 'ci' }));
  // Values are strings, numbers and booleans (never null): present unless empty. Reading the value once
  // (present() reads it twice) matters on PostgreSQL, which casts the stored text for each reading.
  const present = (o: Operand) => sql<SqlBool>`${o.expr} <> ''`;
  if (f.op === 'pr') return some(present);
  const { op, value } = f as Extract<Filter, { value: Value }>;
  if (value === null && (op === 'eq' || op === 'ne')) return op === 'eq' ? sql<SqlBool>`(not ${some(present)})` : some(present);
  if (op === 'ne') return sql<SqlBool>`(not ${some((o) => compare(db, o, 'eq', value))})`;
  return some((o) => compare(db, o, op, value));
}

function jsonLeaf(db: Kysely<any>, kind: ResourceKind, f: Filter, guard: boolean): RawBuilder<SqlBool> {
  if ((f.op === 'has' || 'attr' in f) && f.attr.uri && isOtherExtension(kind, f.attr.uri)) {
    if (f.op === 'has') throw badRequest(`"${f.attr.uri}:${f.attr.name}[…]": another extension's attributes take no value filter (compare them: ${f.attr.name} eq "…")`, 'invalidFilter');
    return extensionLeaf(db, kind, guard, f as Leaf);
  }
  const json = storedJson(db, kind, guard);
  if (f.op === 'has') {
    const c = canonicalPath(kind, { ...f.attr, sub: undefined });
    const def = topAttr(kind, f.attr.name);
    const inner0 = f.filter;
    return jsonArrayExists(db, json, c.path[0], (field) =>
      combine(inner0, (inner) => leafWith(db, inner, (a) => ({ expr: field(subAttr(def, a.name)?.name ?? a.name), kind: 'ci' }))),
    );
  }
  if (f.op === 'and' || f.op === 'or' || f.op === 'not') throw new Error('unreachable');
  f = f as Leaf;
  const c = canonicalPath(kind, f.attr);
  if (c.multi) {
    return jsonArrayExists(db, json, c.path[0], (field) => leafWith(db, { ...f, attr: { name: c.subName! } } as Filter, (a) => ({ expr: field(a.name), kind: 'ci' })));
  }
  const expr = isPostgres(db) ? jsonbPathText(json, c.path) : sqliteJsonText(json, sqliteJsonPath(c.path));
  return leafWith(db, f, () => ({ expr, kind: 'ci' }));
}

function key(a: AttrPath): string {
  return (a.sub ? `${a.name}.${a.sub}` : a.name).toLowerCase();
}

/**
 * `map[k]` if `map` has `k` of its own: a name from a request (`sortBy=constructor`, a filter on
 * `toString`) must not find what every object inherits (a 500 before).
 */
const own = <T>(map: Record<string, T>, k: string): T | undefined => (Object.hasOwn(map, k) ? map[k] : undefined);

const USER_COLUMNS: Record<string, Operand> = {
  id: { expr: sql.ref('users.id'), kind: 'exact' },
  username: { expr: sql.ref('users.user_name_norm'), kind: 'norm' },
  externalid: { expr: sql.ref('users.external_id'), kind: 'exact' },
  displayname: { expr: sql.ref('users.display_name'), kind: 'ci' },
  'name.givenname': { expr: sql.ref('users.given_name'), kind: 'ci' },
  'name.familyname': { expr: sql.ref('users.family_name'), kind: 'ci' },
  'meta.created': { expr: sql.ref('users.created_at'), kind: 'datetime' },
  'meta.lastmodified': { expr: sql.ref('users.updated_at'), kind: 'datetime' },
};

const EMAIL_FIELDS: Record<string, Operand> = {
  value: { expr: sql.ref('e.value_norm'), kind: 'norm' },
  type: { expr: sql.ref('e.type_norm'), kind: 'norm' },
  primary: { expr: sql.ref('e.is_primary'), kind: 'int01' },
};

function emailsExists(cond: RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from scim_user_emails e where e.user_id = users.id and ${cond})`;
}

function emailField(name: string): Operand {
  const o = own(EMAIL_FIELDS, name.toLowerCase());
  if (!o) throw badRequest(`emails.${name} cannot be filtered`, 'invalidFilter');
  return o;
}

/** Whether `err` is PostgreSQL refusing a text as JSON (a stored resource's attributes that are not JSON). */
function isJsonCastFailure(err: unknown): boolean {
  const e = err as { code?: string; message?: string } | null;
  return e?.code === '22P02' && /\btype json/.test(e.message ?? '');
}

let guardedSearches = 0;

/**
 * `run(false)`, the search as it is compiled first; on PostgreSQL, when a filter's cast of the stored
 * attributes met a row that is not JSON, `run(true)`, the same search with ll_jsonb_or_null in place
 * of the cast (slower, see migration 018), where that row matches nothing. `run` must not be inside a
 * transaction the failure has aborted.
 */
export async function listGuarded<T>(db: Kysely<any>, run: (guardJson: boolean) => Promise<T>): Promise<T> {
  try {
    return await run(false);
  } catch (err) {
    if (!isPostgres(db) || !isJsonCastFailure(err)) throw err;
    if (guardedSearches++ % 1000 === 0) {
      process.emitWarning(`a SCIM filter met stored attributes that are not JSON (${guardedSearches} search(es) so far); it ran again without them. A PUT or PATCH of that user or group writes them again.`, { code: 'LEDGERLINE_SCIM_ATTRIBUTES_UNREADABLE' });
    }
    return run(true);
  }
}

export function compileUserFilter(db: Kysely<any>, filter: Filter, guardJson = false): RawBuilder<SqlBool> {
  return combine(normalized('User', filter), (f) => {
    if (f.op === 'has') {
      if (!f.attr.uri && f.attr.name.toLowerCase() === 'emails') return emailsExists(combine(f.filter, (inner) => leafWith(db, inner, (a) => emailField(a.name))));
      return jsonLeaf(db, 'User', f, guardJson);
    }
    if (f.op === 'and' || f.op === 'or' || f.op === 'not') throw new Error('unreachable');
    f = f as Leaf;
    const k = f.attr.uri ? '' : key(f.attr);
    if (k === 'active') {
      if (f.op === 'pr') return TRUE;
      if (f.op !== 'eq' && f.op !== 'ne') throw badRequest('active only supports eq and ne', 'invalidFilter');
      const want = toBoolean(f.value);
      const isActive = (f.op === 'eq') === want;
      return isActive ? sql<SqlBool>`users.status = 'active'` : sql<SqlBool>`users.status <> 'active'`;
    }
    if (k === 'emails' || k.startsWith('emails.')) {
      const o = emailField(f.attr.sub ?? 'value');
      return emailsExists(leafWith(db, f, () => o));
    }
    if (k.startsWith('groups.') && k !== 'groups.value') throw badRequest(`groups.${f.attr.sub} cannot be filtered`, 'invalidFilter');
    if (k === 'groups' || k === 'groups.value') {
      return sql<SqlBool>`exists (select 1 from pushed_group_members gm where gm.user_id = users.id and ${leafWith(db, f, () => ({ expr: sql.ref('gm.group_id'), kind: 'exact' }))})`;
    }
    const col = own(USER_COLUMNS, k);
    if (col) return leafWith(db, f, () => col);
    if (k === 'meta' || k.startsWith('meta.')) return metaLeaf('User', k, f);
    return jsonLeaf(db, 'User', f, guardJson);
  });
}

const GROUP_COLUMNS: Record<string, Operand> = {
  id: { expr: sql.ref('pushed_groups.id'), kind: 'exact' },
  displayname: { expr: sql.ref('pushed_groups.display_name_norm'), kind: 'norm' },
  externalid: { expr: sql.ref('pushed_groups.external_id'), kind: 'exact' },
  'meta.created': { expr: sql.ref('pushed_groups.created_at'), kind: 'datetime' },
  'meta.lastmodified': { expr: sql.ref('pushed_groups.updated_at'), kind: 'datetime' },
};

function membersExists(cond: RawBuilder<SqlBool>): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from pushed_group_members m where m.group_id = pushed_groups.id and ${cond})`;
}

export function compileGroupFilter(db: Kysely<any>, filter: Filter, guardJson = false): RawBuilder<SqlBool> {
  const memberField = (name: string): Operand => {
    if (name.toLowerCase() !== 'value') throw badRequest(`members.${name} cannot be filtered`, 'invalidFilter');
    return { expr: sql.ref('m.user_id'), kind: 'exact' };
  };
  return combine(normalized('Group', filter), (f) => {
    if (f.op === 'has') {
      if (f.attr.name.toLowerCase() !== 'members') return jsonLeaf(db, 'Group', f, guardJson);
      return membersExists(combine(f.filter, (inner) => leafWith(db, inner, (a) => memberField(a.name))));
    }
    if (f.op === 'and' || f.op === 'or' || f.op === 'not') throw new Error('unreachable');
    f = f as Leaf;
    const k = f.attr.uri ? '' : key(f.attr);
    if (k.startsWith('members.') && k !== 'members.value') throw badRequest(`members.${f.attr.sub} cannot be filtered`, 'invalidFilter');
    if (k === 'members' || k === 'members.value') {
      if (f.op === 'pr') return membersExists(TRUE);
      return membersExists(leafWith(db, f, () => memberField('value')));
    }
    const col = own(GROUP_COLUMNS, k);
    if (col) return leafWith(db, f, () => col);
    if (k === 'meta' || k.startsWith('meta.')) return metaLeaf('Group', k, f);
    return jsonLeaf(db, 'Group', f, guardJson);
  });
}

/**
 * sortBy attribute → the expression to order by (RFC 7644 §3.4.2.3), null for one the schema does not
 * have (the list keeps its default order). Strings that are not caseExact (RFC 7643 §2.2) sort
 * without regard to case, as they compare in filters: displayName by lower(display_name), which the
 * filter's expression index also serves; userName, e-mails and group names by their stored lower-case
 * forms. Missing values (null) come last ascending, first descending (sortOrder()). Indexed columns
 * are ordered as their index holds them, an empty string as text (a page read in index order;
 * docs/performance.md § Session 38); the names and the attributes kept in the stored JSON, which no
 * index holds, sort an empty string with the missing values, as `pr` reads it.
 */
export function sortExpression(db: Kysely<any>, kind: ResourceKind, sortBy: string, guardJson = false): RawBuilder<unknown> | null {
  let a: AttrPath;
  try {
    a = withoutCoreUrn(kind, parseAttrPath(sortBy));
  } catch {
    return null; // not an attribute path (a 400 in a filter): no attribute of the schema
  }
  const k = a.uri ? '' : key(a);
  const user: Record<string, RawBuilder<unknown>> = {
    // displayName and e-mails as their indexes hold them (users_display_name_lower, users_email_norm), so
    // PostgreSQL orders a page by the index; an empty value ('') sorts as text, before 'a'.
    id: sql.ref('users.id'), username: sql.ref('users.user_name_norm'), displayname: sql`lower(users.display_name)`,
    externalid: sql.ref('users.external_id'), 'name.givenname': sql`nullif(lower(users.given_name), '')`, 'name.familyname': sql`nullif(lower(users.family_name), '')`,
    'meta.created': sql.ref('users.created_at'), 'meta.lastmodified': sql.ref('users.updated_at'),
    emails: sql.ref('users.email_norm'), 'emails.value': sql.ref('users.email_norm'),
    // false before true, as the words sort
    active: sql`(case when users.status = 'active' then 'true' else 'false' end)`,
  };
  const group: Record<string, RawBuilder<unknown>> = {
    id: sql.ref('pushed_groups.id'), displayname: sql.ref('pushed_groups.display_name_norm'), externalid: sql.ref('pushed_groups.external_id'),
    'meta.created': sql.ref('pushed_groups.created_at'), 'meta.lastmodified': sql.ref('pushed_groups.updated_at'),
  };
  const column = k ? own(kind === 'User' ? user : group, k) : undefined;
  if (column) return column;
  return storedSortExpression(db, kind, a, guardJson);
}

/**
 * A sortBy on an attribute kept in the stored JSON: its text in lower case, '' as none. A
 * multi-valued one (`phoneNumbers`, `addresses.locality`) by the primary value, else the first
 * (RFC 7644 §3.4.2.3); another extension's attribute by its value, or its array's first. Attributes
 * kept elsewhere or holding no text to sort by (`groups`, `members`, `meta.location`, `name` without
 * a sub-attribute, `password`) give null.
 */
function storedSortExpression(db: Kysely<any>, kind: ResourceKind, a: AttrPath, guardJson: boolean): RawBuilder<unknown> | null {
  const ordered = (text: RawBuilder<unknown>) => sql`nullif(lower(${text}), '')`;
  if (a.uri && isOtherExtension(kind, a.uri)) return ordered(extensionSortText(db, kind, guardJson, extensionPath(a)));
  const json = storedJson(db, kind, guardJson);
  const pg = isPostgres(db);
  if (a.uri && !(kind === 'User' && isEnterpriseUrn(a.uri))) return null;
  const def = a.uri ? enterpriseAttr(a.name) : topAttr(kind, a.name);
  if (!def || ['id', 'externalId', 'meta', 'groups', 'members', 'password', 'active'].includes(def.name)) return null;
  const sub = a.sub === undefined ? undefined : subAttr(def, a.sub);
  if (a.sub !== undefined && !sub) return null;
  if (def.type === 'complex' && !def.multiValued && !sub) return null;
  if (def.multiValued) {
    const field = sub?.name ?? 'value';
    if (pg) {
      const arr = sql`(${json} -> ${sql.lit(def.name)})`;
      return sql`(select ${ordered(sql`(e.v ->> ${sql.lit(field)})`)} from jsonb_array_elements(case when jsonb_typeof(${arr}) = 'array' then ${arr} else '[]'::jsonb end) with ordinality as e(v, n)
        where jsonb_typeof(e.v) = 'object' order by coalesce(e.v -> 'primary' = 'true'::jsonb, false) desc, e.n limit 1)`;
    }
    return sql`(select ${ordered(sqliteJsonText(sql`e.value`, sqliteJsonPath([field])))} from json_each(${json}, ${sql.lit(sqliteJsonPath([def.name]))}) as e
      where e.type = 'object' order by coalesce(json_type(e.value, '$.primary') = 'true', 0) desc, e.key limit 1)`;
  }
  const path = [...(a.uri ? [URN.enterprise] : []), def.name, ...(sub ? [sub.name] : [])];
  return ordered(pg ? jsonbPathText(json, path) : sqliteJsonText(json, sqliteJsonPath(path)));
}

/**
 * The direction of a sortBy, with resources without a value last ascending and first descending
 * (RFC 7644 §3.4.2.3): PostgreSQL's default, not SQLite's (nulls sort first there).
 */
export function sortOrder(descending: boolean): (ob: OrderByItemBuilder) => OrderByItemBuilder {
  return descending ? (ob) => ob.desc().nullsFirst() : (ob) => ob.asc().nullsLast();
}
