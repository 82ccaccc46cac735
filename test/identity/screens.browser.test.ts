// In the browser: the Audit Log's date filters. A date that is not one (from a bookmarked or shared
// URL) or a from after to stays in its field with the problem beside it, and no list is shown as if
// it were filtered; a day is the user's, in the time zone they chose, not the browser's.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { createLocalAdmin, createUserWithLevels, signIn, startTestApp, type Client, type TestApp } from '../helpers/app.ts';
import { captureOnFailure, launchBrowser, newSession, settled, signInThroughUi } from '../helpers/browser.ts';

let t: TestApp;
let browser: Browser;
let api: Client;
let auditor: { username: string; password: string };
let adminUser: { username: string; password: string };

before(async () => {
  t = await startTestApp();
  const admin = await createLocalAdmin(t.database);
  adminUser = admin;
  api = await signIn(t.baseUrl, admin.username, admin.password);
  auditor = await createUserWithLevels(api, { 'audit-log': 'read' }, 'auditor');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await t?.close();
});

/** The text of the element that describes `field` (its error), or '' when none does. */
async function describedText(page: Page, field: Locator): Promise<string> {
  const ids = (await field.getAttribute('aria-describedby')) ?? '';
  return ids ? page.locator(`[id="${ids}"]`).innerText() : '';
}

/** The audit list requests the page sends, with their from and to. */
function auditRequests(page: Page): { from: string | null; to: string | null }[] {
  const sent: { from: string | null; to: string | null }[] = [];
  page.on('request', (r) => {
    const url = new URL(r.url());
    if (url.pathname === '/api/audit') sent.push({ from: url.searchParams.get('from'), to: url.searchParams.get('to') });
  });
  return sent;
}

/**
 * Runs `run` on a new browser page signed in as `user` on the Audit Log, once its first list is
 * shown, with the list requests the page sends; screenshots under `name` if it fails.
 */
async function onAuditLog(name: string, user: { username: string; password: string }, run: Run, session: { timezoneId?: string } = {}): Promise<void> {
  const { page } = await newSession(browser, t.baseUrl, session);
  const sent = auditRequests(page);
  try {
    await captureOnFailure(name, [page], async () => {
      await signInThroughUi(page, user.username, user.password);
      await page.goto('/operations/audit');
      await page.getByRole('table', { name: 'Audit log' }).waitFor();
      await run(page, sent);
    });
  } finally {
    await page.context().close();
  }
}
type Run = (page: Page, sent: ReturnType<typeof auditRequests>) => Promise<void>;

test('a date from the URL that is not a day stays in its field with the problem beside it, and no list is shown', async () => {
  await onAuditLog('audit-bad-date-url', auditor, async (page, sent) => {
    // The unfiltered list's request is not one of those counted below.
    const from = page.getByLabel('From', { exact: true });
    for (const [value, problem] of [['2026-02-31', '2026-02-31 is not a day: February 2026 has 28 days'], ['zzz', 'Enter a date like 2026-01-31']]) {
      sent.length = 0;
      await page.goto(`/operations/audit?from=${value}`);
      await page.getByRole('alert').filter({ hasText: problem }).waitFor();
      // Before: 2026-02-31 was sent as 3 March and zzz as no filter, the field empty, the list shown.
      assert.equal(await from.inputValue(), value, 'what the URL holds stays in the field');
      assert.equal(await from.getAttribute('aria-invalid'), 'true');
      assert.equal(await describedText(page, from), problem, 'the message is the field’s own');
      await page.getByText('No entries are shown until the dates are corrected.').waitFor();
      assert.equal(await page.getByRole('table', { name: 'Audit log' }).count(), 0, 'no list passes for a filtered one');
      assert.deepEqual(sent, [], 'nothing is asked of the server with that date');
    }
    // Corrected, the list is shown for the date typed.
    await from.fill('2000-01-01');
    await page.getByRole('table', { name: 'Audit log' }).waitFor();
    assert.equal(await from.getAttribute('aria-invalid'), null);
    assert.equal(new URL(page.url()).searchParams.get('from'), '2000-01-01');
    assert.equal(sent.length, 1);
    assert.ok(sent[0].from, 'the corrected date is sent');
  });
});

