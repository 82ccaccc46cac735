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

test('REQUEST_TIMEOUT_SECONDS: 300 by default (Node\'s own), 0 for no limit, up to a day; anything else refused naming the variable', () => {
  assert.equal(loadConfig({}).requestTimeoutSeconds, 300);
  for (const ok of [0, 1, 3600, 86_400]) assert.equal(loadConfig({ REQUEST_TIMEOUT_SECONDS: String(ok) }).requestTimeoutSeconds, ok);
  assert.throws(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: '86401' }), { message: 'REQUEST_TIMEOUT_SECONDS must be between 0 (no limit) and 86400, got "86401"' });
  for (const bad of ['five', '1.5', '-3']) assert.throws(() => loadConfig({ REQUEST_TIMEOUT_SECONDS: bad }), /^Error: REQUEST_TIMEOUT_SECONDS must be/, bad);
});
