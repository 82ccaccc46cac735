// The environment's settings: defaults, and a clear refusal of a value out of range.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../src/config.ts';

test('SCIM_MAX_BODY_MB: 10 by default, 1 to 256 accepted, anything else refused naming the variable', () => {
  assert.equal(loadConfig({}).scimMaxBodyMb, 10);
  for (const ok of [1, 64, 256]) assert.equal(loadConfig({ SCIM_MAX_BODY_MB: String(ok) }).scimMaxBodyMb, ok);
  assert.throws(() => loadConfig({ SCIM_MAX_BODY_MB: '257' }), { message: 'SCIM_MAX_BODY_MB must be between 1 and 256, got "257"' });
  for (const bad of ['0', 'ten', '1.5', '-3']) assert.throws(() => loadConfig({ SCIM_MAX_BODY_MB: bad }), /^Error: SCIM_MAX_BODY_MB must be/, bad);
});
