/**
 * The console against two pods (processes sharing the test Redis and MongoDB
 * server): the browser on pod 1, webhooks to pod 2; then pod 1 restarts while
 * messages keep arriving through pod 2, and the console reconnects with no
 * message missed or shown twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { startPod, waitForShards, type Pod } from '../support/pods.ts';
import { freePort } from '../support/ports.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';
import { chatRow, launchBrowser, signInWithToken, type Agent } from './support/browser.ts';

const CHANNEL = '8000247247';

describe('agent console on two pods', () => {
  let pinbot: FakePinbot;
  let browser: Browser;
  let pod1: Pod;
  let pod2: Pod;
  let agent: Agent;
  const db = uniqueName('console_pods');
  let env: Record<string, string>;
  let port1: number;

  before(async () => {
    pinbot = await startFakePinbot();
    env = {
      MONGO_URL: testMongoUrl(), MONGO_DB: db, REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${db}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2', NODE_ENV: 'test',
    };
    port1 = await freePort();
    [pod1, pod2] = await Promise.all([startPod('console-pod-1', { ...env, PORT: String(port1) }), startPod('console-pod-2', env)]);
    await waitForShards([pod1, pod2]);
    browser = await launchBrowser();
  });
  after(async () => {
    assert.deepEqual(agent?.errors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED|Failed to load resource/.test(e)) ?? [], [], 'no script errors');
    await browser?.close();
    await Promise.allSettled([pod1?.stop(), pod2?.stop()]);
    await pinbot?.close();
  });

  it('shows a webhook sent to the other pod within 1 s, and the reply from this pod reaches Pinbot', async () => {
    agent = await signInWithToken(browser, pod1.url, 'asha');
    const { page } = agent;
    const t0 = Date.now();
    assert.equal((await postWebhook(pod2.url, CHANNEL, textWebhook('919820000001', 'Hello from pod 2', { name: 'Anil' }))).status, 200);
    await chatRow(page, '9820000001').locator('.badge', { hasText: '1' }).waitFor({ timeout: 1000 });
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
    await chatRow(page, '9820000001').click();
    await page.locator('.msg.in', { hasText: 'Hello from pod 2' }).waitFor({ timeout: 1000 });
    const t1 = Date.now();
    await postWebhook(pod2.url, CHANNEL, textWebhook('919820000001', 'Still there?'));
    await page.locator('.msg.in', { hasText: 'Still there?' }).waitFor({ timeout: 1000 });
    assert.ok(Date.now() - t1 < 1000);

    const n = pinbot.requests.length;
    await page.getByLabel('Reply', { exact: true }).fill('Yes, on it');
    await page.getByLabel('Reply', { exact: true }).press('Enter');
    // The reply, not the typing indicator the typing sent first (team inbox).
    const req = await eventually(async () => pinbot.requests.slice(n).find((r) => (r.json as { type?: string } | undefined)?.type === 'text'), 5000, 'the reply at Pinbot');
    assert.deepEqual(req.json, { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919820000001', type: 'text', text: { body: 'Yes, on it', preview_url: false } });
  });

  it('reconnects after its pod restarts and shows every message sent meanwhile exactly once', async () => {
    const { page } = agent;
    assert.equal(await pod1.stop(), 0);
    await page.locator('.conn.reconnecting').waitFor({ timeout: 5000 });
    const missed = ['while away 1', 'while away 2', 'while away 3'];
    for (const text of missed) assert.equal((await postWebhook(pod2.url, CHANNEL, textWebhook('919820000001', text))).status, 200);
    pod1 = await startPod('console-pod-1', { ...env, PORT: String(port1) });
    await page.locator('.conn.open').waitFor({ timeout: 20_000 });
    for (const text of missed) await page.locator('.msg.in', { hasText: text }).waitFor({ timeout: 5000 });
    // And one after the reconnect, live again.
    await postWebhook(pod2.url, CHANNEL, textWebhook('919820000001', 'back again'));
    await page.locator('.msg.in', { hasText: 'back again' }).waitFor({ timeout: 2000 });

    // Exactly once each: the page shows the chat's stored messages, no more, no fewer, in order.
    const stored = await eventually(async () => {
      const r = await fetch(`${pod2.url}/api/actors/chat/9820000001`, { headers: { authorization: `Bearer ${signToken({ sub: 'asha' }, TEST_JWT_SECRET)}` } });
      const body = (await r.json()) as { data: { context: { lastSeq: number } } };
      return body.data.context.lastSeq === 7 ? body.data.context.lastSeq : undefined;
    }, 5000, 'seven messages stored');
    const ids = await page.locator('.messages .msg').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    assert.equal(ids.length, stored);
    assert.equal(new Set(ids).size, ids.length, 'no message shown twice');
    assert.deepEqual(ids.map((id) => Number(id!.split(':')[1])), [1, 2, 3, 4, 5, 6, 7], 'in order, none missing');
  });
});
