// Words the identity screens share: status and source labels and their badge tones.
import type { BadgeTone } from '../../ui/index.ts';
import type { UserSource, UserStatus } from '../../api/types.ts';

export const STATUS_LABEL: Record<UserStatus, string> = { active: 'Active', suspended: 'Suspended', disabled: 'Disabled' };
export const STATUS_TONE: Record<UserStatus, BadgeTone> = { active: 'green', suspended: 'amber', disabled: 'red' };
export const SOURCE_LABEL: Record<UserSource, string> = { local: 'Local', idp: 'Identity provider' };

export const STATUS_OPTIONS = (Object.keys(STATUS_LABEL) as UserStatus[]).map((v) => ({ value: v, label: STATUS_LABEL[v] }));
export const SOURCE_OPTIONS = (Object.keys(SOURCE_LABEL) as UserSource[]).map((v) => ({ value: v, label: SOURCE_LABEL[v] }));
