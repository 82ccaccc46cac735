// How request schemas are compiled: the JSON types of a body are checked as sent; query strings,
// path parameters and headers are text, so only they are coerced ("limit=20" → 20).
// A coercing body check let ["x"] through a string field (a 500 in the service's .trim()) and
// stored `true` as 1, "1e3" as 1000 and a null as 0 or false.
import AjvCompiler from '@fastify/ajv-compiler';
import { oversizedParts } from './oversize.ts';

type BuildValidator = ReturnType<typeof AjvCompiler>;
type CompilerOptions = Parameters<BuildValidator>[1];

const pool = AjvCompiler();

/**
 * A `schemaController.compilersFactory.buildValidator`: the app's Ajv options (and Fastify's
 * defaults, ajv-formats included), coercing for the text parts and not for bodies; a body is also
 * compiled to stop at its first error (oversizeFirst).
 */
export const buildValidator: BuildValidator = (externalSchemas, options) => {
  const withCoercion = (coerceTypes: 'array' | false, more: Record<string, unknown> = {}) => ({ ...options, customOptions: { ...options?.customOptions, coerceTypes, ...more } }) as CompilerOptions;
  const text = pool(externalSchemas, withCoercion('array'));
  const body = pool(externalSchemas, withCoercion(false));
  const firstError = pool(externalSchemas, withCoercion(false, { allErrors: false }));
  return (route) => (route.httpPart === 'body' ? oversizeFirst(route.schema, firstError(route), body(route)) : text(route));
};

/** An Ajv-style check: true, or false with its errors on `errors`. */
type Check = ((data: unknown) => boolean) & { errors?: unknown[] | null };

/**
 * A body check that answers a body with a part too big from that part alone. With every error asked
 * for (the app's allErrors), Ajv goes on through each item of a list it has already refused as too
 * long: one product charge with 30,000 refused tiers (733 KB) held the request thread 0.8-1.3 s and
 * was answered with a field per refused value (60,002 fields, 3.3 MB). `first` (stopping at the first error) says whether the body passes;
 * if not, a walk of the body against the schema (oversizedParts) looks for parts too big, and those
 * are the answer. Otherwise `all` checks it as before, so a body that is only wrong, not too big,
 * still has every field's error named.
 */
function oversizeFirst<F extends Check>(schema: unknown, first: F, all: F): F {
  const check: Check = (data) => {
    if (first(data)) {
      check.errors = null;
      return true;
    }
    const tooBig = oversizedParts(schema, data);
    if (tooBig.length) {
      check.errors = tooBig;
      return false;
    }
    const ok = all(data);
    check.errors = all.errors;
    return ok;
  };
  // The rest of what Ajv's function carries (its schema, for whoever reads it) is the full check's.
  return Object.assign(check, { ...all, errors: null }) as unknown as F;
}

/**
 * A route's `preValidation` for a POST whose body is optional: none (or JSON null) is checked as `{}`.
 * A body schema wrapped in Type.Optional did not make it so: Fastify checked the object schema all the
 * same, and a POST without a body was a 400 "body: Must be object".
 */
export const noBodyIsEmpty = async (request: { body: unknown }): Promise<void> => {
  request.body ??= {};
};
