// Entity tags of SCIM resources (meta.version, the ETag header) and the preconditions that compare
// them: If-Match on writes (412 when it names another state) and If-None-Match on GETs (304). Users
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

/** If-Match against the resource's current entity tag `etag`: a 412 unless it is "*" or names `etag`. */
export function checkIfMatch(ifMatch: string | undefined, etag: string): void {
  if (!ifMatch || ifMatch.trim() === '*') return;
  if (!tagListHas(ifMatch, etag)) throw new ScimError(412, `The resource has changed (current version ${etag})`, 'invalidVers');
}

/** Whether an If-None-Match header stops a GET of the resource whose entity tag is `etag` (RFC 9110 §13.1.2): "*" (it exists), or a tag naming `etag`. */
export function noneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.trim() === '*' || tagListHas(header, etag);
}
