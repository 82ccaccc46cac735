// HTML for the demo IdP: plain server-rendered forms, no client framework, no inline script or
// style (the CSP allows only same-origin files). Every value is escaped on the way out.
import type { Assignment, DemoState, GroupPush, Person, ScimExchange } from './idp.state.ts';

export const h = (s: unknown): string =>
  String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');

export interface Notice {
  ok: boolean;
  message: string;
}

export interface Ctx {
  state: DemoState;
  baseUrl: string;
  entityId: string;
  metadataUrl: string;
  ssoUrl: string;
  path: string;
  notice: Notice | null;
}

const styleName = (s: DemoState) => (s.app.provisioning.style === 'entra' ? 'Microsoft Entra ID style' : 'Okta style');

function layout(ctx: Ctx, title: string, body: string): string {
  const nav = [
    ['/admin/people', 'People'],
    ['/admin/groups', 'Groups'],
    ['/admin/app/general', 'Applications › Ledgerline'],
    ['/admin/log', 'SCIM log'],
    ['/home', 'End-user dashboard'],
  ]
    .map(([href, label]) => `<a href="${href}"${ctx.path.startsWith(href.split('/').slice(0, 3).join('/')) ? ' aria-current="page"' : ''}>${h(label)}</a>`)
    .join('');
  const notice = ctx.notice ? `<div class="notice ${ctx.notice.ok ? 'ok' : 'error'}" role="status">${h(ctx.notice.message)}</div>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${h(title)} · Demo IdP</title><link rel="stylesheet" href="/static/idp.css"></head>
<body><header class="${ctx.state.app.provisioning.style}"><strong><a class="brand" href="/">Demo IdP</a></strong><nav>${nav}</nav><span class="style">${h(styleName(ctx.state))}</span></header>
<main>${notice}${body}</main></body></html>`;
}

// ---- overview --------------------------------------------------------------------------------------
export function overviewPage(ctx: Ctx): string {
  return layout(
    ctx,
    'Overview',
    `<h1>Demo identity provider</h1>
<p class="sub">A local stand-in for Okta (or Microsoft Entra ID) so you can try Ledgerline's single sign-on and provisioning on one machine. It signs SAML responses with samlify and provisions over SCIM exactly as the real IdP does (${h(styleName(ctx.state))}).</p>
<div class="card"><h2>What Ledgerline needs from this IdP</h2>
<dl class="kv"><dt>Entity ID</dt><dd><code id="overview-entity-id">${h(ctx.entityId)}</code></dd>
<dt>Metadata URL</dt><dd><code id="overview-metadata-url">${h(ctx.metadataUrl)}</code></dd></dl></div>
<div class="card"><h2>Where to go</h2><ol>
<li><a href="/admin/app/sign-on">Applications › Ledgerline › Sign On</a>: paste Ledgerline's Single sign-on URL and Audience URI.</li>
<li><a href="/admin/app/general">General</a>: enable SCIM provisioning, then <a href="/admin/app/provisioning">Provisioning</a>: base URL and bearer token.</li>
<li><a href="/admin/app/assignments">Assignments</a> and <a href="/admin/app/push-groups">Push Groups</a>.</li>
<li><a href="/home">End-user dashboard</a>: the Ledgerline tile (IdP-initiated sign-in).</li></ol></div>`,
  );
}

// ---- directory ------------------------------------------------------------------------------------
function statusBadge(p: Person): string {
  return p.status === 'active' ? '<span class="badge ok">Active</span>' : '<span class="badge bad">Deactivated</span>';
}

