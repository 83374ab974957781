/**
 * The discount route catalogue's admin API: listing it, and setting a route's code, texts and enabled flag,
 * which the next offer uses without a restart — on this pod, and on every other one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { startPod, waitForShards, type Pod } from '../support/pods.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const DISCOUNT = '9638120888';
const ADMIN = `Bearer ${signToken({ sub: 'boss', role: 'admin' }, TEST_JWT_SECRET)}`;
const AGENT = `Bearer ${signToken({ sub: 'agent-1' }, TEST_JWT_SECRET)}`;

interface RouteView { route: string; code: string; enabled: boolean; placeholder: boolean; available: boolean; body: string; header: string }

const put = (url: string, route: string, body: unknown, authorization = ADMIN) =>
  fetch(`${url}/api/discount/routes/${route}`, { method: 'PUT', headers: { authorization, 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
const list = async (url: string, authorization = ADMIN) => fetch(`${url}/api/discount/routes`, { headers: { authorization } });

/** The text of the first message Pinbot received for `to` after `since` requests. */
async function firstTextTo(pinbot: FakePinbot, to: string, since: number): Promise<string> {
  const found = await eventually(async () => pinbot.requests.slice(since).find((r) => (r.json as { to?: string } | undefined)?.to === to), 10_000, `a message to ${to}`);
  return (found.json as { text?: { body: string } }).text?.body ?? '';
}

