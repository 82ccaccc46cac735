// Browser tests drive Debian's chromium through playwright-core (no bundled browser download).
// One browser per test file; one context per signed-in person (separate cookie jars).
// On failure, a screenshot of the page goes to test-results/ for the CI log.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const RESULTS_DIR = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../test-results');

export function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  if (fs.existsSync('/usr/bin/chromium')) return '/usr/bin/chromium';
  try {
    const p = execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim();
    if (p) return p;
  } catch {
    // fall through to the error below
  }
  throw new Error('chromium not found: install it (apt-get install -y chromium) or set CHROMIUM_PATH');
}

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  // Tests switch between tabs (Ledgerline and the IdP); background tabs must not be throttled.
  '--disable-renderer-backgrounding',
  '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
];

/**
 * Launches chromium. Playwright gives every launch a fresh temporary profile directory
 * (it refuses an explicit --user-data-dir outside launchPersistentContext) and removes it on close.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS, timeout: 30_000 });
}

export interface BrowserSession {
  context: BrowserContext;
  page: Page;
  /** Console errors and uncaught exceptions seen so far (CSP violations show up here). */
  errors: string[];
}

/** A fresh cookie jar at 1280×800, the size the UI is designed for; the browser's clock on UTC unless `timezoneId` says otherwise. */
export async function newSession(browser: Browser, baseUrl: string, opts: { timezoneId?: string } = {}): Promise<BrowserSession> {
  const context = await browser.newContext({ baseURL: baseUrl, viewport: { width: 1280, height: 800 }, timezoneId: opts.timezoneId ?? 'UTC', locale: 'en-GB' });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  // Keep console errors (CSP violations, React errors) for assertions and show them in the output.
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    errors.push(m.text());
    if (process.env.TEST_BROWSER_LOG) console.error(`[browser] ${m.text()}`);
  });
  page.on('pageerror', (e) => {
    errors.push(e.message);
    console.error(`[browser] ${e.message}`);
  });
  return { context, page, errors };
}

function safeName(s: string): string {
  return s.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '').slice(0, 80) || 'page';
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${safeName(name)}.png`);
  await page.screenshot({ path: file, fullPage: true }).catch(() => undefined);
  return file;
}

/** Runs `fn`; if it throws, saves a screenshot of each page into test-results/ and rethrows. */
export async function captureOnFailure(name: string, pages: Page[], fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    const files = [];
    for (const [i, p] of pages.entries()) if (!p.isClosed()) files.push(await screenshot(p, `${name}${pages.length > 1 ? `-${i + 1}` : ''}`));
    if (files.length) console.error(`screenshots: ${files.join(', ')}`);
    throw err;
  }
}

/** Signs in through the real login page and waits for the signed-in shell. */
/**
 * Opens `path` in a tab whose session has ended, where the app moves on to the login page, often
 * before `path` has finished loading: waits only for the navigation to start, then for where it
 * ends (the caller's waitForURL). The app's own move can supersede this navigation (Chromium reports
 * net::ERR_ABORTED, or Playwright "interrupted by another navigation"); that is not an error here.
 */
export async function gotoSignedOut(page: Page, path: string): Promise<void> {
  await page.goto(path, { waitUntil: 'commit' }).catch((err: unknown) => {
    if (!/net::ERR_ABORTED|interrupted by another navigation/.test(String(err))) throw err;
  });
}

export async function signInThroughUi(page: Page, username: string, password: string, returnTo?: string): Promise<void> {
  await page.goto(returnTo ? `/login?returnTo=${encodeURIComponent(returnTo)}` : '/login');
  await page.getByLabel('User name').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main menu' }).waitFor();
}

/** The labels of the screens in the left menu, in order. */
export async function menuScreens(page: Page): Promise<string[]> {
  return page.getByRole('navigation', { name: 'Main menu' }).getByRole('link').allTextContents();
}

/** What `read` gives once it is `expected`, or what it gives after 5 s (for the assertion to show). */
export async function settled<T>(read: () => Promise<T>, expected: T): Promise<T> {
  const until = Date.now() + 5_000;
  for (;;) {
    const got = await read();
    if (isDeepStrictEqual(got, expected) || Date.now() > until) return got;
    await new Promise((r) => setTimeout(r, 100));
  }
}
