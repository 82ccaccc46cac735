// The SCIM schemas we serve (RFC 7643 §4, §8.7): one attribute table that drives /Schemas,
// attribute-name canonicalisation (names are case-insensitive), boolean coercion, read-only
// stripping on PUT, and attributes/excludedAttributes projection. Pure data and lookups.

export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  search: 'urn:ietf:params:scim:api:messages:2.0:SearchRequest',
  spc: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

export type AttrType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'reference' | 'complex' | 'binary';
export type Mutability = 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
export type Returned = 'always' | 'never' | 'default' | 'request';

export interface AttrDef {
  name: string;
  type: AttrType;
  multiValued?: boolean;
  description?: string;
  required?: boolean;
  caseExact?: boolean;
  mutability?: Mutability;
  returned?: Returned;
  uniqueness?: 'none' | 'server' | 'global';
  canonicalValues?: string[];
  referenceTypes?: string[];
  subAttributes?: AttrDef[];
}

const str = (name: string, extra: Partial<AttrDef> = {}): AttrDef => ({ name, type: 'string', ...extra });
const bool = (name: string, extra: Partial<AttrDef> = {}): AttrDef => ({ name, type: 'boolean', ...extra });
const multi = (name: string, sub: AttrDef[], extra: Partial<AttrDef> = {}): AttrDef => ({ name, type: 'complex', multiValued: true, subAttributes: sub, ...extra });
const typedValue = (types: string[], valueExtra: Partial<AttrDef> = {}) => [
  str('value', valueExtra),
  str('display'),
  str('type', { canonicalValues: types }),
  bool('primary'),
];

export const USER_ATTRS: AttrDef[] = [
  str('userName', { required: true, uniqueness: 'server', description: 'Unique identifier for the User, used to sign in (SAML NameID).' }),
  {
    name: 'name',
    type: 'complex',
    description: "The components of the user's real name.",
    subAttributes: [str('formatted'), str('familyName'), str('givenName'), str('middleName'), str('honorificPrefix'), str('honorificSuffix')],
  },
  str('displayName'),
  str('nickName'),
  { name: 'profileUrl', type: 'reference', referenceTypes: ['external'] },
  str('title'),
  str('userType'),
  str('preferredLanguage'),
  str('locale'),
  str('timezone'),
  bool('active'),
  str('password', { mutability: 'writeOnly', returned: 'never' }),
  multi('emails', typedValue(['work', 'home', 'other'])),
  multi('phoneNumbers', typedValue(['work', 'home', 'mobile', 'fax', 'pager', 'other'])),
  multi('ims', typedValue(['aim', 'gtalk', 'icq', 'xmpp', 'msn', 'skype', 'qq', 'yahoo'])),
  multi('photos', typedValue(['photo', 'thumbnail'])),
  multi('addresses', [
    str('formatted'),
    str('streetAddress'),
    str('locality'),
    str('region'),
    str('postalCode'),
    str('country'),
    str('type', { canonicalValues: ['work', 'home', 'other'] }),
    bool('primary'),
  ]),
  multi('groups', [str('value', { mutability: 'readOnly' }), { name: '$ref', type: 'reference', referenceTypes: ['Group'], mutability: 'readOnly' }, str('display', { mutability: 'readOnly' }), str('type', { mutability: 'readOnly' })], { mutability: 'readOnly' }),
  multi('entitlements', typedValue([])),
  multi('roles', typedValue([])),
  multi('x509Certificates', typedValue([])),
];

export const ENTERPRISE_ATTRS: AttrDef[] = [
  str('employeeNumber'),
  str('costCenter'),
  str('organization'),
  str('division'),
  str('department'),
  {
    name: 'manager',
    type: 'complex',
    subAttributes: [str('value'), { name: '$ref', type: 'reference', referenceTypes: ['User'] }, str('displayName', { mutability: 'readOnly' })],
  },
];

