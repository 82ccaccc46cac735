// The /api error shape: {error:{code,message,fields?,requestId}}. 5xx details stay in the log.
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from './errors.ts';
import { errorsOfMeantBranches, type SchemaError } from './union-branch.ts';

/**
 * An error response written straight to the socket, for requests Node's HTTP parser refused before
 * any request object exists (Fastify's clientErrorHandler); the connection is closed after it.
 */
export function writeRawError(socket: Socket, status: number, contentType: string, text: string): void {
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: ${contentType}\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  }
  socket.destroy();
}

type ValidationItem = SchemaError;

/**
 * Fastify/ajv validation errors → field name → message. Given the schema and the value checked, a
 * union's errors are those of the branch the value was meant for (union-branch.ts).
 */
export function validationFields(all: ValidationItem[], checked?: { schema: unknown; data: unknown }): Record<string, string> {
  const items = checked ? errorsOfMeantBranches(all, checked.schema, checked.data) : all;
  const fields: Record<string, string> = {};
  // A nullable field (anyOf null, string) fails once per branch: "Must be string or null", not "Must be null".
  const types = new Map<string, string[]>();
  for (const v of items) {
    let name = (v.instancePath || '').replace(/^\//, '').replace(/\//g, '.');
    if (v.params && typeof v.params.missingProperty === 'string') name = name ? `${name}.${v.params.missingProperty}` : v.params.missingProperty;
    if (v.params && typeof v.params.additionalProperty === 'string') name = name ? `${name}.${v.params.additionalProperty}` : v.params.additionalProperty;
    name ||= 'body';
    if (v.keyword === 'type' && typeof v.params?.type === 'string') types.set(name, [...(types.get(name) ?? []), v.params.type]);
    if (!fields[name]) fields[name] = humanise(v);
  }
  for (const [name, list] of types) {
    // Each type once: the branches of a union can name the same one ("Must be integer or integer or null or null").
    const distinct = [...new Set(list)];
    if (distinct.length > 1) fields[name] = `Must be ${[...distinct.filter((x) => x !== 'null'), ...distinct.filter((x) => x === 'null')].join(' or ')}`;
  }
  return fields;
}

function humanise(v: ValidationItem): string {
  if (v.params?.missingProperty) return 'Required';
  if (v.params?.additionalProperty) return 'Unknown field';
  // Ajv says "must be equal to constant" or "to one of the allowed values" without naming them.
  if (v.keyword === 'const' && v.params && 'allowedValue' in v.params) return `Must be ${valueText(v.params.allowedValue)}`;
  if (v.keyword === 'enum' && Array.isArray(v.params?.allowedValues)) return `Must be one of ${v.params.allowedValues.map(valueText).join(', ')}`;
  const m = v.message || 'Invalid value';
  return m.charAt(0).toUpperCase() + m.slice(1);
}

const valueText = (v: unknown) => (typeof v === 'string' ? v : JSON.stringify(v));

/** The schema a request part was validated against, and its value, for validationFields. */
function checkedPart(request: FastifyRequest, part: string | undefined): { schema: unknown; data: unknown } | undefined {
  const data = part === 'body' ? request.body : part === 'querystring' ? request.query : part === 'params' ? request.params : part === 'headers' ? request.headers : undefined;
  const schema = part ? (request.routeOptions.schema as Record<string, unknown> | undefined)?.[part] : undefined;
  return schema === undefined ? undefined : { schema, data };
}

export function apiErrorHandler(error: FastifyError | AppError, request: FastifyRequest, reply: FastifyReply) {
  const requestId = request.id;
  if (error instanceof AppError) {
    if (error.status >= 500) request.log.error({ err: error }, 'request failed');
    return reply.code(error.status).send({ error: { code: error.code, message: error.message, ...(error.fields ? { fields: error.fields } : {}), requestId } });
  }
  const fe = error as FastifyError & { validation?: ValidationItem[] };
  if (fe.validation) {
    const fields = validationFields(fe.validation, checkedPart(request, fe.validationContext));
    return reply.code(400).send({ error: { code: 'invalid', message: 'Some fields need attention', fields, requestId } });
  }
  if (fe.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: { code: 'payload_too_large', message: 'The request body is too large', requestId } });
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) {
    const code = fe.statusCode === 415 ? 'invalid' : fe.statusCode === 404 ? 'not_found' : fe.statusCode === 429 ? 'rate_limited' : 'invalid';
    return reply.code(fe.statusCode).send({ error: { code, message: fe.message || 'Bad request', requestId } });
  }
  request.log.error({ err: error }, 'unhandled error');
  return reply.code(500).send({ error: { code: 'internal', message: `Something went wrong on our side (reference ${requestId})`, requestId } });
}