export function peoplePage(ctx: Ctx): string {
  const s = ctx.state;
  const rows = s.people
    .map(
      (p) => `<tr><td><a href="/admin/people/${h(p.id)}">${h(p.givenName)} ${h(p.familyName)}</a></td><td><code>${h(p.userName)}</code></td><td>${statusBadge(p)}</td>
<td>${h(s.groupsOf(p.id).map((g) => g.name).join(', ') || '—')}</td><td>${s.assignment(p.id) ? 'Assigned' : '—'}</td></tr>`,
    )
    .join('');
  return layout(
    ctx,
    'People',
    `<h1>Directory › People</h1><p class="sub">The people of this demo org. Their username is what Ledgerline receives as the SCIM userName and the SAML NameID.</p>
<table><thead><tr><th>Person</th><th>Username</th><th>Status</th><th>Groups</th><th>Ledgerline</th></tr></thead><tbody>${rows}</tbody></table>
<div class="card spaced"><h2>Add person</h2><form method="post" action="/admin/people" class="row">
<div><label for="new-given">First name</label><input id="new-given" name="givenName" type="text" required></div>
<div><label for="new-family">Last name</label><input id="new-family" name="familyName" type="text" required></div>
<div><label for="new-username">Username</label><input id="new-username" name="userName" type="text" required placeholder="name@example.com"></div>
<div><button type="submit">Add person</button></div></form></div>`,
  );
}

export function personPage(ctx: Ctx, p: Person): string {
  const s = ctx.state;
  const a = s.assignment(p.id);
  const groups = s.groups
    .map((g) => `<label class="check"><input type="checkbox" name="groupId" value="${h(g.id)}"${g.memberIds.includes(p.id) ? ' checked' : ''}> ${h(g.name)}${s.push(g.id) ? ' <span class="badge">pushed</span>' : ''}</label>`)
    .join('');
  const statusForm =
    p.status === 'active'
      ? `<form method="post" action="/admin/people/${h(p.id)}/deactivate"><button class="danger" type="submit">Deactivate</button></form>`
      : `<form method="post" action="/admin/people/${h(p.id)}/activate"><button type="submit">Activate</button></form>`;
  return layout(
    ctx,
    `${p.givenName} ${p.familyName}`,
    `<h1>${h(p.givenName)} ${h(p.familyName)} ${statusBadge(p)}</h1><p class="sub"><code>${h(p.userName)}</code> · id ${h(p.id)} · ${a ? `assigned to Ledgerline${a.scimId ? ` (SCIM id <code>${h(a.scimId)}</code>)` : ''}` : 'not assigned to Ledgerline'}</p>
<div class="card"><h2>Status</h2><p class="hint">Deactivating a person makes the IdP tell Ledgerline <code>active: false</code>${s.app.provisioning.style === 'okta' ? ' (GET then PUT)' : ' (PATCH "False")'}.</p>${statusForm}</div>
<div class="card"><h2>Groups</h2><form method="post" action="/admin/people/${h(p.id)}/groups">${groups}<p><button type="submit">Save groups</button></p></form></div>
<div class="card"><h2>Profile</h2><form method="post" action="/admin/people/${h(p.id)}/profile" class="row">
<div><label for="given">First name</label><input id="given" name="givenName" type="text" value="${h(p.givenName)}" required></div>
<div><label for="family">Last name</label><input id="family" name="familyName" type="text" value="${h(p.familyName)}" required></div>
<div><button type="submit">Save profile</button></div></form></div>`,
  );
}

export function groupsPage(ctx: Ctx): string {
  const s = ctx.state;
  const rows = s.groups
    .map(
      (g) => `<tr><td><a href="/admin/groups/${h(g.id)}">${h(g.name)}</a></td><td>${h(g.memberIds.map((id) => s.person(id).userName).join(', ') || '—')}</td><td>${s.push(g.id) ? 'Pushed to Ledgerline' : '—'}</td></tr>`,
    )
    .join('');
  return layout(
    ctx,
    'Groups',
    `<h1>Directory › Groups</h1><p class="sub">Groups pushed to Ledgerline become SCIM roles and role groups there; their members get those permissions.</p>
<table><thead><tr><th>Group</th><th>Members</th><th>Ledgerline</th></tr></thead><tbody>${rows}</tbody></table>
<div class="card spaced"><h2>Add group</h2><form method="post" action="/admin/groups" class="row">
<div><label for="new-group">Name</label><input id="new-group" name="name" type="text" required></div><div><button type="submit">Add group</button></div></form></div>`,
  );
}

