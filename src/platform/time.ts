// Timestamps are ISO-8601 UTC strings everywhere in storage and on the wire.
let lastMs = 0;
let lastIso = '';
/**
 * Now, to the millisecond. Formatting a date costs about 1 µs (a SCIM GET by id asks three times:
 * the token's expiry, its check, the log row), reading the clock 0.05: the text is made once a millisecond.
 */
export const nowIso = (): string => {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
};
export const addSeconds = (iso: string, s: number): string => new Date(Date.parse(iso) + s * 1000).toISOString();
