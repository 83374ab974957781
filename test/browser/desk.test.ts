/**
 * The help desk in a real browser: an admin sets up canned responses and
 * labels on Desk settings; an agent expands a canned response with its
 * variables (and Pinbot receives exactly the expanded text); the keyboard
 * shortcuts and their help dialog; the Reports page over a known conversation
 * log (figures, charts, CSV download). The team inbox scenarios that need the
 * chat actor's assignment, notes, snooze and CSAT are in inbox.test.ts.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { ConversationLog } from '../../src/actors/desk/conversation-log.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';
import { seriousViolations } from './support/axe.ts';
import { chatRow, launchBrowser, signInWithToken, type Agent } from './support/browser.ts';

const CUSTOMER_CHANNEL = '8000247247';
const SCREENSHOTS = join(import.meta.dirname, '../../docs/screenshots');

describe('help desk in the console', () => {
  let app: TestApp;
  let pinbot: FakePinbot;
  let browser: Browser;
  const agents: Agent[] = [];
  const signIn = async (sub: string, role: 'agent' | 'admin' = 'agent') => {
    const a = await signInWithToken(browser, app.url, sub, role);
    agents.push(a);
    return a;
  };

  before(async () => {
    pinbot = await startFakePinbot();
    const db = uniqueName('desk_ui');
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: db, REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${db}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2',
    });
    browser = await launchBrowser();
  });
  after(async () => {
    for (const a of agents) assert.deepEqual(a.errors, [], 'no script errors in the page');
    await browser?.close();
    await app?.stop();
    await pinbot?.close();
  });

  it('an admin adds a canned response and a label on Desk settings', async () => {
    const { page, errors } = await signIn('lead', 'admin');
    await page.getByRole('link', { name: 'Desk settings' }).click();
    await page.getByLabel('Shortcode').fill('eta');
    await page.getByLabel('Title').fill('Driver ETA');
    await page.getByLabel('Text', { exact: true }).fill('Hello {{customer_name}} ({{customer_number}}), your driver is on the way. — {{agent_name}}');
    await page.getByRole('button', { name: 'Add response' }).click();
    await page.locator('[data-canned="eta"]').waitFor({ timeout: 3000 });
    // A typo in a variable is refused with the server's reason.
    await page.getByLabel('Shortcode').fill('typo');
    await page.getByLabel('Title').fill('Typo');
    await page.getByLabel('Text', { exact: true }).fill('Hi {{custmer_name}}');
    await page.getByRole('button', { name: 'Add response' }).click();
    await page.getByText(/Not saved: .*custmer_name/).waitFor({ timeout: 3000 });
    // The browser logs the refused request; that one is expected.
    assert.deepEqual(errors.splice(0), ['console: Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    await page.getByLabel(/^Name/).fill('cab-not-arrived');
    await page.getByLabel('Description').fill('Driver late or missing');
    await page.getByRole('button', { name: 'Add label' }).click();
    await page.locator('[data-catalogue-label="cab-not-arrived"]').waitFor({ timeout: 3000 });
    assert.deepEqual(await seriousViolations(page), [], 'axe: desk settings page');
    const stored = await app.store.collection('canned_responses').findOne({ _id: 'eta' });
    assert.equal(stored?.updated_by, 'lead');
  });

  it('an agent types /eta: the suggestion expands with the customer\'s name and number and the agent\'s name, and Pinbot gets exactly that', async () => {
    const { page } = await signIn('asha');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000101', 'Cab not here yet', { name: 'Meera' }));
    await chatRow(page, '9810000101').click();
    await page.locator('.msg.in', { hasText: 'Cab not here yet' }).waitFor({ timeout: 3000 });
    const box = page.getByLabel('Reply', { exact: true });
    await box.pressSequentially('/et');
    const suggestion = page.locator('.suggestions [data-shortcode="eta"]');
    await suggestion.waitFor({ timeout: 2000 });
    await box.press('Enter'); // inserts the suggestion (does not send)
    const expanded = 'Hello Meera (9810000101), your driver is on the way. — asha';
    assert.equal(await box.inputValue(), expanded);
    const before = pinbot.requests.length;
    await box.press('Enter');
    // The reply, not the typing indicator the typing sent on the way (Cloud API `typing_indicator`, team inbox).
    const req = await eventually(async () => pinbot.requests.slice(before).find((r) => (r.json as { type?: string } | undefined)?.type === 'text'), 5000, 'the reply at Pinbot');
    assert.deepEqual((req!.json as { text: { body: string } }).text.body, expanded);
    await page.locator('.msg.out', { hasText: expanded }).waitFor({ timeout: 3000 });
  });

  it('keyboard: ? lists the shortcuts; J and K move between chats', async () => {
    const { page } = await signIn('ravi');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000102', 'second chat', { name: 'Nikhil' }));
    await chatRow(page, '9810000102').waitFor({ timeout: 3000 });
    await page.locator('body').press('?');
    const dialog = page.getByRole('dialog', { name: 'Keyboard shortcuts' });
    await dialog.waitFor({ timeout: 2000 });
    const text = await dialog.textContent();
    for (const k of ['Alt+R', 'Alt+N', 'Alt+S', 'J', 'K']) assert.ok(text?.includes(k), `help lists ${k}`);
    assert.deepEqual(await seriousViolations(page), [], 'axe: help dialog');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden', timeout: 2000 });
    const ids = await page.locator('.chat-list .row').evaluateAll((els) => els.map((e) => e.getAttribute('data-chat')));
    assert.ok(ids.length >= 2);
    await page.locator('body').press('j');
    await eventually(async () => (await page.locator('.chat-list .row.open').getAttribute('data-chat')) === ids[0], 2000, 'J opens the first chat');
    await page.locator('body').press('j');
    await eventually(async () => (await page.locator('.chat-list .row.open').getAttribute('data-chat')) === ids[1], 2000, 'J opens the next chat');
    await page.locator('.messages').press('k');
    await eventually(async () => (await page.locator('.chat-list .row.open').getAttribute('data-chat')) === ids[0], 2000, 'K goes back');
    // Alt+N switches the box to a private note and back, even while typing.
    await page.getByLabel('Reply', { exact: true }).click();
    await page.keyboard.press('Alt+n');
    await page.locator('.composer.note-mode').waitFor({ timeout: 2000 });
    await page.keyboard.press('Alt+n');
    await page.locator('.composer.note-mode').waitFor({ state: 'detached', timeout: 2000 });
  });

  it('the Reports page shows the log\'s figures, draws the days, and exports the CSV', async () => {
    const log = new ConversationLog(app.store);
    const day = Date.UTC(2026, 10, 3, 8, 0, 0);
    for (const [i, fr, res, score] of [[1, 30, 600, 3], [2, 90, 1200, 1], [3, 60, 300, null]] as const) {
      await log.opened({ chatId: `r${i}`, conversation: 1, customer: `91980000020${i}`, customerType: 'Customer', channel: CUSTOMER_CHANNEL, team: 'riders', at: day });
      await log.assigned(`r${i}`, 1, { assignee: 'asha', team: 'riders', at: day });
      await log.firstResponse(`r${i}`, 1, { agent: 'asha', at: day + fr * 1000 });
      await log.resolved(`r${i}`, 1, { by: 'asha', at: day + res * 1000 });
      await log.csatAsked(`r${i}`, 1, day + res * 1000);
      if (score) await log.rated(`r${i}`, 1, { score, at: day + res * 1000 + 5000 });
    }
    const { page } = await signIn('lead', 'admin');
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByLabel('From (UTC day)').fill('2026-11-01');
    await page.getByLabel('To', { exact: true }).fill('2026-11-04');
    await page.getByRole('button', { name: 'Show' }).click();
    await eventually(async () => (await page.locator('[data-figure="opened"]').textContent()) === '3', 3000, 'three opened');
    assert.equal(await page.locator('[data-figure="frt"]').textContent(), '1 min / 1 min 30 s');
    assert.equal(await page.locator('[data-figure="resolution"]').textContent(), '10 min / 20 min');
    assert.equal(await page.locator('[data-figure="csat"]').textContent(), '50 %');
    assert.match(await page.locator('[data-figure="csat-rate"]').textContent() ?? '', /^67 %/);
    assert.equal(await page.locator('svg[data-chart="days"] g[data-day]').count(), 4, 'one group of bars per day');
    assert.equal(await page.locator('svg[data-chart="days"] g[data-day="2026-11-03"] title').first().textContent(), '2026-11-03: 3 opened');
    assert.equal(await page.locator('[data-table="Agent"] tr[data-key="asha"] [data-col="frt-median"]').textContent(), '1 min');
    assert.deepEqual(await seriousViolations(page), [], 'axe: reports page');
    await page.screenshot({ path: join(SCREENSHOTS, 'reports.png'), fullPage: true });
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download CSV' }).click();
    const file = await (await download).path();
    const csv = await readFile(file!, 'utf8');
    assert.match(csv, /\r\nagent,asha,asha,3,3,60,90,600,1200,3,2,0.6667,2,0.5\r\n/);
  });
});