export function groupPage(ctx: Ctx, groupId: string): string {
  const s = ctx.state;
  const g = s.group(groupId);
  const members = g.memberIds
    .map((id) => s.person(id))
    .map(
      (p) =>
        `<tr><td>${h(p.givenName)} ${h(p.familyName)}</td><td><code>${h(p.userName)}</code></td><td><form method="post" action="/admin/groups/${h(g.id)}/members/${h(p.id)}/remove"><button class="secondary" type="submit">Remove ${h(p.givenName)}</button></form></td></tr>`,
    )
    .join('');
  const others = s.people.filter((p) => !g.memberIds.includes(p.id));
  return layout(
    ctx,
    g.name,
    `<h1>Group ${h(g.name)}</h1><p class="sub">${s.push(g.id) ? 'Pushed to Ledgerline: changes here are sent at once.' : 'Not pushed to Ledgerline.'}</p>
<div class="card"><h2>Members</h2><table><tbody>${members || '<tr><td>No members.</td></tr>'}</tbody></table>
${others.length ? `<form method="post" action="/admin/groups/${h(g.id)}/members" class="row spaced"><div><label for="add-member">Add person</label><select id="add-member" name="personId">${others.map((p) => `<option value="${h(p.id)}">${h(p.givenName)} ${h(p.familyName)} (${h(p.userName)})</option>`).join('')}</select></div><div><button type="submit">Add to group</button></div></form>` : ''}</div>
<div class="card"><h2>Rename</h2><form method="post" action="/admin/groups/${h(g.id)}/rename" class="row"><div><label for="group-name">Group name</label><input id="group-name" name="name" type="text" value="${h(g.name)}" required></div><div><button type="submit">Rename group</button></div></form></div>`,
  );
}

// ---- the application -------------------------------------------------------------------------------
function appTabs(ctx: Ctx): string {
  const tabs = [
    ['general', 'General'],
    ['sign-on', 'Sign On'],
    ...(ctx.state.app.provisioning.scimEnabled ? [['provisioning', 'Provisioning']] : []),
    ['assignments', 'Assignments'],
    ['push-groups', 'Push Groups'],
  ];
  return `<nav class="tabs">${tabs.map(([k, label]) => `<a href="/admin/app/${k}"${ctx.path === `/admin/app/${k}` ? ' aria-current="page"' : ''}>${h(label)}</a>`).join('')}</nav>`;
}

function appPage(ctx: Ctx, title: string, body: string): string {
  return layout(ctx, `Ledgerline · ${title}`, `<h1>Ledgerline</h1><p class="sub">SAML 2.0 app made with the App Integration Wizard</p>${appTabs(ctx)}${body}`);
}

export function generalPage(ctx: Ctx): string {
  const p = ctx.state.app.provisioning;
  return appPage(
    ctx,
    'General',
    `<div class="card"><h2>App Settings</h2><form method="post" action="/admin/app/general">
<label class="check"><input type="checkbox" id="enable-scim" name="scimEnabled" value="on"${p.scimEnabled ? ' checked' : ''}> Enable SCIM provisioning</label>
<label for="client-style">Provisioning client behaves like</label><select id="client-style" name="style">
<option value="okta"${p.style === 'okta' ? ' selected' : ''}>Okta custom app (GET then PUT for every update)</option>
<option value="entra"${p.style === 'entra' ? ' selected' : ''}>Microsoft Entra ID (PATCH, capitalised ops, "False" strings)</option></select>
<p class="hint">Entra style is here to show both dialects against the same Ledgerline; the pages stay the same.</p>
<p><button type="submit">Save</button></p></form></div>`,
  );
}

