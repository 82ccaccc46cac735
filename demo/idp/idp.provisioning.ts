// What the IdP does when its admin acts: assign or unassign a person, (de)activate a person,
// push, rename, re-member or unlink a group. It updates the directory/app state and then drives
// the SCIM client the way the real IdP would. Failures are kept on the assignment or push (the
// real consoles show them as provisioning errors) and returned as the admin's message.
import { ScimCallError, scimClientFor, type Member, type ScimClient } from './idp.scim-client.ts';
import type { DemoState, Group, GroupPush } from './idp.state.ts';

export interface Outcome {
  ok: boolean;
  message: string;
}

const fail = (err: unknown): string => (err instanceof ScimCallError || err instanceof Error ? err.message : String(err));

export class Provisioner {
  constructor(private readonly state: DemoState) {}

  private client(): ScimClient {
    return scimClientFor(this.state);
  }

  /** Provisioning is on once SCIM is enabled and the connector has a base URL and a token. */
  get connected(): boolean {
    const p = this.state.app.provisioning;
    return p.scimEnabled && !!p.baseUrl && !!p.token;
  }

  async testConnector(): Promise<Outcome> {
    const p = this.state.app.provisioning;
    if (!p.baseUrl || !p.token) return this.remember({ ok: false, message: 'Enter the SCIM connector base URL and the bearer token first.' });
    try {
      return this.remember({ ok: true, message: await this.client().testConnector() });
    } catch (err) {
      return this.remember({ ok: false, message: `Test failed: ${fail(err)}` });
    }
  }

  private remember(o: Outcome): Outcome {
    this.state.app.provisioning.lastTest = { ...o, at: new Date().toISOString() };
    return o;
  }

  /** Members of the group that the app knows: assigned people Ledgerline has a SCIM id for. */
  private desiredMembers(g: Group): Member[] {
    const out: Member[] = [];
    for (const pid of g.memberIds) {
      const a = this.state.assignment(pid);
      if (a?.scimId) out.push({ value: a.scimId, display: this.state.person(pid).userName });
    }
    return out;
  }

  private async syncGroup(push: GroupPush, opts: { rename?: boolean } = {}): Promise<void> {
    const g = this.state.group(push.groupId);
    if (!push.scimId) return;
    const members = this.desiredMembers(g);
    const client = this.client();
    if (opts.rename && push.pushedName !== g.name) {
      await client.renameGroup(push.scimId, g.name, members);
      push.pushedName = g.name;
      if (client.style === 'okta') push.pushedMemberScimIds = members.map((m) => m.value);
    }
    const before = push.pushedMemberScimIds;
    const same = before.length === members.length && members.every((m) => before.includes(m.value));
    if (!same) {
      await client.updateMembers(push.scimId, g.name, before, members);
      push.pushedMemberScimIds = members.map((m) => m.value);
    }
  }

  /** Re-pushes every pushed group a person belongs to (after their assignment changes). */
  private async syncGroupsOf(personId: string): Promise<string[]> {
    const problems: string[] = [];
    for (const g of this.state.groupsOf(personId)) {
      const push = this.state.push(g.id);
      if (!push?.scimId) continue;
      try {
        await this.syncGroup(push);
        push.error = null;
      } catch (err) {
        push.error = fail(err);
        problems.push(`${g.name}: ${push.error}`);
      }
    }
    return problems;
  }