test('a from after to is shown beside both fields, the dates typed are kept, and no list is shown', async () => {
  await onAuditLog('audit-backwards-range', auditor, async (page) => {
    const from = page.getByLabel('From', { exact: true });
    const to = page.getByLabel('to', { exact: true });
    await from.fill('2026-03-10');
    await to.fill('2026-03-01');
    await page.getByRole('alert').filter({ hasText: 'Must not be after to' }).waitFor();
    // Before: a banner quoting the ISO times the screen had made of them, above the list as it was.
    assert.equal(await describedText(page, from), 'Must not be after to');
    assert.equal(await describedText(page, to), 'Must not be before from');
    assert.deepEqual([await from.inputValue(), await to.inputValue()], ['2026-03-10', '2026-03-01']);
    await page.getByText('No entries are shown until the dates are corrected.').waitFor();
    assert.equal(await page.getByRole('table', { name: 'Audit log' }).count(), 0);
    await to.fill('2026-12-31');
    await page.getByRole('table', { name: 'Audit log' }).or(page.getByText('No entry matches these filters.')).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
    assert.equal(await from.getAttribute('aria-invalid'), null);
  });
});

test('a corrected date loses its error at once, not when the server answers', async () => {
  await onAuditLog('audit-corrected-date', auditor, async (page) => {
    await page.goto('/operations/audit?from=zzz');
    const from = page.getByLabel('From', { exact: true });
    await page.getByRole('alert').filter({ hasText: 'Enter a date like 2026-01-31' }).waitFor();
    // A slow server: the list for the corrected date is held until the field has been looked at.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const asked = new Promise<void>((resolve) =>
      void page.route((url) => url.pathname === '/api/audit', async (route) => {
        resolve();
        await held;
        await route.continue();
      }),
    );
    await from.fill('2000-01-01');
    await asked;
    // Before: "Enter a date like 2026-01-31" stayed beside 2000-01-01 until the answer came.
    assert.equal(await describedText(page, from), '', 'no error beside the corrected date');
    assert.equal(await from.getAttribute('aria-invalid'), null);
    release();
    await page.getByRole('table', { name: 'Audit log' }).waitFor();
    assert.equal(await page.getByRole('alert').count(), 0);
  });
});

test("a day filtered is the user's day in the time zone they chose, not the browser's, and follows a change of zone made elsewhere", async () => {
  // A user in New York, on a laptop whose clock says Tokyo. 14 March 2021 is 23 hours long in New
  // York (the clocks go forward at 02:00): it runs from 05:00 UTC to 04:00 UTC the next day.
  const newYorker = await createUserWithLevels(api, { 'audit-log': 'read' }, 'new-yorker');
  const patched = await api.json(`/api/users/${newYorker.userId}`, { method: 'PATCH', body: { timeZone: 'America/New_York', locale: 'en-GB' } });
  assert.equal(patched.status, 200);
  const entry = (at: string, summary: string) => ({ at, actor_id: null, actor_name: 'clock', source: 'system', action: 'test.clock', target_type: null, target_id: null, target_name: null, summary, details: null, ip: null, request_id: null });
  await t.database.db
    .insertInto('audit_log')
    .values([
      entry('2021-03-14T04:59:59.000Z', 'a second before the day, in New York'),
      entry('2021-03-14T05:00:00.000Z', 'the day’s first second, in New York'),
      entry('2021-03-15T03:59:59.000Z', 'the day’s last second, in New York'),
      entry('2021-03-15T04:00:00.000Z', 'a second after the day, in New York'),
    ])
    .execute();
  await onAuditLog('audit-user-zone', newYorker, async (page, sent) => {
    assert.equal(await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone), 'Asia/Tokyo');
    await page.getByLabel('From', { exact: true }).fill('2021-03-14');
    await page.getByLabel('to', { exact: true }).fill('2021-03-14');
    const table = page.getByRole('table', { name: 'Audit log' });
    const rows = () => table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [tr.querySelector('time')?.textContent, tr.lastElementChild?.textContent]));
    const expected = [
      ['14 Mar 2021, 23:59:59', 'the day’s last second, in New York'],
      ['14 Mar 2021, 00:00:00', 'the day’s first second, in New York'],
    ];
    // Before: the day was Tokyo's (15:00 UTC to 15:00 UTC), which holds the second before New York's day and not its last second.
    assert.deepEqual(await settled(rows, expected), expected, "the day's entries, at the times on the user's clock");
    assert.deepEqual(sent.at(-1), { from: '2021-03-14T05:00:00.000Z', to: '2021-03-15T03:59:59.999Z' }, 'New York’s day, in the times the server compares');
    // The user moves to Tokyo on another tab (here: the API), and comes back to this one. Before: the
    // list kept New York's day and times until the page was left, as the browser only read the
    // user's zone again, and nothing on the screen asked for it.
    const moved = await api.json(`/api/users/${newYorker.userId}`, { method: 'PATCH', body: { timeZone: 'Asia/Tokyo' } });
    assert.equal(moved.status, 200);
    await page.evaluate(() => window.dispatchEvent(new Event('focus')));
    const inTokyo = [
      ['14 Mar 2021, 14:00:00', 'the day’s first second, in New York'],
      ['14 Mar 2021, 13:59:59', 'a second before the day, in New York'],
    ];
    assert.deepEqual(await settled(rows, inTokyo), inTokyo, "Tokyo's 14 March (15:00 UTC the day before to 15:00 UTC), at the times on Tokyo's clock");
    assert.deepEqual(sent.at(-1), { from: '2021-03-13T15:00:00.000Z', to: '2021-03-14T14:59:59.999Z' });
    assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '2021-03-14', 'the days chosen stay');
  }, { timezoneId: 'Asia/Tokyo' });
});

