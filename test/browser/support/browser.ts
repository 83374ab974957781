/**
 * A real browser for the console tests: Debian's Chromium (or CHROMIUM_PATH)
 * driven by playwright-core, headless; `--no-sandbox` when running as root
 * (CI), where Chromium's sandbox refuses to start.
 */
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { signToken } from '../../../src/infra/jwt.ts';
import { TEST_JWT_SECRET } from '../../support/app.ts';

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    headless: true,
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}

export interface Agent {
  context: BrowserContext;
  page: Page;
  /** Errors the page logged or threw (a test may assert there are none). */
  errors: string[];
}

function watch(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  return errors;
}

/** A new browser context (its own sessionStorage) on the console, signed in through the login page's token form. */
export async function signInWithToken(browser: Browser, url: string, sub: string, role: 'agent' | 'admin' = 'agent'): Promise<Agent> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(url);
  await page.getByText('Sign in with a token').click();
  await page.getByLabel('Agent token (JWT)').fill(signToken({ sub, role }, TEST_JWT_SECRET));
  await page.getByRole('button', { name: 'Use token' }).click();
  await page.locator('.conn.open').waitFor({ timeout: 5000 });
  return { context, page, errors };
}

/** Signed in with a username and password through the login form. */
export async function signInWithPassword(browser: Browser, url: string, username: string, password: string): Promise<Agent> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const errors = watch(page);
  await page.goto(url);
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.locator('.conn.open').waitFor({ timeout: 5000 });
  return { context, page, errors };
}

/** The chat list's row for a customer number. */
export function chatRow(page: Page, customer: string) {
  return page.locator('.chat-list .row', { hasText: customer });
}