  async assign(personId: string): Promise<Outcome> {
    const person = this.state.person(personId);
    let a = this.state.assignment(personId);
    if (!a) {
      a = { personId, scimId: null, pushedActive: null, error: null };
      this.state.app.assignments.push(a);
    }
    const p = this.state.app.provisioning;
    if (!this.connected || !p.createUsers) return { ok: true, message: `${person.userName} is assigned (provisioning is off, so nothing was sent).` };
    const client = this.client();
    try {
      const found = await client.findUser(person.userName);
      if (found) {
        a.scimId = found.id;
        // Linking to an existing (perhaps deactivated) user: Okta pushes its profile and status.
        const wantActive = person.status === 'active';
        if (found.active !== wantActive) await client.setActive(found.id, person, wantActive);
        else if (p.pushProfileUpdates) await client.updateProfile(found.id, person);
        a.pushedActive = wantActive;
      } else {
        const created = await client.createUser(person);
        a.scimId = created.id;
        a.pushedActive = true;
        if (person.status !== 'active' && p.deactivateUsers) {
          await client.setActive(created.id, person, false);
          a.pushedActive = false;
        }
      }
      a.error = null;
    } catch (err) {
      a.error = fail(err);
      return { ok: false, message: `Could not provision ${person.userName}: ${a.error}` };
    }
    const problems = await this.syncGroupsOf(personId);
    if (problems.length) return { ok: false, message: `${person.userName} was provisioned, but a group push failed: ${problems.join('; ')}` };
    return { ok: true, message: `${person.userName} is assigned and provisioned.` };
  }

  /** Unassign = deactivate in the app (Okta and Entra never delete the user). */
  async unassign(personId: string): Promise<Outcome> {
    const person = this.state.person(personId);
    const a = this.state.assignment(personId);
    if (!a) return { ok: true, message: `${person.userName} was not assigned.` };
    this.state.app.assignments = this.state.app.assignments.filter((x) => x !== a);
    if (!a.scimId || !this.connected || !this.state.app.provisioning.deactivateUsers) return { ok: true, message: `${person.userName} is unassigned.` };
    try {
      await this.client().setActive(a.scimId, person, false);
    } catch (err) {
      return { ok: false, message: `${person.userName} is unassigned, but deactivating them in the app failed: ${fail(err)}` };
    }
    const problems = await this.syncGroupsOf(personId);
    return { ok: problems.length === 0, message: `${person.userName} is unassigned and deactivated in the app.${problems.length ? ` Group push failed: ${problems.join('; ')}` : ''}` };
  }

  async setPersonStatus(personId: string, status: 'active' | 'deactivated'): Promise<Outcome> {
    const person = this.state.person(personId);
    person.status = status;
    const a = this.state.assignment(personId);
    const verb = status === 'active' ? 'activated' : 'deactivated';
    if (!a?.scimId || !this.connected || !this.state.app.provisioning.deactivateUsers) return { ok: true, message: `${person.userName} is ${verb}.` };
    try {
      await this.client().setActive(a.scimId, person, status === 'active');
      a.pushedActive = status === 'active';
      a.error = null;
      return { ok: true, message: `${person.userName} is ${verb}; the app was told (active=${status === 'active'}).` };
    } catch (err) {
      a.error = fail(err);
      return { ok: false, message: `${person.userName} is ${verb}, but the app could not be updated: ${a.error}` };
    }
  }

  async updateProfile(personId: string, fields: { givenName: string; familyName: string }): Promise<Outcome> {
    const person = this.state.person(personId);
    person.givenName = fields.givenName.trim();
    person.familyName = fields.familyName.trim();
    const a = this.state.assignment(personId);
    if (!a?.scimId || !this.connected || !this.state.app.provisioning.pushProfileUpdates) return { ok: true, message: `${person.userName} is saved.` };
    try {
      await this.client().updateProfile(a.scimId, person);
      return { ok: true, message: `${person.userName} is saved and the profile was pushed.` };
    } catch (err) {
      return { ok: false, message: `Saved, but the profile push failed: ${fail(err)}` };
    }
  }

  /** Push Groups: look the name up, link or create, then send the members. */
  async pushGroup(groupId: string): Promise<Outcome> {
    const g = this.state.group(groupId);
    if (!this.connected || !this.state.app.provisioning.pushGroups) return { ok: false, message: 'Enable provisioning with Push Groups first.' };
    let push = this.state.push(groupId);
    if (!push) {
      push = { groupId, scimId: null, pushedName: null, pushedMemberScimIds: [], error: null };
      this.state.app.pushes.push(push);
    }
    const client = this.client();
    try {
      const found = await client.findGroup(g.name);
      if (found) {
        push.scimId = found.id;
        // A linked group's members are whatever the app has; send the full list next.
        push.pushedMemberScimIds = Array.isArray(found.members) ? found.members.map((m: any) => String(m.value)) : [];
        push.pushedName = found.displayName ?? g.name;
      } else {
        const created = await client.createGroup(g);
        push.scimId = created.id;
        push.pushedName = g.name;
        push.pushedMemberScimIds = [];
      }
      await this.syncGroup(push, { rename: true });
      push.error = null;
      return { ok: true, message: `Group ${g.name} is pushed (${push.pushedMemberScimIds.length} member(s)).` };
    } catch (err) {
      push.error = fail(err);
      return { ok: false, message: `Pushing ${g.name} failed: ${push.error}` };
    }
  }