test('filters changed before the screen has redrawn are all kept, each field showing its choice at once', async () => {
  await onAuditLog('audit-filters-at-once', auditor, async (page, sent) => {
    const allSent = page.waitForResponse((r) => {
      const q = new URL(r.url()).searchParams;
      return new URL(r.url()).pathname === '/api/audit' && ['source', 'from', 'to'].every((k) => q.has(k));
    });
    allSent.catch(() => {}); // awaited below; not an unhandled rejection if the test fails first
    // The fields change within one task, as a quick hand or a slow machine makes them: each change
    // comes before the previous one's new address has reached the screen. What each field shows is
    // read as its change event ends, when React puts back a controlled field's value if the state it
    // comes from has not changed.
    const shown = await page.evaluate(() => {
      const changes: [string, string, 'change' | 'input'][] = [
        ['Source', 'scim', 'change'],
        ['From', '2021-03-01', 'input'],
        ['to', '2021-03-31', 'input'],
      ];
      return changes.map(([label, value, event]) => {
        // (Not a helper function: tsx names functions with a __name the page does not have.)
        const el = [...document.querySelectorAll('label')].find((l) => l.textContent === label)!.control as HTMLInputElement | HTMLSelectElement;
        const proto = el instanceof HTMLSelectElement ? HTMLSelectElement.prototype : HTMLInputElement.prototype;
        Object.getOwnPropertyDescriptor(proto, 'value')!.set!.call(el, value);
        el.dispatchEvent(new Event(event, { bubbles: true }));
        return [label, el.value];
      });
    });
    // Before: Source and From went back to empty as their events ended, and the address kept only
    // the last change (to=2021-03-31), and so did the list's request.
    assert.deepEqual(shown, [['Source', 'scim'], ['From', '2021-03-01'], ['to', '2021-03-31']], 'each field shows its choice as soon as it is made');
    await page.waitForURL((url) => url.searchParams.get('source') === 'scim' && url.searchParams.get('from') === '2021-03-01' && url.searchParams.get('to') === '2021-03-31');
    await allSent;
    const last = sent.at(-1)!;
    assert.ok(last.from && last.to, `the last list request has both dates (from ${last.from}, to ${last.to})`);
    assert.equal(await page.getByLabel('Source').inputValue(), 'scim');
    assert.equal(await page.getByLabel('From', { exact: true }).inputValue(), '2021-03-01');
    assert.equal(await page.getByLabel('to', { exact: true }).inputValue(), '2021-03-31');
  });
});

test('each search is a step Back undoes, with the box showing the search gone back to', async () => {
  await onAuditLog('audit-search-steps', auditor, async (page) => {
    const box = page.getByRole('searchbox');
    const q = () => new URL(page.url()).searchParams.get('q');
    for (const text of ['first second', 'last second']) {
      await box.fill(text);
      await box.press('Enter');
      await page.waitForURL((url) => url.searchParams.get('q') === text);
    }
    // Before: a search replaced the step it was made on, so Back left the Audit Log.
    await page.goBack();
    await page.waitForURL((url) => url.searchParams.get('q') === 'first second');
    assert.equal(await settled(() => box.inputValue(), 'first second'), 'first second');
    await page.goBack();
    await page.waitForURL((url) => url.pathname === '/operations/audit' && !url.searchParams.has('q'));
    assert.equal(q(), null);
    assert.equal(await settled(() => box.inputValue(), ''), '');
  });
});

