// How request schemas are compiled: the JSON types of a body are checked as sent; query strings,
// path parameters and headers are text, so only they are coerced ("limit=20" → 20).
// A coercing body check let ["x"] through a string field (a 500 in the service's .trim()) and
// stored `true` as 1, "1e3" as 1000 and a null as 0 or false.
import AjvCompiler from '@fastify/ajv-compiler';

type BuildValidator = ReturnType<typeof AjvCompiler>;
type CompilerOptions = Parameters<BuildValidator>[1];

const pool = AjvCompiler();

/**
 * A `schemaController.compilersFactory.buildValidator`: the app's Ajv options (and Fastify's
 * defaults, ajv-formats included) twice, once coercing for the text parts and once not for bodies.
 */
export const buildValidator: BuildValidator = (externalSchemas, options) => {
  const withCoercion = (coerceTypes: 'array' | false) => ({ ...options, customOptions: { ...options?.customOptions, coerceTypes } }) as CompilerOptions;
  const text = pool(externalSchemas, withCoercion('array'));
  const body = pool(externalSchemas, withCoercion(false));
  return (route) => (route.httpPart === 'body' ? body(route) : text(route));
};

/**
 * A route's `preValidation` for a POST whose body is optional: none (or JSON null) is checked as `{}`.
 * A body schema wrapped in Type.Optional did not make it so: Fastify checked the object schema all the
 * same, and a POST without a body was a 400 "body: Must be object".
 */
export const noBodyIsEmpty = async (request: { body: unknown }): Promise<void> => {
  request.body ??= {};
};