  async renameGroup(groupId: string, name: string): Promise<Outcome> {
    const g = this.state.group(groupId);
    const n = name.trim();
    if (!n) return { ok: false, message: 'A group name is required.' };
    const clash = this.state.groupByName(n);
    if (clash && clash.id !== g.id) return { ok: false, message: `A group named ${n} already exists.` };
    const old = g.name;
    g.name = n;
    const push = this.state.push(groupId);
    if (!push?.scimId || !this.connected) return { ok: true, message: `Renamed ${old} to ${n}.` };
    try {
      await this.syncGroup(push, { rename: true });
      push.error = null;
      return { ok: true, message: `Renamed ${old} to ${n}; the pushed group was updated.` };
    } catch (err) {
      push.error = fail(err);
      return { ok: false, message: `Renamed, but the push failed: ${push.error}` };
    }
  }

  /** Sets a person's groups in the directory, then updates every pushed group whose members changed. */
  async setGroupsOf(personId: string, groupIds: string[]): Promise<Outcome> {
    const person = this.state.person(personId);
    const touched: Group[] = [];
    for (const g of this.state.groups) {
      const want = groupIds.includes(g.id);
      const has = g.memberIds.includes(personId);
      if (want === has) continue;
      g.memberIds = want ? [...g.memberIds, personId] : g.memberIds.filter((x) => x !== personId);
      touched.push(g);
    }
    return this.afterMembership(touched, `${person.userName}'s groups are saved`);
  }

  async setMembership(groupId: string, personId: string, member: boolean): Promise<Outcome> {
    const g = this.state.group(groupId);
    const person = this.state.person(personId);
    const has = g.memberIds.includes(personId);
    if (has === member) return { ok: true, message: 'Nothing to change.' };
    g.memberIds = member ? [...g.memberIds, personId] : g.memberIds.filter((x) => x !== personId);
    return this.afterMembership([g], `${person.userName} ${member ? 'added to' : 'removed from'} ${g.name}`);
  }

  private async afterMembership(touched: Group[], done: string): Promise<Outcome> {
    const problems: string[] = [];
    let pushed = 0;
    for (const g of touched) {
      const push = this.state.push(g.id);
      if (!push?.scimId || !this.connected) continue;
      try {
        await this.syncGroup(push, { rename: true });
        push.error = null;
        pushed++;
      } catch (err) {
        push.error = fail(err);
        problems.push(`${g.name}: ${push.error}`);
      }
    }
    if (problems.length) return { ok: false, message: `${done}, but a push failed: ${problems.join('; ')}` };
    return { ok: true, message: `${done}${pushed ? `; ${pushed} pushed group(s) updated` : ''}.` };
  }

  /** Unlink pushed group: "Delete the group in the target app" sends DELETE; "Leave" sends nothing. */
  async unlink(groupId: string, deleteInTarget: boolean): Promise<Outcome> {
    const g = this.state.group(groupId);
    const push = this.state.push(groupId);
    if (!push) return { ok: true, message: `${g.name} was not pushed.` };
    this.state.app.pushes = this.state.app.pushes.filter((x) => x !== push);
    if (!deleteInTarget || !push.scimId) return { ok: true, message: `${g.name} is unlinked; the group was left in the app.` };
    try {
      await this.client().deleteGroup(push.scimId);
      return { ok: true, message: `${g.name} is unlinked and deleted in the app.` };
    } catch (err) {
      return { ok: false, message: `${g.name} is unlinked, but deleting it in the app failed: ${fail(err)}` };
    }
  }
}
