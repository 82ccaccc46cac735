// Every migration, in order. Names sort lexically; never rename or edit one that has shipped.
import type { Migration } from 'kysely';
import * as m001 from './001_identity.ts';
import * as m002 from './002_scim.ts';
import * as m003 from './003_saml.ts';
import * as m004 from './004_billing.ts';
import * as m005 from './005_saml_signing.ts';
import * as m006 from './006_uuidv7_counters.ts';
import * as m007 from './007_member_order.ts';
import * as m008 from './008_log_resource_index.ts';
import * as m009 from './009_counter_shards.ts';
import * as m010 from './010_list_version.ts';
import * as m011 from './011_member_checks.ts';
import * as m012 from './012_group_touch.ts';
import * as m013 from './013_unused_user_indexes.ts';
import * as m014 from './014_log_failures_index.ts';
import * as m015 from './015_log_own_file.ts';
import * as m016 from './016_email_primary_absent.ts';
import * as m017 from './017_passwords_not_kept.ts';
import * as m018 from './018_jsonb_or_null.ts';

export const migrations: Record<string, Migration> = {
  '001_identity': m001,
  '002_scim': m002,
  '003_saml': m003,
  '004_billing': m004,
  '005_saml_signing': m005,
  '006_uuidv7_counters': m006,
  '007_member_order': m007,
  '008_log_resource_index': m008,
  '009_counter_shards': m009,
  '010_list_version': m010,
  '011_member_checks': m011,
  '012_group_touch': m012,
  '013_unused_user_indexes': m013,
  '014_log_failures_index': m014,
  '015_log_own_file': m015,
  '016_email_primary_absent': m016,
  '017_passwords_not_kept': m017,
  '018_jsonb_or_null': m018,
};