export function signOnPage(ctx: Ctx): string {
  const sso = ctx.state.app.sso;
  return appPage(
    ctx,
    'Sign On',
    `<div class="card"><h2>SAML Settings</h2><form method="post" action="/admin/app/sign-on">
<label for="sso-url">Single sign-on URL</label><input id="sso-url" name="ssoUrl" type="url" value="${h(sso.ssoUrl)}" placeholder="https://billing.example.com/AuthorizationServer/Saml2/ACS" required>
<p class="hint">Ledgerline's ACS. Also used as Recipient and Destination.</p>
<label for="audience">Audience URI (SP Entity ID)</label><input id="audience" name="audience" type="url" value="${h(sso.audience)}" placeholder="https://billing.example.com" required>
<p class="hint">Name ID format: Unspecified. Application username: the person's username. Response and Assertion are signed (RSA-SHA256).</p>
<p><button type="submit">Save</button></p></form></div>
<div class="card"><h2>SAML Signing Certificates › View IdP metadata</h2>
<dl class="kv"><dt>Identity Provider metadata</dt><dd><a id="idp-metadata-link" href="/metadata"><code id="idp-metadata-url">${h(ctx.metadataUrl)}</code></a></dd>
<dt>entityID</dt><dd><code id="idp-entity-id">${h(ctx.entityId)}</code></dd>
<dt>Identity Provider Single Sign-On URL</dt><dd><code>${h(ctx.ssoUrl)}</code></dd></dl></div>`,
  );
}

export function provisioningPage(ctx: Ctx): string {
  const p = ctx.state.app.provisioning;
  const check = (name: keyof typeof p, label: string) => `<label class="check"><input type="checkbox" name="${name}" value="on"${p[name] ? ' checked' : ''}> ${h(label)}</label>`;
  const last = p.lastTest ? `<div class="notice ${p.lastTest.ok ? 'ok' : 'error'}" id="connector-test-result">${h(p.lastTest.message)}</div>` : '';
  return appPage(
    ctx,
    'Provisioning',
    `${last}<div class="card"><h2>Provisioning › Integration</h2><form method="post" action="/admin/app/provisioning" aria-label="Integration">
<label for="scim-base-url">SCIM connector base URL</label><input id="scim-base-url" name="baseUrl" type="url" value="${h(p.baseUrl)}" placeholder="https://billing.example.com/ResourceServer/api/SCIM" required>
<label for="unique-id">Unique identifier field for users</label><input id="unique-id" name="uniqueIdentifierField" type="text" value="${h(p.uniqueIdentifierField)}" required>
<fieldset class="plain"><legend><strong>Supported provisioning actions</strong></legend>
${check('pushNewUsers', 'Push New Users')}${check('pushProfileUpdates', 'Push Profile Updates')}${check('pushGroups', 'Push Groups')}</fieldset>
<label for="auth-mode">Authentication Mode</label><select id="auth-mode" name="authMode"><option value="header" selected>HTTP Header</option></select>
<label for="bearer">Bearer</label><input id="bearer" name="token" type="password" autocomplete="off" value="${h(p.token)}" placeholder="paste the SCIM access token" required>
<p class="row spaced"><button type="submit" name="action" value="test" class="secondary">Test Connector Configuration</button><button type="submit" name="action" value="save">Save</button></p></form></div>
<div class="card"><h2>Provisioning › To App</h2><form method="post" action="/admin/app/provisioning/to-app" aria-label="To App">
${check('createUsers', 'Create Users')}${check('deactivateUsers', 'Deactivate Users')}<p><button type="submit">Save</button></p></form></div>`,
  );
}

function assignmentStatus(a: Assignment): string {
  if (a.error) return `<span class="badge bad">Error</span> <span class="hint">${h(a.error)}</span>`;
  if (!a.scimId) return '<span class="badge warn">Not provisioned</span>';
  return a.pushedActive === false ? '<span class="badge warn">Provisioned, deactivated</span>' : '<span class="badge ok">Provisioned</span>';
}

