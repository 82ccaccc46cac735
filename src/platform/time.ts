// Timestamps are ISO-8601 UTC strings everywhere in storage and on the wire.
export const nowIso = (): string => new Date().toISOString();
export const addSeconds = (iso: string, s: number): string => new Date(Date.parse(iso) + s * 1000).toISOString();
