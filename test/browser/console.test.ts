/**
 * The agent console in a real browser (Chromium through playwright-core)
 * against the real service (MongoDB test server, Redis) and a fake Pinbot:
 * what an agent sees and does, end to end.
 */
import assert from 'node:assert/strict';
import { get, type IncomingHttpHeaders } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, statusWebhook, textWebhook } from '../support/webhooks.ts';
import { chatRow, launchBrowser, signInWithToken, type Agent } from './support/browser.ts';

const CUSTOMER_CHANNEL = '8000247247';

/** A GET whose body is left as sent (fetch would un-gzip it). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

describe('agent console', () => {
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
    const db = uniqueName('console');
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

  it('serves the page and its hashed assets with a strict CSP, caching and gzip, within the size budget', async () => {
    const page = await fetch(`${app.url}/`, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(page.headers.get('cache-control'), 'no-cache');
    const csp = page.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe|https?:|\*/);
    const html = await page.text(); // fetch un-gzips
    assert.doesNotMatch(html, /<script>|<style|style=|\son\w+=/i, 'no inline script or style');
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/[^"]+)"/g)].map((m) => m[1]!);
    assert.equal(assets.length, 2);
    let gzipped = 0;
    for (const path of assets) {
      const raw = await rawGet(`${app.url}${path}`, { 'accept-encoding': 'gzip' });
      assert.equal(raw.status, 200);
      assert.equal(raw.headers['content-encoding'], 'gzip');
      assert.equal(raw.headers['cache-control'], 'public, max-age=31536000, immutable');
      assert.match(raw.headers['content-type'] ?? '', path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/);
      const body = raw.body;
      gzipped += body.length;
      assert.ok(gunzipSync(body).length > body.length);
    }
    assert.ok(gzipped < 200 * 1024, `agent page assets ${gzipped} bytes gzipped (budget 200 KB)`);
    assert.equal((await fetch(`${app.url}/console/nope-123.js`)).status, 404);
    assert.equal((await fetch(`${app.url}/console/..%2Fpackage.json`)).status, 404);
  });

  it('shows a new customer\'s message in the list within 1 s with its badge, and moves the chat to the top on the next one', async () => {
    const { page } = await signIn('asha');
    // Another chat first, so "moves to the top" means something.
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000001', 'older chat', { name: 'Older Customer' }));
    await chatRow(page, '9810000001').waitFor({ timeout: 2000 });
    const stats = await page.locator('[data-stat="active"]').textContent();

    let sent = Date.now();
    const res = await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000002', 'Need a cab to the airport', { name: 'Priya' }));
    assert.equal(res.status, 200);
    const row = chatRow(page, '9810000002');
    await row.locator('.badge', { hasText: '1' }).waitFor({ timeout: 1000 });
    assert.ok(Date.now() - sent < 1000);
    assert.match(await row.textContent() ?? '', /Priya.*Need a cab to the airport/);
    assert.equal(await page.locator('.chat-list .row').first().getAttribute('data-chat'), await row.getAttribute('data-chat'));
    await eventually(async () => (await page.locator('[data-stat="active"]').textContent()) === String(Number(stats) + 1), 2000, 'active count pushed');

    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000001', 'are you there?'));
    sent = Date.now();
    await chatRow(page, '9810000001').locator('.badge', { hasText: '2' }).waitFor({ timeout: 1000 });
    assert.ok(Date.now() - sent < 1000);
    assert.match(await page.locator('.chat-list .row').first().textContent() ?? '', /9810000001.*are you there\?/);

    // The session survives a reload (sessionStorage), and the list comes back from the server with its unread counts.
    await page.reload();
    await chatRow(page, '9810000001').locator('.badge', { hasText: '2' }).waitFor({ timeout: 3000 });
  });

  it('opens the conversation, sends a reply with Enter (Shift+Enter is a new line), and the ticks follow WhatsApp\'s statuses', async () => {
    const { page } = await signIn('ravi');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000003', 'Where is my driver?', { name: 'Kiran' }));
    await chatRow(page, '9810000003').click();
    await page.locator('.msg.in', { hasText: 'Where is my driver?' }).waitFor({ timeout: 2000 });
    assert.equal(await chatRow(page, '9810000003').locator('.badge').count(), 0, 'opening a chat clears its badge');

    const before = pinbot.requests.length;
    const box = page.getByLabel('Reply', { exact: true });
    await box.fill('Your driver is 5 minutes away.');
    await box.press('Shift+Enter');
    await box.pressSequentially('Thanks for waiting 🙏');
    await box.press('Enter');
    const text = 'Your driver is 5 minutes away.\nThanks for waiting 🙏';
    const [req] = (await pinbot.waitForRequests(before + 1)).slice(before);
    assert.equal(req!.method, 'POST');
    // 8000247247's send type is customer_chat_new (v3 URL, second key): the reply leaves from the number the customer wrote to.
    assert.equal(req!.path, '/v3/687960561072454/messages');
    assert.equal(req!.headers.apikey, 'k2');
    assert.deepEqual(req!.json, { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919810000003', type: 'text', text: { body: text, preview_url: false } });
    assert.equal(await box.inputValue(), '', 'the box is cleared once sent');
    const out = page.locator('.msg.out', { hasText: 'Thanks for waiting' });
    await out.locator('.ticks[data-status="sent"]').waitFor({ timeout: 3000 });

    const waId = await eventually(async () => {
      const m = await app.store.collection('messages').findOne({ message: text });
      return m?.wa_message_id as string | undefined;
    }, 3000, 'Pinbot id stored');
    await postWebhook(app.url, CUSTOMER_CHANNEL, statusWebhook('919810000003', waId, 'delivered'));
    await out.locator('.ticks[data-status="delivered"]').waitFor({ timeout: 2000 });
    await postWebhook(app.url, CUSTOMER_CHANNEL, statusWebhook('919810000003', waId, 'read'));
    await out.locator('.ticks[data-status="read"]').waitFor({ timeout: 2000 });
  });
});
