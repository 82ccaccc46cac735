// Which branch of a union (anyOf/oneOf) a refused value was meant for, so that a 400 names that
// branch's errors only. Ajv (allErrors) reports every branch: a graduated price with one tier's flat
// fee below 0 was refused with "Must be null", "Required", "Unknown field" and "Must be equal to
// constant" beside the tier's own error, one for each shape it was not. The branch is read from the
// route's schema and the value sent: the discriminator (a property every object branch requires with
// its own constant, such as a price's model) when there is one, else the branch the value's type and
// fields fit best. This validates nothing itself, and when it cannot tell which branch was meant it
// leaves every branch's errors, as before.

export interface SchemaError {
  keyword?: string;
  instancePath?: string;
  schemaPath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

type Schema = Record<string, unknown>;

/** A branch, or the allowed values of a discriminator the value misses (at `key`, or the value itself). */
type Choice = { branch: number } | { key?: string; missing?: boolean; allowed: unknown[] } | undefined;

/**
 * `errors` (Ajv's, for `data` against `schema`) without those of the branches of each union that the
 * value was not meant for; a missing or unknown discriminator becomes one error on it naming the
 * allowed values. The union's own error ("must match a schema in anyOf") goes when its branches speak.
 */
export function errorsOfMeantBranches(errors: SchemaError[], schema: unknown, data: unknown): SchemaError[] {
  const dropped = new Uint8Array(errors.length);
  // Inside a union whose branch could not be told: left as Ajv wrote them, inner unions included.
  const left = new Uint8Array(errors.length);
  const replaced = new Map<number, SchemaError>();
  const branchesAt = new Map<string, unknown>(); // schemaPath → its branches: the same union for each item of a list
  // Ajv writes a union's error just after those of its branches, so each union's errors are the run
  // before it, and from the end an outer union is met before the unions inside it. Each error is
  // looked at once per union around it: a 1 MB body of refused unions is answered in linear time.
  for (let k = errors.length - 1; k >= 0; k--) {
    const union = errors[k];
    if (dropped[k] || left[k] || (union.keyword !== 'anyOf' && union.keyword !== 'oneOf') || !union.schemaPath?.startsWith('#/')) continue;
    const at = union.instancePath ?? '';
    const branchOf: number[] = []; // of errors[k - 1], errors[k - 2], …
    for (let i = k - 1; i >= 0; i--) {
      const b = branchIndex(errors[i], union.schemaPath, at);
      if (b === undefined) break;
      branchOf.push(b);
    }
    if (!branchOf.length) continue;
    if (!branchesAt.has(union.schemaPath)) branchesAt.set(union.schemaPath, resolve(schema, union.schemaPath.slice(2).split('/').map(unescapeSchemaSegment)));
    const branches = branchesAt.get(union.schemaPath);
    if (!Array.isArray(branches)) continue;
    const counts = new Map<number, number>();
    for (const b of branchOf) counts.set(b, (counts.get(b) ?? 0) + 1);
    const choice = chooseBranch(branches, resolve(data, at.split('/').slice(1).map(unescapePointer)), (b) => counts.get(b) ?? 0);
    dropped[k] = 1;
    if (choice === undefined) {
      left.fill(1, k - branchOf.length, k);
    } else if ('branch' in choice) {
      branchOf.forEach((b, j) => {
        if (b !== choice.branch) dropped[k - 1 - j] = 1;
      });
    } else {
      dropped.fill(1, k - branchOf.length, k);
      const values = choice.allowed.map((v) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ');
      replaced.set(k, {
        keyword: 'discriminator',
        instancePath: choice.key === undefined ? at : `${at}/${escapePointer(choice.key)}`,
        params: { allowedValues: choice.allowed },
        message: choice.missing ? `Required: one of ${values}` : `Must be one of ${values}`,
      });
    }
  }
  return errors.flatMap((e, k) => (replaced.has(k) ? [replaced.get(k)!] : dropped[k] ? [] : [e]));
}

/** Which branch of the union at `unionPath` (checking the value at `at`) an error is in, if it is. */
function branchIndex(e: SchemaError, unionPath: string, at: string): number | undefined {
  const path = e.instancePath ?? '';
  if (!e.schemaPath?.startsWith(unionPath) || e.schemaPath[unionPath.length] !== '/' || !(path === at || path.startsWith(`${at}/`))) return undefined;
  const m = /^\/(\d+)(\/|$)/.exec(e.schemaPath.slice(unionPath.length));
  return m ? Number(m[1]) : undefined;
}

export function chooseBranch(branches: unknown[], value: unknown, errorCount: (branch: number) => number): Choice {
  // A union of values (month or year) names them.
  const consts = branches.map(constOf);
  if (consts.every((c) => c !== NONE)) {
    const same = consts.findIndex((c) => sameValue(c, value));
    return same >= 0 ? { branch: same } : { allowed: consts };
  }
  const fits = branches.map((_, i) => i).filter((i) => admits(branches[i], value));
  // A value of no branch's type: every branch's type error, merged ("Must be object or null").
  if (fits.length <= 1) return fits.length ? { branch: fits[0] } : undefined;
  if (isObject(value)) {
    const objects = fits.map((i) => branches[i] as Schema);
    const key = discriminator(objects);
    if (key !== undefined) {
      const j = objects.findIndex((b) => sameValue(constOf(properties(b)[key]), value[key]));
      if (j >= 0) return { branch: fits[j] };
      return { key, missing: !(key in value), allowed: objects.map((b) => constOf(properties(b)[key])) };
    }
  }
  // No discriminator: fewest fields missing, unknown or of another constant, then fewest errors.
  const score = (i: number): [number, number] => [isObject(value) ? mismatches(branches[i], value) : 0, errorCount(i)];
  const ranked = fits.map((i) => ({ i, s: score(i) })).sort((a, b) => a.s[0] - b.s[0] || a.s[1] - b.s[1]);
  const [best, next] = ranked;
  return best.s[0] === next.s[0] && best.s[1] === next.s[1] ? undefined : { branch: best.i };
}

/** Whether `value` is of a JSON type the schema takes (its other rules aside). */
function admits(schema: unknown, value: unknown): boolean {
  if (typeof schema === 'boolean') return schema;
  if (!isObject(schema)) return true;
  const union = (schema.anyOf ?? schema.oneOf) as unknown;
  if (Array.isArray(union) && !union.some((b) => admits(b, value))) return false;
  if (Array.isArray(schema.allOf) && !schema.allOf.every((b) => admits(b, value))) return false;
  if (schema.type === undefined) return true;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type];
  return types.some((t) => isOfType(t, value));
}

function isOfType(type: unknown, value: unknown): boolean {
  switch (type) {
    case 'null': return value === null;
    case 'boolean': return typeof value === 'boolean';
    case 'integer': return Number.isInteger(value);
    case 'number': return typeof value === 'number' && Number.isFinite(value);
    case 'string': return typeof value === 'string';
    case 'array': return Array.isArray(value);
    case 'object': return isObject(value);
    default: return true;
  }
}

/** A property that every branch requires with a constant of its own. */
function discriminator(branches: Schema[]): string | undefined {
  const candidates = Object.keys(properties(branches[0]));
  return candidates.find((key) => {
    const values = branches.map((b) => (Array.isArray(b.required) && b.required.includes(key) ? constOf(properties(b)[key]) : NONE));
    return values.every((v) => v !== NONE) && new Set(values.map((v) => JSON.stringify(v))).size === values.length;
  });
}

/** How far an object is from a branch: required fields it lacks, fields the branch does not take, constants it differs from. */
function mismatches(branch: unknown, value: Record<string, unknown>): number {
  if (!isObject(branch)) return 0;
  const props = properties(branch);
  const required = Array.isArray(branch.required) ? (branch.required as string[]) : [];
  let n = required.filter((k) => !(k in value)).length;
  if (branch.additionalProperties === false) n += Object.keys(value).filter((k) => !(k in props)).length;
  for (const [k, p] of Object.entries(props)) {
    const c = constOf(p);
    if (c !== NONE && k in value && !sameValue(c, value[k])) n++;
  }
  return n;
}

const NONE = Symbol('no constant');
function constOf(schema: unknown): unknown {
  if (!isObject(schema)) return NONE;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length === 1) return schema.enum[0];
  return NONE;
}

export const properties = (schema: Schema): Schema => (isObject(schema.properties) ? (schema.properties as Schema) : {});
const sameValue = (a: unknown, b: unknown) => a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b));
export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A JSON pointer's segment, as in an instancePath. */
const unescapePointer = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');
/** A key as a JSON pointer's segment. */
export const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** A segment of a schemaPath, which Ajv also URI-escapes. */
function unescapeSchemaSegment(s: string): string {
  try {
    return unescapePointer(decodeURIComponent(s));
  } catch {
    return unescapePointer(s);
  }
}

function resolve(root: unknown, segments: string[]): unknown {
  let node = root;
  for (const s of segments) {
    if (typeof node !== 'object' || node === null || !Object.hasOwn(node, s)) return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return node;
}
