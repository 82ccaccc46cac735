// Identifiers for new rows. UUID version 7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then
// random bits. Ids made one after another sort one after another, so inserting a row appends to the
// right edge of every index that holds the id (primary key, foreign keys in child tables, audit
// targets) instead of landing on a random page: fewer pages written per commit. Still a UUID, still
// unguessable (74 random bits), still opaque to SCIM clients.
import { randomFillSync } from 'node:crypto';

const pool = Buffer.alloc(16 * 256);
let offset = pool.length;
let lastMs = 0;
let seq = 0;

export function uuidv7(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const b = pool.subarray(offset, offset + 16);
  offset += 16;
  let ms = Date.now();
  // Within one millisecond (or if the clock steps back) keep ids increasing: a 12-bit counter in
  // rand_a (RFC 9562 §6.2, method 1), seeded randomly each new millisecond.
  if (ms <= lastMs) {
    ms = lastMs;
    seq++;
    if (seq > 0xfff) {
      ms = ++lastMs;
      seq = b[6] & 0x07;
    }
  } else {
    lastMs = ms;
    seq = ((b[6] & 0x07) << 8) | b[7];
  }
  b.writeUIntBE(ms, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
