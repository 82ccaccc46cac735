// Shared TypeBox building blocks for request schemas.
import { Type, type TSchema } from 'typebox';

/**
 * `T | null`, with Null listed first: the app's ajv coerces types (query strings need it), and with
 * the string branch first it would coerce a JSON null to "" instead of keeping it null.
 */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([Type.Null(), schema]);
