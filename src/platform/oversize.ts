// The parts of a refused request body too big for its schema, found before Ajv is asked for every
// error (src/platform/validator.ts): with allErrors, Ajv goes on through each item of a list it has
// already refused as too long, and names each of their errors.
import { chooseBranch, escapePointer, isObject, properties, type SchemaError } from './union-branch.ts';

/**
 * The parts of `data` too big for `schema` (maxItems, maxLength, maxProperties), as Ajv would word
 * them, looking into each union's meant branch only (the one chooseBranch names; none when it cannot
 * tell) and not into a list already too long. For a body that is refused: its size is then the whole
 * answer, given in time linear in the body, where Ajv with allErrors would go on through every item
 * of a list it has already refused and report each of their errors (src/platform/validator.ts).
 */
export function oversizedParts(schema: unknown, data: unknown): SchemaError[] {
  const found: SchemaError[] = [];
  const tooBig = (keyword: string, limit: number, what: string, at: string, schemaPath: string) =>
    found.push({ keyword, instancePath: at, schemaPath: `${schemaPath}/${keyword}`, params: { limit }, message: `must NOT have more than ${limit} ${what}` });
  const walk = (s: unknown, v: unknown, at: string, schemaPath: string): void => {
    if (!isObject(s)) return;
    for (const key of ['anyOf', 'oneOf'] as const) {
      const branches = s[key];
      if (!Array.isArray(branches)) continue;
      const choice = chooseBranch(branches, v, () => 0);
      if (choice && 'branch' in choice) walk(branches[choice.branch], v, at, `${schemaPath}/${key}/${choice.branch}`);
    }
    if (Array.isArray(s.allOf)) s.allOf.forEach((b, i) => walk(b, v, at, `${schemaPath}/allOf/${i}`));
    // Ajv counts a string's characters as code points: a pair of UTF-16 surrogates is one.
    if (typeof v === 'string' && typeof s.maxLength === 'number' && v.length > s.maxLength) {
      let chars = 0;
      for (const _ of v) chars++;
      if (chars > s.maxLength) tooBig('maxLength', s.maxLength, 'characters', at, schemaPath);
    } else if (Array.isArray(v)) {
      if (typeof s.maxItems === 'number' && v.length > s.maxItems) tooBig('maxItems', s.maxItems, 'items', at, schemaPath);
      else if (isObject(s.items)) v.forEach((item, i) => walk(s.items, item, `${at}/${i}`, `${schemaPath}/items`));
    } else if (isObject(v)) {
      const keys = Object.keys(v);
      if (typeof s.maxProperties === 'number' && keys.length > s.maxProperties) tooBig('maxProperties', s.maxProperties, 'properties', at, schemaPath);
      const props = properties(s);
      for (const k of keys) {
        if (Object.hasOwn(props, k)) walk(props[k], v[k], `${at}/${escapePointer(k)}`, `${schemaPath}/properties/${encodeURIComponent(escapePointer(k))}`);
      }
    }
  };
  walk(schema, data, '', '#');
  return found;
}
