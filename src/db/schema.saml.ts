// SAML tables (owned by src/saml/): the IdP configuration, the AuthnRequest ids we issued (so any
// node can consume the response), and the assertion ids already consumed (replay cache).

/** One row, id 'default': the identity provider this instance trusts. */
export interface SamlSettingsTable {
  id: string;
  /** The IdP entity ID the admin entered (must equal the metadata's entityID and every Issuer). */
  idp_entity_id: string | null;
  metadata_url: string | null;
  /** The last metadata document that parsed and carried a usable signing certificate. */
  metadata_xml: string | null;
  /** JSON of ParsedIdpMetadata (entityId, ssoUrl, sloUrl, certificates) from metadata_xml. */
  metadata_parsed: string | null;
  enabled: number;
  allow_idp_initiated: number;
  jit_provisioning: number;
  /** 'nameId' or the Name of an assertion attribute matched to userName. */
  user_name_source: string;
  clock_skew_seconds: number;
  last_refresh_at: string | null;
  /** Set when the last refresh failed (the last good certificates stay in use); null after a success. */
  last_refresh_error: string | null;
  version: number;
  updated_at: string;
  /** 1/0 = the admin's choice to sign AuthnRequests and LogoutRequests; null = follow WantAuthnRequestsSigned. */
  sign_requests: number | null;
}

/** One row, id 'default': the SP's signing key pair. The private key never leaves the server. */
export interface SamlSpKeysTable {
  id: string;
  /** PKCS#8 PEM. */
  private_key: string;
  /** Self-signed X.509 PEM, published in the SP metadata. */
  certificate: string;
  created_at: string;
  not_after: string;
}

/** AuthnRequest ids issued by any node; a response's InResponseTo must name one that is unused. */
export interface SamlRequestsTable {
  id: string;
  /** Same-origin path the person asked for; used after the response, never taken from RelayState. */
  return_to: string;
  created_at: string;
  expires_at: string;
}

/** Consumed assertions, kept until their NotOnOrAfter + clock skew so a replay is refused on every node. */
export interface SamlAssertionsTable {
  /** sha256 of issuer + assertion ID. */
  key: string;
  assertion_id: string;
  issuer: string;
  consumed_at: string;
  expires_at: string;
}

export interface SamlTables {
  saml_settings: SamlSettingsTable;
  saml_requests: SamlRequestsTable;
  saml_assertions: SamlAssertionsTable;
  saml_sp_keys: SamlSpKeysTable;
}
