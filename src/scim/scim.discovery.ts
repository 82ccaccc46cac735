// Discovery endpoints (RFC 7644 §4): what this service provider supports, exactly.
import { MAX_COUNT, DEFAULT_COUNT } from './scim.list.ts';
import { schemaDocuments, URN } from './scim.schemas.ts';
import { notFound } from './scim.errors.ts';

export function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
  return {
    schemas: [URN.spc],
    documentationUri: `${baseUrl.replace(/\/ResourceServer\/api\/SCIM(\/v2)?$/, '')}/docs/scim`,
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults: MAX_COUNT },
    changePassword: { supported: false },
    sort: { supported: true },
    etag: { supported: true },
    // RFC 9865
    pagination: { cursor: true, index: true, defaultPaginationMethod: 'index', defaultPageSize: DEFAULT_COUNT, maxPageSize: MAX_COUNT, cursorTimeout: 0 },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a SCIM access token created in Ledgerline (Setup › SAML Settings or `ledgerline scim-token create`).',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

function resourceTypes(baseUrl: string) {
  return [
    {
      schemas: [URN.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: URN.user,
      schemaExtensions: [{ schema: URN.enterprise, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [URN.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group (pushed group: becomes a SCIM role and SCIM role group)',
      schema: URN.group,
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

const list = (items: unknown[]) => ({ schemas: [URN.list], totalResults: items.length, itemsPerPage: items.length, startIndex: 1, Resources: items });

export function resourceTypesResponse(baseUrl: string, id?: string) {
  const all = resourceTypes(baseUrl);
  if (!id) return list(all);
  const one = all.find((r) => r.id.toLowerCase() === id.toLowerCase());
  if (!one) throw notFound(`Resource type ${id} not found`);
  return one;
}

export function schemasResponse(baseUrl: string, id?: string) {
  const all = schemaDocuments(baseUrl);
  if (!id) return list(all);
  const one = all.find((s) => String(s.id).toLowerCase() === id.toLowerCase());
  if (!one) throw notFound(`Schema ${id} not found`);
  return one;
}