describe('discount route catalogue, admin API', () => {
  let app: TestApp;
  let pinbot: FakePinbot;

  before(async () => {
    pinbot = await startFakePinbot();
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('routes'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('routes')}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'key-one', WA_API_KEY_2: 'key-two',
    });
  });
  after(async () => {
    await app.stop();
    await pinbot.close();
  });

  it('lists the catalogue to admins only: the spec\'s codes enabled, placeholders disabled', async () => {
    const res = await list(app.url);
    assert.equal(res.status, 200);
    const routes = ((await res.json()) as { data: RouteView[] }).data;
    assert.equal(routes.length, 14);
    for (const r of routes) assert.equal(r.available, r.code === 'TRUST4111', r.route);
    assert.ok(routes.filter((r) => r.placeholder).every((r) => !r.enabled));
    assert.equal((await list(app.url, AGENT)).status, 403);
    assert.equal((await fetch(`${app.url}/api/discount/routes`)).status, 401);
  });

  it('refuses bad edits with a coded error, changing nothing', async () => {
    const refused: [string, unknown, number, string][] = [
      ['nashik-mumbai-airport', { code: 'nash 1999' }, 400, 'VALIDATION_FAILED'],
      ['nashik-mumbai-airport', { code: 'SAMPLEX1999' }, 400, 'VALIDATION_FAILED'],
      ['nashik-mumbai-airport', { code: 'A'.repeat(21) }, 400, 'VALIDATION_FAILED'],
      ['nashik-mumbai-airport', { enabled: true }, 400, 'VALIDATION_FAILED'], // still a placeholder code
      ['nashik-mumbai-airport', {}, 400, 'VALIDATION_FAILED'],
      ['nashik-mumbai-airport', { enabled: 'yes' }, 400, 'VALIDATION_FAILED'],
      ['nashik-mumbai-airport', { header: 'x'.repeat(61) }, 400, 'VALIDATION_FAILED'],
      ['nashik-mumbai-airport', { sample_code: false }, 400, 'VALIDATION_FAILED'],
      ['pune-mumbai', { body: 'No code shown here' }, 400, 'VALIDATION_FAILED'],
      ['nashik-mumbai-airport', '{"code":', 400, 'BAD_JSON'],
      ['no-such-route', { enabled: false }, 404, 'NOT_FOUND'],
      ['Pune%20Mumbai', { enabled: false }, 400, 'VALIDATION_FAILED'],
      ['%E0%A4%A', { enabled: false }, 400, 'BAD_ENCODING'],
      ['__proto__', { enabled: false }, 400, 'VALIDATION_FAILED'],
    ];
    for (const [route, body, status, errorCode] of refused) {
      const res = await put(app.url, route, body);
      assert.equal(res.status, status, `${route} ${JSON.stringify(body)}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, errorCode, `${route} ${JSON.stringify(body)}`);
    }
    assert.equal((await put(app.url, 'pune-mumbai', { enabled: false }, AGENT)).status, 403);
    const nashik = ((await (await list(app.url)).json()) as { data: RouteView[] }).data.find((r) => r.route === 'nashik-mumbai-airport');
    assert.equal(nashik?.code, 'SAMPLENMA1999');
    assert.equal(nashik?.enabled, false);
  });

  it('sets a real code and enables the route: the very next offer carries it, no restart', async () => {
    const before = pinbot.requests.length;
    assert.equal((await postWebhook(app.url, DISCOUNT, textWebhook('919833000001', 'Need Discount Code - Nashik to Mumbai Airport @ 1999'))).status, 200);
    assert.match(await firstTextTo(pinbot, '919833000001', before), /automated number/, 'a placeholder route takes the care path');

    const res = await put(app.url, 'nashik-mumbai-airport', { code: 'NASHIK1999', enabled: true });
    assert.equal(res.status, 200);
    const updated = ((await res.json()) as { data: RouteView }).data;
    assert.deepEqual([updated.code, updated.enabled, updated.placeholder, updated.available], ['NASHIK1999', true, false, true]);
    assert.match(updated.body, /NASHIK1999/);
    assert.doesNotMatch(updated.body, /SAMPLE/);

    const next = pinbot.requests.length;
    assert.equal((await postWebhook(app.url, DISCOUNT, textWebhook('919833000002', 'Need Discount Code - Nashik to Mumbai Airport @ 1999'))).status, 200);
    assert.match(await firstTextTo(pinbot, '919833000002', next), /NASHIK1999/);
  });

  it('disables a route: the next request for it takes the care path', async () => {
    assert.equal((await put(app.url, 'pune-mumbai', { enabled: false })).status, 200);
    const before = pinbot.requests.length;
    await postWebhook(app.url, DISCOUNT, textWebhook('919833000003', 'Need Discount Code - Pune to Mumbai @ 2199'));
    assert.match(await firstTextTo(pinbot, '919833000003', before), /automated number/);
    assert.equal((await put(app.url, 'pune-mumbai', { enabled: true })).status, 200);
  });
});

describe('discount route catalogue, edited on one pod, used by the next offer on another', () => {
  let pods: Pod[] = [];
  let pinbot: FakePinbot;

  before(async () => {
    pinbot = await startFakePinbot();
    const env = {
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('routes2'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('routes2')}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'key-one', WA_API_KEY_2: 'key-two',
    };
    pods = [await startPod('routes-a', env), await startPod('routes-b', env)];
    await waitForShards(pods);
  });
  after(async () => {
    await Promise.all(pods.map((p) => p.stop()));
    await pinbot.close();
  });

  it('pod B offers the code pod A set, on its very next message, with its catalogue cached before the edit', async () => {
    const [a, b] = pods as [Pod, Pod];
    // Pod B classifies this (it received the webhook) and caches the catalogue: a placeholder, the care path.
    let before = pinbot.requests.length;
    assert.equal((await postWebhook(b.url, DISCOUNT, textWebhook('919833100001', 'Need Discount Code - Pune to Shirdi @ 2499'))).status, 200);
    assert.match(await firstTextTo(pinbot, '919833100001', before), /automated number/);

    assert.equal((await put(a.url, 'pune-shirdi', { code: 'SHIRDI2499', enabled: true })).status, 200);

    before = pinbot.requests.length;
    assert.equal((await postWebhook(b.url, DISCOUNT, textWebhook('919833100002', 'Need Discount Code - Pune to Shirdi @ 2499'))).status, 200);
    assert.match(await firstTextTo(pinbot, '919833100002', before), /SHIRDI2499/);
    const listed = ((await (await list(b.url)).json()) as { data: RouteView[] }).data.find((r) => r.route === 'pune-shirdi');
    assert.equal(listed?.code, 'SHIRDI2499');
  });
});

describe('discount route catalogue, behind the admin request budget', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ ADMIN_RATE_LIMIT: '2' });
  });
  after(() => app.stop());

  it('answers 429 RATE_LIMITED with Retry-After past the budget, before the edit is applied', async () => {
    assert.equal((await list(app.url)).status, 200);
    assert.equal((await put(app.url, 'pune-mumbai', { enabled: true })).status, 200);
    const refused = await put(app.url, 'pune-mumbai', { enabled: false });
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    assert.equal((await app.store.collection('discount_code_template').findOne({ _id: 'pune-mumbai' }))?.enabled, true, 'nothing changed');
  });
});
