// Entity tags of SCIM resources (meta.version, the ETag header) and the preconditions that compare
// them: If-Match on writes (412 when it names another state), If-None-Match on GETs (304) and on
// writes (412 when it names the current state). Users
// and groups share them; a user's tag also names their groups (scim.users.ts, userEtag).
import { ScimError } from './scim.errors.ts';

/** The entity tag of a resource at `version` (weak: a representation may differ in its projection). */
export const etagOf = (version: number) => `W/"${version}"`;

/**
 * Whether the list of entity tags in an If-Match or If-None-Match header names `etag`, by the weak
 * comparison (RFC 9110 §8.8.3.2), which ignores the W/ prefix on either side: the ETags here are
 * weak, and clients send them back with or without it.
 */
function tagListHas(header: string, etag: string): boolean {
  const opaque = (tag: string) => (tag.startsWith('W/') ? tag.slice(2) : tag);
  return header.split(',').some((tag) => opaque(tag.trim()) === opaque(etag));
}

/** The conditional headers of a write (PUT, PATCH, DELETE), as sent. */
export interface Preconditions {
  ifMatch?: string;
  ifNoneMatch?: string;
}

/** Whether a write names any precondition (the writes that skip reading the ETag need none). */
export const hasPreconditions = (pre: Preconditions | undefined): boolean => Boolean(pre?.ifMatch || pre?.ifNoneMatch);

/**
 * A write's preconditions against the resource's current entity tag `etag` (RFC 9110 §13.2.2): a 412
 * when If-Match is neither "*" nor names `etag`, or when If-None-Match is "*" (the resource exists) or
 * names `etag` (a state-changing method gets a 412 there, not a 304: §13.1.2).
 */
export function checkPreconditions(pre: Preconditions | undefined, etag: string): void {
  const ifMatch = pre?.ifMatch;
  if (ifMatch && ifMatch.trim() !== '*' && !tagListHas(ifMatch, etag)) throw new ScimError(412, `The resource has changed (current version ${etag})`, 'invalidVers');
  if (noneMatch(pre?.ifNoneMatch, etag)) throw new ScimError(412, `If-None-Match names the resource's current version (${etag})`, 'invalidVers');
}

/** Whether an If-None-Match header stops a GET of the resource whose entity tag is `etag` (RFC 9110 §13.1.2): "*" (it exists), or a tag naming `etag`. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || tagListHas(header, etag);
}
