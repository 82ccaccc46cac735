import { test } from 'node:test';
import assert from 'node:assert/strict';
import { agingBucket } from './reports.service.ts';

test('aging buckets count days past the due date, the due date itself being current', () => {
  const asOf = '2026-06-30';
  assert.equal(agingBucket('2026-07-15', asOf), 'current');
  assert.equal(agingBucket('2026-06-30', asOf), 'current');
  assert.equal(agingBucket('2026-06-29', asOf), 'days1to30');
  assert.equal(agingBucket('2026-05-31', asOf), 'days1to30'); // 30 days late
  assert.equal(agingBucket('2026-05-30', asOf), 'days31to60');
  assert.equal(agingBucket('2026-05-01', asOf), 'days31to60'); // 60 days late
  assert.equal(agingBucket('2026-04-30', asOf), 'days61to90');
  assert.equal(agingBucket('2026-04-01', asOf), 'days61to90'); // 90 days late
  assert.equal(agingBucket('2026-03-31', asOf), 'days90plus');
});
