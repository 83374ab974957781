/**
 * The chat list with 10,000 chats (embedded store, filled directly): only the
 * rows in view are in the DOM however far the agent scrolls, pages load as
 * they scroll, and the keyboard moves through the rows and opens one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.ts';
import { launchBrowser, signInWithToken, type Agent } from './support/browser.ts';

const CHATS = 10_000;

describe('agent console with 10,000 chats', () => {
  let app: TestApp;
  let browser: Browser;
  let agent: Agent;

  before(async () => {
    app = await startTestApp();
    const chats = app.store.collection('chats');
    const now = Date.now();
    const inserts: Promise<unknown>[] = [];
    for (let i = 0; i < CHATS; i++) {
      const at = new Date(now - i * 60_000);
      inserts.push(chats.insertOne({
        _id: (0x6b0a0000 + i).toString(16).padStart(24, '0'), customer: String(9700000000 + i), customer_name: `Customer ${i}`, customer_type: 'Customer',
        channel: '8000247247', status: 'active', last_msg_by: String(9700000000 + i), last_message: `message ${i}`, last_message_time: at,
        last_customer_message_at: at, status_updated_by: null, status_updated_at: null, created_at: at, last_seq: 1, read_cursors: [],
      }));
    }
    await Promise.all(inserts);
    browser = await launchBrowser();
  });
  after(async () => {
    assert.deepEqual(agent?.errors ?? [], []);
    await browser?.close();
    await app?.stop();
  });

  it('keeps the DOM bounded while scrolling through pages, and the keyboard moves through rows and opens one', async () => {
    agent = await signInWithToken(browser, app.url, 'asha');
    const { page } = agent;
    await page.getByText(`${CHATS} chats`).waitFor({ timeout: 5000 });
    const rows = page.locator('.chat-list .rows li');
    assert.ok((await rows.count()) <= 40, `${await rows.count()} rows in the DOM`);
    assert.match(await rows.first().textContent() ?? '', /Customer 0 \(9700000000\).*message 0/);

    // Scroll to the end of what is loaded, several times: more pages come, the DOM stays small.
    const list = page.locator('.chat-list .rows');
    for (let i = 0; i < 4; i++) {
      const loaded = await page.locator('.chat-list .rows ul').evaluate((el) => (el as unknown as { offsetHeight: number }).offsetHeight / 68);
      await list.evaluate((el) => ((el as unknown as { scrollTop: number; scrollHeight: number }).scrollTop = (el as unknown as { scrollHeight: number }).scrollHeight));
      await page.waitForFunction((n) => (globalThis as any).document.querySelector('.chat-list .rows ul')!.getBoundingClientRect().height / 68 > n, loaded, { timeout: 5000 });
      assert.ok((await rows.count()) <= 40, `${await rows.count()} rows in the DOM after scrolling`);
    }
    const last = await page.locator('.chat-list .rows li').last().textContent();
    assert.match(last ?? '', /Customer (2\d\d)\b/, 'rows far down the list are the ones shown');

    // Keyboard: back to the top, ↓ moves between rows, Enter opens.
    await list.evaluate((el) => ((el as unknown as { scrollTop: number }).scrollTop = 0));
    await page.locator('.chat-list .row[data-index="0"]').focus();
    // Focus follows the keys after the list renders the row (a frame later on a busy machine): waited for, not sampled.
    const focusedIndex = (atLeast: number) =>
      page.waitForFunction((n) => Number((globalThis as any).document.activeElement?.getAttribute('data-index')) >= n, atLeast, { timeout: 3000 }).then(
        () => true,
        () => false,
      );
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    assert.ok(await focusedIndex(3), 'row 3 has the focus');
    assert.equal(await page.evaluate(() => (globalThis as any).document.activeElement?.getAttribute('data-index')), '3');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Customer 3 (9700000003)' }).waitFor({ timeout: 3000 });
    await page.keyboard.press('End');
    assert.ok(await focusedIndex(199), `End focuses the last loaded row (focused: ${await page.evaluate(() => (globalThis as any).document.activeElement?.getAttribute('data-index'))})`);
    assert.ok((await rows.count()) <= 40);
  });
});
