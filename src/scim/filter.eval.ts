// Evaluates a parsed filter against one in-memory object: an element of a multi-valued attribute
// in a PATCH value path (`emails[type eq "work"]`) or in an `attributes=` projection. Never used to
// filter lists of resources: those filters compile to SQL (filter.sql.ts).
import type { AttrPath, Filter, Value } from './filter.parser.ts';

/** Case-insensitive property lookup (SCIM attribute names are case-insensitive). */
export function getProp(obj: unknown, name: string): unknown {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const rec = obj as Record<string, unknown>;
  if (Object.hasOwn(rec, name)) return rec[name]; // not what every object inherits (`constructor`)
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

function valuesAt(obj: unknown, attr: AttrPath): unknown[] {
  let v = getProp(obj, attr.name);
  if (attr.sub !== undefined) {
    v = Array.isArray(v) ? v.map((e) => getProp(e, attr.sub!)) : getProp(v, attr.sub);
  }
  if (Array.isArray(v)) return v.flat();
  return v === undefined ? [] : [v];
}

const CASE_EXACT = new Set(['id', 'externalid', 'value', '$ref']);

function compare(op: string, actual: unknown, expected: Value, caseExact: boolean): boolean {
  if (actual === null || actual === undefined) return op === 'ne' ? expected !== null : op === 'eq' && expected === null;
  if (typeof actual === 'boolean' || typeof expected === 'boolean') {
    const a = typeof actual === 'string' ? actual.toLowerCase() === 'true' : Boolean(actual);
    const e = typeof expected === 'string' ? expected.toLowerCase() === 'true' : Boolean(expected);
    if (op === 'eq') return a === e;
    if (op === 'ne') return a !== e;
    return false;
  }
  if (typeof actual === 'number' && typeof expected === 'number') {
    switch (op) {
      case 'eq': return actual === expected;
      case 'ne': return actual !== expected;
      case 'gt': return actual > expected;
      case 'ge': return actual >= expected;
      case 'lt': return actual < expected;
      case 'le': return actual <= expected;
      default: return false;
    }
  }
  let a = String(actual);
  let e = expected === null ? '' : String(expected);
  if (!caseExact) {
    a = a.toLowerCase();
    e = e.toLowerCase();
  }
  switch (op) {
    case 'eq': return a === e;
    case 'ne': return a !== e;
    case 'co': return a.includes(e);
    case 'sw': return a.startsWith(e);
    case 'ew': return a.endsWith(e);
    case 'gt': return a > e;
    case 'ge': return a >= e;
    case 'lt': return a < e;
    case 'le': return a <= e;
    default: return false;
  }
}

export function matches(obj: unknown, f: Filter): boolean {
  switch (f.op) {
    case 'and': return matches(obj, f.left) && matches(obj, f.right);
    case 'or': return matches(obj, f.left) || matches(obj, f.right);
    case 'not': return !matches(obj, f.filter);
    case 'pr': return valuesAt(obj, f.attr).some((v) => v !== null && v !== '' && !(Array.isArray(v) && v.length === 0));
    case 'has': {
      const arr = getProp(obj, f.attr.name);
      return Array.isArray(arr) && arr.some((e) => matches(e, f.filter));
    }
    default: {
      const caseExact = CASE_EXACT.has((f.attr.sub ?? f.attr.name).toLowerCase());
      const vals = valuesAt(obj, f.attr);
      if (f.op === 'ne') return vals.length === 0 ? f.value !== null : vals.every((v) => compare('ne', v, f.value, caseExact));
      return vals.some((v) => compare(f.op, v, f.value, caseExact));
    }
  }
}
