// Request schemas of the SAML admin API (validation and the UI client's types come from here).
import { Nullable } from '../platform/schema.ts';
import { Type, type Static } from 'typebox';

export const SettingsBody = Type.Object(
  {
    idpEntityId: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
    metadataUrl: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    metadataXml: Type.Optional(Nullable(Type.String({ maxLength: 1024 * 1024 }))),
    enabled: Type.Optional(Type.Boolean()),
    allowIdpInitiated: Type.Optional(Type.Boolean()),
    jitProvisioning: Type.Optional(Type.Boolean()),
    userNameSource: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    clockSkewSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    /** null = follow the IdP metadata's WantAuthnRequestsSigned. */
    signRequests: Type.Optional(Nullable(Type.Boolean())),
  },
  { additionalProperties: false },
);
export type SettingsBodyT = Static<typeof SettingsBody>;

export const TestBody = Type.Object(
  {
    idpEntityId: Type.Optional(Nullable(Type.String({ maxLength: 1024 }))),
    metadataUrl: Type.Optional(Nullable(Type.String({ maxLength: 2048 }))),
    metadataXml: Type.Optional(Nullable(Type.String({ maxLength: 1024 * 1024 }))),
  },
  { additionalProperties: false },
);
export type TestBodyT = Static<typeof TestBody>;
