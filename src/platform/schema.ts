// Shared TypeBox building blocks for request schemas.
import { Type, type TSchema } from 'typebox';

/**
 * `T | null`. Null is listed first for query strings, which the app's ajv still coerces: with the
 * string branch first a null would become "". Bodies are not coerced (validator.ts).
 */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([Type.Null(), schema]);
