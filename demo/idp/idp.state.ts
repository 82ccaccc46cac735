// The demo IdP's whole state, in memory: a directory of people and groups (what an Okta org
// holds) and one application, "Ledgerline", with its Sign On, Provisioning, Assignments and
// Push Groups settings. Nothing here talks to the network; idp.provisioning.ts does.
import { randomBytes } from 'node:crypto';

export type ClientStyle = 'okta' | 'entra';

export interface Person {
  /** Okta-like id ("00u…"); sent as SCIM externalId. */
  id: string;
  /** The login and application username: the SAML NameID and the SCIM userName. */
  userName: string;
  givenName: string;
  familyName: string;
  email: string;
  status: 'active' | 'deactivated';
}

export interface Group {
  id: string;
  name: string;
  memberIds: string[];
}

export interface Assignment {
  personId: string;
  /** The SCIM id Ledgerline gave the user, once created or linked. */
  scimId: string | null;
  /** What the IdP believes it last told the app. */
  pushedActive: boolean | null;
  error: string | null;
}

export interface GroupPush {
  groupId: string;
  scimId: string | null;
  /** Name and members as last pushed, so a change can be sent as a difference (Entra) or in full (Okta). */
  pushedName: string | null;
  pushedMemberScimIds: string[];
  error: string | null;
}

export interface ProvisioningSettings {
  scimEnabled: boolean;
  baseUrl: string;
  uniqueIdentifierField: string;
  pushNewUsers: boolean;
  pushProfileUpdates: boolean;
  pushGroups: boolean;
  token: string;
  createUsers: boolean;
  deactivateUsers: boolean;
  style: ClientStyle;
  lastTest: { ok: boolean; at: string; message: string } | null;
}

export interface ScimExchange {
  n: number;
  at: string;
  style: ClientStyle;
  method: string;
  url: string;
  requestBody: unknown;
  status: number | null;
  responseBody: unknown;
  error: string | null;
  durationMs: number;
}

export interface AppState {
  name: string;
  sso: { ssoUrl: string; audience: string };
  provisioning: ProvisioningSettings;
  assignments: Assignment[];
  pushes: GroupPush[];
}

export const oktaLikeId = (prefix: '00u' | '00g') => `${prefix}${randomBytes(7).toString('base64url').replace(/[-_]/g, 'x')}`;

export class DemoState {
  people: Person[] = [];
  groups: Group[] = [];
  app: AppState;
  log: ScimExchange[] = [];
  private seq = 0;

  constructor(style: ClientStyle = 'okta') {
    this.app = {
      name: 'Ledgerline',
      sso: { ssoUrl: '', audience: '' },
      provisioning: {
        scimEnabled: false,
        baseUrl: '',
        uniqueIdentifierField: 'userName',
        pushNewUsers: true,
        pushProfileUpdates: true,
        pushGroups: true,
        token: '',
        createUsers: true,
        deactivateUsers: true,
        style,
        lastTest: null,
      },
      assignments: [],
      pushes: [],
    };
  }

  /** The demo directory: three people, three groups, nobody assigned yet. */
  static seeded(style: ClientStyle = 'okta', domain = 'example.com'): DemoState {
    const s = new DemoState(style);
    const fiona = s.addPerson({ userName: `fiona.finance@${domain}`, givenName: 'Fiona', familyName: 'Finance' });
    const sam = s.addPerson({ userName: `sam.support@${domain}`, givenName: 'Sam', familyName: 'Support' });
    const olive = s.addPerson({ userName: `olive.ops@${domain}`, givenName: 'Olive', familyName: 'Ops' });
    s.addGroup('Finance', [fiona.id]);
    s.addGroup('Support', [sam.id]);
    s.addGroup('Operations', [olive.id]);
    return s;
  }

  addPerson(p: { userName: string; givenName: string; familyName: string; email?: string }): Person {
    const userName = p.userName.trim();
    if (!userName) throw new Error('A username is required.');
    if (this.people.some((x) => x.userName.toLowerCase() === userName.toLowerCase())) throw new Error(`${userName} already exists in the directory.`);
    const person: Person = { id: oktaLikeId('00u'), userName, givenName: p.givenName.trim(), familyName: p.familyName.trim(), email: (p.email ?? userName).trim(), status: 'active' };
    this.people.push(person);
    return person;
  }

  addGroup(name: string, memberIds: string[] = []): Group {
    const n = name.trim();
    if (!n) throw new Error('A group name is required.');
    if (this.groups.some((g) => g.name.toLowerCase() === n.toLowerCase())) throw new Error(`A group named ${n} already exists.`);
    const g: Group = { id: oktaLikeId('00g'), name: n, memberIds: [...memberIds] };
    this.groups.push(g);
    return g;
  }

  person(id: string): Person {
    const p = this.people.find((x) => x.id === id);
    if (!p) throw new Error('No such person.');
    return p;
  }

  personByUserName(userName: string): Person | undefined {
    return this.people.find((x) => x.userName.toLowerCase() === userName.toLowerCase());
  }

  group(id: string): Group {
    const g = this.groups.find((x) => x.id === id);
    if (!g) throw new Error('No such group.');
    return g;
  }

  groupByName(name: string): Group | undefined {
    return this.groups.find((g) => g.name.toLowerCase() === name.toLowerCase());
  }

  assignment(personId: string): Assignment | undefined {
    return this.app.assignments.find((a) => a.personId === personId);
  }

  push(groupId: string): GroupPush | undefined {
    return this.app.pushes.find((p) => p.groupId === groupId);
  }

  groupsOf(personId: string): Group[] {
    return this.groups.filter((g) => g.memberIds.includes(personId));
  }

  record(x: Omit<ScimExchange, 'n'>): ScimExchange {
    const entry = { n: ++this.seq, ...x };
    this.log.push(entry);
    if (this.log.length > 500) this.log.splice(0, this.log.length - 500);
    return entry;
  }
}