export function assignmentsPage(ctx: Ctx): string {
  const s = ctx.state;
  const rows = s.app.assignments
    .map((a) => ({ a, p: s.person(a.personId) }))
    .map(
      ({ a, p }) =>
        `<tr><td>${h(p.givenName)} ${h(p.familyName)}</td><td><code>${h(p.userName)}</code></td><td>${assignmentStatus(a)}</td><td><form method="post" action="/admin/app/assignments/${h(p.id)}/unassign"><button class="danger" type="submit">Unassign ${h(p.givenName)}</button></form></td></tr>`,
    )
    .join('');
  const unassigned = s.people.filter((p) => !s.assignment(p.id));
  const assignRows = unassigned
    .map(
      (p) =>
        `<tr><td>${h(p.givenName)} ${h(p.familyName)}</td><td><code>${h(p.userName)}</code></td><td><form method="post" action="/admin/app/assignments"><input type="hidden" name="personId" value="${h(p.id)}"><button type="submit">Assign ${h(p.givenName)}</button></form></td></tr>`,
    )
    .join('');
  return appPage(
    ctx,
    'Assignments',
    `<h2>Assigned people</h2><table><thead><tr><th>Person</th><th>Username</th><th>Provisioning</th><th></th></tr></thead><tbody>${rows || '<tr><td colspan="4">Nobody is assigned yet.</td></tr>'}</tbody></table>
<h2>Assign › Assign to People</h2><p class="hint">Assigning a person looks them up by userName in Ledgerline and creates them there (POST) when missing. Unassigning deactivates them (active=false); they are never deleted.</p>
<table><tbody>${assignRows || '<tr><td>Everyone is assigned.</td></tr>'}</tbody></table>`,
  );
}

function pushStatus(p: GroupPush): string {
  if (p.error) return `<span class="badge bad">Error</span> <span class="hint">${h(p.error)}</span>`;
  return p.scimId ? '<span class="badge ok">Active</span>' : '<span class="badge warn">Pending</span>';
}

export function pushGroupsPage(ctx: Ctx): string {
  const s = ctx.state;
  const rows = s.app.pushes
    .map((p) => ({ p, g: s.group(p.groupId) }))
    .map(
      ({ p, g }) => `<tr><td>${h(g.name)}</td><td>${h(p.pushedName ?? '')}</td><td>${pushStatus(p)}</td><td>${p.pushedMemberScimIds.length}</td>
<td><form method="post" action="/admin/app/push-groups/${h(g.id)}/unlink" class="row"><select name="mode" aria-label="When unlinking ${h(g.name)}"><option value="leave">Leave the group in the target app</option><option value="delete">Delete the group in the target app</option></select><button class="danger" type="submit">Unlink ${h(g.name)}</button></form></td></tr>`,
    )
    .join('');
  const candidates = s.groups.filter((g) => !s.push(g.id));
  return appPage(
    ctx,
    'Push Groups',
    `<h2>Pushed groups</h2><table><thead><tr><th>Group</th><th>Group in Ledgerline</th><th>Push status</th><th>Members pushed</th><th>Unlink pushed group</th></tr></thead><tbody>${rows || '<tr><td colspan="5">No group is pushed yet.</td></tr>'}</tbody></table>
<div class="card spaced"><h2>Push Groups › Find groups by name</h2>
${candidates.length ? `<form method="post" action="/admin/app/push-groups" class="row"><div><label for="push-group">Group</label><select id="push-group" name="groupId">${candidates.map((g) => `<option value="${h(g.id)}">${h(g.name)}</option>`).join('')}</select></div><div><button type="submit">Save</button></div></form>` : '<p>Every group is pushed.</p>'}
<p class="hint">Looks the name up in Ledgerline (displayName filter), creates the group when missing, then sends its members${s.app.provisioning.style === 'okta' ? ' (GET, then PUT with the full member list)' : ' (PATCH Add/Remove)'}.</p></div>`,
  );
}

// ---- SCIM log --------------------------------------------------------------------------------------
const json = (v: unknown) => (v === null || v === undefined ? '' : `<pre>${h(JSON.stringify(v, null, 2))}</pre>`);