export const GROUP_ATTRS: AttrDef[] = [
  str('displayName', { required: true, uniqueness: 'server' }),
  multi('members', [str('value', { mutability: 'immutable' }), { name: '$ref', type: 'reference', referenceTypes: ['User', 'Group'], mutability: 'immutable' }, str('display', { mutability: 'readOnly' }), str('type', { canonicalValues: ['User'] })]),
];

/** Attributes every resource has (RFC 7643 §3.1), handled by the server. */
export const COMMON_ATTRS: AttrDef[] = [
  str('id', { mutability: 'readOnly', returned: 'always', caseExact: true, uniqueness: 'server' }),
  str('externalId', { caseExact: true }),
  {
    name: 'meta',
    type: 'complex',
    mutability: 'readOnly',
    subAttributes: [str('resourceType'), { name: 'created', type: 'dateTime' }, { name: 'lastModified', type: 'dateTime' }, { name: 'location', type: 'reference' }, str('version')],
  },
];

export type ResourceKind = 'User' | 'Group';

const byLower = (defs: AttrDef[]) => new Map(defs.map((d) => [d.name.toLowerCase(), d]));
const USER_MAP = byLower([...COMMON_ATTRS, ...USER_ATTRS]);
const GROUP_MAP = byLower([...COMMON_ATTRS, ...GROUP_ATTRS]);
const ENTERPRISE_MAP = byLower(ENTERPRISE_ATTRS);

export function topAttr(kind: ResourceKind, name: string): AttrDef | undefined {
  return (kind === 'User' ? USER_MAP : GROUP_MAP).get(name.toLowerCase());
}
export function enterpriseAttr(name: string): AttrDef | undefined {
  return ENTERPRISE_MAP.get(name.toLowerCase());
}
export function subAttr(def: AttrDef | undefined, name: string): AttrDef | undefined {
  return def?.subAttributes?.find((s) => s.name.toLowerCase() === name.toLowerCase());
}

/** Schema URNs a resource of this kind may carry; the extension's attributes live under its URN key. */
export function schemaUrnsFor(kind: ResourceKind): string[] {
  return kind === 'User' ? [URN.user, URN.enterprise] : [URN.group];
}

export function isEnterpriseUrn(s: string): boolean {
  return s.toLowerCase() === URN.enterprise.toLowerCase();
}

/**
 * A resource's `schemas` (RFC 7643 §3): its core schema, then each extension among the names of its
 * stored attributes (`keys`), the enterprise one first.
 */
export function schemasOf(core: string, keys: string[]): string[] {
  const exts = keys.filter((k) => /^urn:/i.test(k) && k !== core);
  return [core, ...exts.filter(isEnterpriseUrn), ...exts.filter((k) => !isEnterpriseUrn(k))];
}

/** Full definitions for GET /Schemas (RFC 7643 §7). */
function withDefaults(d: AttrDef): Record<string, unknown> {
  const out: Record<string, unknown> = {
    name: d.name,
    type: d.type,
    multiValued: d.multiValued ?? false,
    description: d.description ?? '',
    required: d.required ?? false,
    caseExact: d.caseExact ?? false,
    mutability: d.mutability ?? 'readWrite',
    returned: d.returned ?? 'default',
    uniqueness: d.uniqueness ?? 'none',
  };
  if (d.canonicalValues) out.canonicalValues = d.canonicalValues;
  if (d.referenceTypes) out.referenceTypes = d.referenceTypes;
  if (d.subAttributes) out.subAttributes = d.subAttributes.map(withDefaults);
  return out;
}

export function schemaDocuments(baseUrl: string): Record<string, unknown>[] {
  const doc = (id: string, name: string, description: string, attrs: AttrDef[]) => ({
    schemas: [URN.schema],
    id,
    name,
    description,
    attributes: attrs.map(withDefaults),
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${id}` },
  });
  return [
    doc(URN.user, 'User', 'User Account', USER_ATTRS),
    doc(URN.enterprise, 'EnterpriseUser', 'Enterprise User', ENTERPRISE_ATTRS),
    doc(URN.group, 'Group', 'Group', GROUP_ATTRS),
  ];
}