test('signing in from a link whose returnTo hides another host behind a tab stays on Ledgerline', async () => {
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('login-return-to-tab', [page], async () => {
    await page.goto('/login?returnTo=%2F%09%2Fevil.example');
    await page.getByLabel('User name').fill(auditor.username);
    await page.getByLabel('Password').fill(auditor.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL((url) => url.origin === t.baseUrl && url.pathname === '/' && url.search === '', { timeout: 10_000 });
    await page.getByRole('navigation', { name: 'Main menu' }).waitFor();
    assert.equal(new URL(page.url()).origin, t.baseUrl);
  });
  await page.context().close();
});

test('the sign-in page shows only its own sentences for ?error=, never text from the link, and only a reference in its own form', async () => {
  const { page } = await newSession(browser, t.baseUrl);
  await captureOnFailure('login-error-text', [page], async () => {
    const crafted = 'Your account is locked. Call +1 555 0100 and give your password to unlock it.';
    await page.goto(`/login?error=${encodeURIComponent(crafted)}&ref=${encodeURIComponent('call 555 0100')}`);
    const banner = page.getByTestId('sso-error');
    await banner.waitFor();
    assert.equal((await banner.innerText()).trim(), 'We could not sign you in with single sign-on. Ask your administrator for help.');
    await page.goto('/login?error=user_disabled&ref=SSO-0A1B2C3D4E');
    await banner.getByText('Your Ledgerline account is disabled. Ask your administrator if you need access.').waitFor();
    assert.equal(await banner.locator('code').innerText(), 'SSO-0A1B2C3D4E');
  });
  await page.context().close();
});

test('a column sorted on a list of several pages says it sorts the page shown', async () => {
  for (let i = 0; i < 52; i++) assert.equal((await api.json('/api/roles', { method: 'POST', body: { name: `Paged role ${String(i).padStart(2, '0')}`, roleGroupIds: ['rg-readonly'] } })).status, 201);
  const { page } = await newSession(browser, t.baseUrl);
  try {
    await captureOnFailure('sorted-page-note', [page], async () => {
      await signInThroughUi(page, adminUser.username, adminUser.password);
      await page.goto('/setup/roles');
      const table = page.getByRole('table', { name: 'Roles' });
      await table.waitFor();
      const note = page.getByText('Sorted within this page');
      assert.equal(await page.getByRole('button', { name: 'Next ›' }).isEnabled(), true, 'the list has a second page');
      assert.equal(await note.count(), 0, 'no note before a column is sorted');
      await table.getByRole('button', { name: /^Role/ }).click();
      await note.waitFor();
      assert.match(page.url(), /sort=name/);
    });
  } finally {
    await page.context().close();
  }
});

test("each screen names the browser tab after its title, so tabs, history and bookmarks tell screens apart", async () => {
  const { page } = await newSession(browser, t.baseUrl);
  try {
    await captureOnFailure('document-title', [page], async () => {
      await signInThroughUi(page, adminUser.username, adminUser.password);
      // Before: every screen's tab read "Ledgerline".
      for (const [path, title] of [['/operations/audit', 'Audit Log'], ['/setup/roles', 'Roles'], ['/setup/users', 'Users'], ['/no-such-screen', 'Page not found']] as const) {
        await page.goto(path);
        await page.getByRole('heading', { level: 1, name: title }).waitFor();
        await page.waitForFunction((want) => document.title === want, `${title} · Ledgerline`);
      }
      // A screen reached inside the app (no page load) renames it too.
      await page.getByRole('link', { name: 'Role Groups', exact: true }).first().click();
      await page.getByRole('heading', { level: 1, name: 'Role Groups' }).waitFor();
      await page.waitForFunction(() => document.title === 'Role Groups · Ledgerline');
    });
  } finally {
    await page.context().close();
  }
  // A screen the person may not open names the tab after what it shows, not after the last screen.
  const other = await newSession(browser, t.baseUrl);
  try {
    await captureOnFailure('document-title-no-access', [other.page], async () => {
      await signInThroughUi(other.page, auditor.username, auditor.password);
      await other.page.goto('/setup/users');
      await other.page.getByRole('heading', { level: 1, name: 'You do not have access' }).waitFor();
      await other.page.waitForFunction(() => document.title === 'You do not have access · Ledgerline');
    });
  } finally {
    await other.page.context().close();
  }
});
