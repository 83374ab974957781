/**
 * The agent console in a real browser (Chromium through playwright-core)
 * against the real service (MongoDB test server, Redis) and a fake Pinbot:
 * what an agent sees and does, end to end.
 */
import assert from 'node:assert/strict';
import { get, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, statusWebhook, textWebhook } from '../support/webhooks.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET } from '../support/app.ts';
import { seriousViolations } from './support/axe.ts';
import { chatRow, launchBrowser, signInWithPassword, signInWithToken, type Agent } from './support/browser.ts';
import { gradientPng, messageWebhook } from './support/messages.ts';

const CUSTOMER_CHANNEL = '8000247247';
const DISCOUNT_CHANNEL = '9638120888';
const SCREENSHOTS = join(import.meta.dirname, '../../docs/screenshots');
const ADMIN = `Bearer ${signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET)}`;

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

  it('filters the list by customer type (channel), by a profile filter and by number or name', async () => {
    const { page } = await signIn('asha');
    await postWebhook(app.url, '9099039188', textWebhook('919810000010', 'partner here', { name: 'Driver Das' }));
    await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', headers: { authorization: ADMIN, 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '9810000010', dco_status: 'Suspend' }) });
    await chatRow(page, '9810000010').waitFor({ timeout: 2000 });
    const types = page.getByLabel('Customer type and channel');
    await types.selectOption('Partner');
    await page.locator('.chat-list .row').first().waitFor();
    assert.match(await types.locator('option[value="Partner"]').textContent() ?? '', /Partner — .*9099039188/);
    await eventually(async () => (await page.locator('.chat-list .row').allTextContents()).every((t) => /Partner/.test(t)), 2000, 'only partner chats');
    assert.equal(await chatRow(page, '9810000002').count(), 0);
    await types.selectOption('');
    await page.getByLabel('Profile filter').selectOption('Suspend');
    await eventually(async () => {
      const rows = await page.locator('.chat-list .row').allTextContents();
      return rows.length === 1 && rows[0]!.includes('9810000010');
    }, 2000, 'only the suspended partner');
    await page.getByLabel('Profile filter').selectOption('');
    await page.getByLabel('Search by number or name').fill('priya');
    await eventually(async () => {
      const rows = await page.locator('.chat-list .row').allTextContents();
      return rows.length === 1 && rows[0]!.includes('9810000002');
    }, 2000, 'search by name');
    await page.getByLabel('Search by number or name').fill('98100000');
    await eventually(async () => (await page.locator('.chat-list .row').count()) >= 3, 2000, 'search by number');
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
    // The reply, not the typing indicator the typing sent on the way (Cloud API `typing_indicator`, team inbox).
    const req = await eventually(async () => pinbot.requests.slice(before).find((r) => (r.json as { type?: string } | undefined)?.type === 'text'), 5000, 'the reply at Pinbot');
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
  it('reconnects after a network drop and shows what arrived meanwhile, once each', async () => {
    const { page, context, errors } = await signIn('ravi');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000009', 'before the drop', { name: 'Dev' }));
    await chatRow(page, '9810000009').click();
    await page.locator('.msg.in', { hasText: 'before the drop' }).waitFor({ timeout: 2000 });
    // Offline emulation leaves the open socket silently dead (no close event): the heartbeat (10 s, 5 s to answer) finds out.
    await context.setOffline(true);
    await page.locator('.conn.reconnecting').waitFor({ timeout: 20_000 });
    for (const text of ['during the drop 1', 'during the drop 2']) await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000009', text));
    await context.setOffline(false);
    await page.locator('.conn.open').waitFor({ timeout: 15_000 });
    for (const text of ['during the drop 1', 'during the drop 2']) await page.locator('.msg.in', { hasText: text }).waitFor({ timeout: 3000 });
    const ids = await page.locator('.messages .msg').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    assert.deepEqual(ids.map((id) => Number(id!.split(':')[1])), [1, 2, 3]);
    // What the page logged while offline is the drop itself.
    const offline = errors.filter((e) => e.includes('ERR_INTERNET_DISCONNECTED'));
    assert.ok(offline.length > 0);
    errors.splice(0, errors.length, ...errors.filter((e) => !e.includes('ERR_INTERNET_DISCONNECTED')));
  });

  it('resolves a chat, and a second agent\'s browser sees it leave Active at once; reopening brings it back', async () => {
    const a = await signIn('meera');
    const b = await signIn('john');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000004', 'Cab never came', { name: 'Rohit' }));
    await chatRow(a.page, '9810000004').waitFor({ timeout: 2000 });
    await chatRow(b.page, '9810000004').waitFor({ timeout: 2000 });
    const resolvedBefore = Number(await b.page.locator('[data-stat="resolved"]').textContent());

    await chatRow(a.page, '9810000004').click();
    await a.page.getByRole('button', { name: 'Resolve', exact: true }).click();
    const t0 = Date.now();
    await chatRow(b.page, '9810000004').waitFor({ state: 'detached', timeout: 1000 });
    assert.ok(Date.now() - t0 < 1000);
    await eventually(async () => Number(await b.page.locator('[data-stat="resolved"]').textContent()) === resolvedBefore + 1, 2000, 'resolved count pushed');
    await a.page.locator('[data-conv-status="resolved"]').waitFor({ timeout: 1000 });
    // On B's Resolved tab it is there.
    await b.page.getByRole('tab', { name: 'Resolved' }).click();
    await chatRow(b.page, '9810000004').waitFor({ timeout: 2000 });
    // Reopen from A: it leaves B's Resolved tab.
    await a.page.getByRole('button', { name: 'Reopen', exact: true }).click();
    await chatRow(b.page, '9810000004').waitFor({ state: 'detached', timeout: 1000 });
    // B opens it too: each sees the other viewing.
    await b.page.getByRole('tab', { name: 'Active' }).click();
    await chatRow(b.page, '9810000004').click();
    await a.page.locator('[data-viewers="john"]').waitFor({ timeout: 8000 });
    await b.page.locator('[data-viewers="meera"]').waitFor({ timeout: 8000 });
  });

  it('outside the 24-hour window says so and offers the template picker, whose template Pinbot receives', async () => {
    const { page } = await signIn('asha');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000005', 'old question', { name: 'Old Timer', at: Date.now() - 25 * 3_600_000 }));
    await chatRow(page, '9810000005').click();
    await page.locator('[data-window="closed"]').waitFor({ timeout: 3000 });
    assert.equal(await page.getByLabel('Reply', { exact: true }).count(), 0, 'no free-form reply box');
    const before = pinbot.requests.length;
    await page.getByLabel('Template', { exact: true }).selectOption('ask_issue_resolved');
    await page.getByRole('button', { name: 'Send template' }).click();
    const [req] = (await pinbot.waitForRequests(before + 1)).slice(before);
    assert.deepEqual(req!.json, { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919810000005', type: 'template', template: { name: 'ask_issue_resolved', language: { code: 'hi' } } });
    await page.locator('.msg.out', { hasText: 'ask_issue_resolved' }).waitFor({ timeout: 2000 });
    // The customer answers: the window opens and the reply box comes back.
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000005', 'yes resolved'));
    await page.getByLabel('Reply', { exact: true }).waitFor({ timeout: 2000 });
  });

  it('sends an image by link, reply buttons and the contact card; Pinbot receives each exactly', async () => {
    const { page } = await signIn('ravi');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919810000006', 'send me the car photo', { name: 'Neha' }));
    await chatRow(page, '9810000006').click();
    await page.locator('.msg.in', { hasText: 'send me the car photo' }).waitFor();
    const sent = async (n: number) => (await pinbot.waitForRequests(n)).slice(n - 1)[0]!.json as Record<string, unknown>;
    const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919810000006' };

    let n = pinbot.requests.length;
    await page.getByLabel('Message type').selectOption('image');
    await page.getByLabel('Public https link to the image').fill('https://cdn.example.com/cars/dzire.jpg');
    await page.getByLabel('Caption (optional)').fill('Your Swift Dzire');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    assert.deepEqual(await sent(n + 1), { ...envelope, type: 'image', image: { link: 'https://cdn.example.com/cars/dzire.jpg', caption: 'Your Swift Dzire' } });
    await page.locator('.msg.out[data-type="image"]').waitFor({ timeout: 2000 });

    n = pinbot.requests.length;
    await page.getByRole('button', { name: 'Ask “issue resolved?”' }).click();
    assert.deepEqual(await sent(n + 1), {
      ...envelope, type: 'interactive',
      interactive: { type: 'button', body: { text: 'Is your issue resolved?' }, action: { buttons: [{ type: 'reply', reply: { id: 'issue_resolved_yes', title: 'Yes, resolved' } }, { type: 'reply', reply: { id: 'issue_resolved_no', title: 'No, not yet' } }] } },
    });

    n = pinbot.requests.length;
    await page.getByLabel('Message type').selectOption('contact_card');
    await page.getByRole('button', { name: 'Send', exact: true }).click();
    const card = await sent(n + 1);
    assert.equal(card.type, 'contacts');
    assert.match(JSON.stringify(card.contacts), /care@oneway\.cab/);
  });

  it('renders what customers send: an image through the media route, a location link, contacts, a button reply, a reaction', async () => {
    const { page } = await signIn('asha');
    const from = '919810000007';
    pinbot.fallback = { status: 200, body: gradientPng(240, 150), headers: { 'content-type': 'image/png' } };
    try {
      await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook(from, 'see the photo', { name: 'Vikram' }));
      await chatRow(page, '9810000007').click();
      await postWebhook(app.url, CUSTOMER_CHANNEL, messageWebhook(from, { type: 'image', image: { id: 'media-console-1', mime_type: 'image/png', caption: 'Dent on the door' } }));
      const img = page.locator('.msg.in img[alt="Dent on the door"]');
      await img.waitFor({ timeout: 5000 });
      assert.match(await img.getAttribute('src') ?? '', /^\/api\/media\/media-console-1\?exp=\d+&sig=/, 'a signed link: the element loads it without a header');
      assert.equal(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth), 240, 'the image bytes loaded');
    } finally {
      pinbot.fallback = { status: 200 };
    }
    await postWebhook(app.url, CUSTOMER_CHANNEL, messageWebhook(from, { type: 'location', location: { latitude: 19.0974, longitude: 72.8745, name: 'Airport T2' } }));
    const map = page.locator('.msg.in a', { hasText: 'Airport T2' });
    await map.waitFor({ timeout: 2000 });
    assert.equal(await map.getAttribute('href'), 'https://www.openstreetmap.org/?mlat=19.0974&mlon=72.8745#map=16/19.0974/72.8745');
    await postWebhook(app.url, CUSTOMER_CHANNEL, messageWebhook(from, { type: 'contacts', contacts: [{ name: { formatted_name: 'Sunita Patil' }, phones: [{ phone: '+91 98220 12345' }] }] }));
    await page.locator('.msg.in .contacts', { hasText: 'Sunita Patil · +91 98220 12345' }).waitFor({ timeout: 2000 });
    await postWebhook(app.url, CUSTOMER_CHANNEL, messageWebhook(from, { type: 'interactive', interactive: { type: 'button_reply', button_reply: { id: 'issue_resolved_no', title: 'No, not yet' } } }));
    await page.locator('.msg.in', { hasText: 'Button reply No, not yet' }).waitFor({ timeout: 2000 });
    const photo = await app.store.collection('messages').findOne({ message: 'see the photo' });
    await postWebhook(app.url, CUSTOMER_CHANNEL, messageWebhook(from, { type: 'reaction', reaction: { message_id: String(photo?.wa_message_id), emoji: '👍' } }));
    await page.locator('.msg.in', { hasText: 'Reacted 👍 to “see the photo”' }).waitFor({ timeout: 2000 });

    assert.deepEqual(await seriousViolations(page), [], 'axe: chat view');
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'chat-view.png') });
  });

  it('the discount page draws the machine and highlights the state of a conversation driven by webhooks', async () => {
    const { page } = await signIn('asha');
    await postWebhook(app.url, DISCOUNT_CHANNEL, textWebhook('919810000008', 'Pune to Mumbai airport'));
    const actor = await eventually(async () => {
      const r = await fetch(`${app.url}/api/actors/discount/9810000008`, { headers: { authorization: `Bearer ${signToken({ sub: 'asha' }, TEST_JWT_SECRET)}` } });
      const data = r.status === 200 ? ((await r.json()) as { data: { state: unknown; transitions: unknown[] } }).data : undefined;
      return data && data.transitions.length > 0 ? data : undefined;
    }, 5000, 'discount actor moved');
    const leaf = (v: unknown, p = ''): string => (typeof v === 'string' ? (p ? `${p}.${v}` : v) : Object.entries(v as Record<string, unknown>).map(([k, x]) => leaf(x, p ? `${p}.${k}` : k))[0]!);
    await page.getByRole('link', { name: 'Discount flows' }).click();
    await page.locator('svg.machine [data-state="ended"]').waitFor({ timeout: 3000 });
    await page.getByLabel('Customer number').fill('9810000008');
    await page.getByRole('button', { name: 'Show state' }).click();
    await page.locator(`svg.machine [data-state="${leaf(actor.state)}"][data-active="true"]`).waitFor({ timeout: 3000 });
    assert.equal(await page.locator(`[data-current-state="${leaf(actor.state)}"]`).count(), 1);
    assert.equal(await page.locator('.actor tbody tr').count(), actor.transitions.length);
    assert.ok(actor.transitions.length > 0);
    assert.deepEqual(await seriousViolations(page), [], 'axe: discount page');
    await page.setViewportSize({ width: 1280, height: 1020 });
    await page.screenshot({ path: join(SCREENSHOTS, 'discount-page.png') });
  });

  it('signs in with a password; an admin lists, adds and disables agents, and the disabled agent is signed out with a message', async () => {
    const admin = (path: string, method: string, body?: unknown) => fetch(`${app.url}${path}`, { method, headers: { authorization: ADMIN, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
    assert.equal((await admin('/api/agents', 'POST', { username: 'lead', name: 'Team Lead', password: 'lead-password-1', role: 'admin' })).status, 200);
    const context = await browser.newContext();
    const login = await context.newPage();
    await login.goto(app.url);
    assert.deepEqual(await seriousViolations(login), [], 'axe: login page');
    await login.getByLabel('Username').fill('lead');
    await login.getByLabel('Password').fill('wrong-password');
    await login.getByRole('button', { name: 'Sign in', exact: true }).click();
    await login.getByRole('alert').filter({ hasText: 'Wrong username or password.' }).waitFor();
    await context.close();

    const lead = await signInWithPassword(browser, app.url, 'lead', 'lead-password-1');
    agents.push(lead);
    await lead.page.getByRole('link', { name: 'Agents' }).click();
    await lead.page.getByLabel('Username', { exact: true }).fill('sam');
    await lead.page.getByLabel('Name', { exact: true }).fill('Sam Agent');
    await lead.page.getByLabel('Password', { exact: true }).fill('sam-password-1');
    await lead.page.getByRole('button', { name: 'Add agent' }).click();
    await lead.page.locator('tr[data-agent="sam"]', { hasText: 'Enabled' }).waitFor({ timeout: 3000 });
    assert.deepEqual(await seriousViolations(lead.page), [], 'axe: agents page');

    const sam = await signInWithPassword(browser, app.url, 'sam', 'sam-password-1');
    agents.push(sam);
    assert.equal(await sam.page.getByRole('link', { name: 'Agents' }).count(), 0, 'agents page is for admins');
    await lead.page.getByRole('button', { name: 'Disable sam' }).click();
    await lead.page.locator('tr[data-agent="sam"]', { hasText: 'Disabled' }).waitFor({ timeout: 3000 });
    // Disabling revokes sam's tokens: the socket is closed with 4401 and the console signs out, saying why.
    await sam.page.getByRole('alert').filter({ hasText: 'Your session has ended' }).waitFor({ timeout: 5000 });
    await sam.page.getByLabel('Username').waitFor();
    await sam.page.reload();
    await sam.page.getByLabel('Username').waitFor(); // a reload does not bring the session back
  });

  it('an expired token closes the socket with 4401 and the console signs out with a message', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(app.url);
    await page.getByText('Sign in with a token').click();
    await page.getByLabel('Agent token (JWT)').fill(signToken({ sub: 'brief', ttlSeconds: 2 }, TEST_JWT_SECRET));
    await page.getByRole('button', { name: 'Use token' }).click();
    await page.locator('.conn.open').waitFor({ timeout: 3000 });
    await sleep(1500);
    await page.getByRole('alert').filter({ hasText: 'Your session has ended' }).waitFor({ timeout: 4000 });
    await context.close();
  });
});
