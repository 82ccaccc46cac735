import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validationFields } from './http-errors.ts';

test('a field that fails the type of every branch of a union names each type once, null last', () => {
  // What Ajv reports for {"upTo": "abc"} against two branches that each take an integer or null.
  const typeError = (type: string) => ({ keyword: 'type', instancePath: '/tiers/0/upTo', params: { type }, message: `must be ${type}` });
  const fields = validationFields([typeError('integer'), typeError('null'), typeError('integer'), typeError('null')]);
  assert.deepEqual(fields, { 'tiers.0.upTo': 'Must be integer or null' });
  assert.deepEqual(validationFields([typeError('null'), typeError('string')]), { 'tiers.0.upTo': 'Must be string or null' });
  assert.deepEqual(validationFields([typeError('integer'), typeError('integer')]), { 'tiers.0.upTo': 'Must be integer' });
});