export function logPage(ctx: Ctx): string {
  const rows = [...ctx.state.log]
    .reverse()
    .slice(0, 200)
    .map(
      (x: ScimExchange) =>
        `<tr><td>${x.n}</td><td>${h(x.at.slice(11, 19))}</td><td><strong>${h(x.method)}</strong> <code>${h(x.url)}</code>${json(x.requestBody)}</td><td>${x.status ?? '—'}${x.error ? `<div class="hint">${h(x.error)}</div>` : ''}${json(x.responseBody)}</td><td>${x.durationMs} ms</td></tr>`,
    )
    .join('');
  return layout(
    ctx,
    'SCIM log',
    `<h1>SCIM requests sent to Ledgerline</h1><p class="sub">Newest first. This is what ${h(styleName(ctx.state))} puts on the wire.</p>
<table><thead><tr><th>#</th><th>Time</th><th>Request</th><th>Response</th><th>Took</th></tr></thead><tbody>${rows || '<tr><td colspan="5">Nothing sent yet.</td></tr>'}</tbody></table>`,
  );
}

// ---- end user --------------------------------------------------------------------------------------
function personButtons(ctx: Ctx, action: string, hidden: Record<string, string>): string {
  const s = ctx.state;
  const fields = Object.entries(hidden)
    .map(([k, v]) => `<input type="hidden" name="${h(k)}" value="${h(v)}">`)
    .join('');
  return `<div class="people">${s.people
    .map((p) => {
      const assigned = !!s.assignment(p.id);
      const note = !assigned ? 'not assigned to Ledgerline' : p.status !== 'active' ? 'deactivated here: a real IdP would stop at its own sign-in; the demo lets you see what Ledgerline does' : p.userName;
      return `<form method="post" action="${h(action)}">${fields}<input type="hidden" name="personId" value="${h(p.id)}"><button type="submit"${assigned ? '' : ' disabled'}>Sign in as ${h(p.givenName)} ${h(p.familyName)}<small>${h(note)}</small></button></form>`;
    })
    .join('')}</div>`;
}

export function chooserPage(ctx: Ctx, pendingId: string, requester: string): string {
  return layout(
    ctx,
    'Sign in',
    `<h1>Sign in to Ledgerline</h1><p class="sub">Ledgerline (<code>${h(requester)}</code>) asked this IdP to authenticate you. Pick a demo person; the IdP then posts a signed SAML response back to Ledgerline.</p>${personButtons(ctx, '/sso/respond', { pending: pendingId })}`,
  );
}

export function homePage(ctx: Ctx): string {
  return layout(
    ctx,
    'My apps',
    `<h1>My apps</h1><p class="sub">IdP-initiated sign-in: choose who you are, then open the Ledgerline tile. Ledgerline must allow IdP-initiated sign-in for this to work.</p>
<form method="post" action="/home/launch"><label for="launch-as">Signed in to the IdP as</label><select id="launch-as" name="personId">${ctx.state.people
      .filter((p) => ctx.state.assignment(p.id))
      .map((p) => `<option value="${h(p.id)}">${h(p.givenName)} ${h(p.familyName)} (${h(p.userName)})</option>`)
      .join('')}</select>
<div class="tiles spaced"><button class="tile" type="submit">Ledgerline</button></div></form>`,
  );
}

/** The HTTP-POST binding: an auto-submitting form (external script) with a visible fallback button. */
export function postBindingPage(acsUrl: string, samlResponse: string, relayState: string | null): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Signing in…</title><link rel="stylesheet" href="/static/idp.css"><script src="/static/autosubmit.js"></script></head>
<body><main><p>Signing you in to Ledgerline…</p><form id="saml-post" method="post" action="${h(acsUrl)}"><input type="hidden" name="SAMLResponse" value="${h(samlResponse)}">${
    relayState !== null ? `<input type="hidden" name="RelayState" value="${h(relayState)}">` : ''
  }<button type="submit">Continue</button></form></main></body></html>`;
}

export function errorPage(ctx: Ctx, title: string, message: string, status = 400): { status: number; html: string } {
  return { status, html: layout(ctx, title, `<h1>${h(title)}</h1><div class="notice error">${h(message)}</div><p><a href="/">Back to the overview</a></p>`) };
}
