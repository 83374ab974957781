/**
 * The outbox against a fake Pinbot, on the MongoDB-compatible server and real Redis:
 * every message type on every channel, retries, 400s, timeouts, the breaker, the
 * rate limit shared by pods, order per customer, dry-run, exactly once.
 */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Outbox, type OutboxOptions } from '../../src/actors/outbound/outbox.ts';
import type { RoomPublisher } from '../../src/actors/runtime/room-publisher.ts';
import {
  contactCardMessage,
  ctaUrlMessage,
  documentMessage,
  imageMessage,
  listMessage,
  replyButtonsMessage,
  templateMessage,
  textMessage,
  videoMessage,
  type CloudMessage,
} from '../../src/domain/messages.ts';
import { PINBOT_ENDPOINTS, PinbotEndpoints, type PinbotSettings } from '../../src/domain/pinbot-endpoints.ts';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { createLogger, type Logger } from '../../src/infra/logger.ts';
import { PinbotClient, type PinbotClientOptions } from '../../src/infra/pinbot/pinbot-client.ts';
import { RateLimiter } from '../../src/infra/pinbot/rate-limiter.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { startFakePinbot, type FakePinbot, type RecordedRequest } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually } from '../support/webhooks.ts';

/** Every push, as agents in the rooms would receive it. */
class Rooms implements RoomPublisher {
  readonly pushes: { room: string; event: string; data: any }[] = [];
  publish(room: string, event: string, data: unknown): void {
    this.pushes.push({ room, event, data });
  }
  statuses(key: string): string[] {
    return this.pushes.filter((p) => p.event === 'message_status' && p.data.outbox_key === key).map((p) => p.data.status);
  }
}

function logger(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, done) {
      for (const l of c.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, any>);
      done();
    },
  });
  return { log: createLogger({ level: 'debug', pod: 'test' }, sink), lines };
}

/** One message of every FR-7 type, Hindi, emoji and ₹ included. */
const EVERY_TYPE: Record<string, CloudMessage> = {
  text: textMessage('आपकी कैब 10 मिनट में पहुँचेगी 🚕 किराया ₹2199', { replyTo: 'wamid.IN1' }),
  template: templateMessage('ask_issue_resolved'),
  dynamicTemplate: templateMessage('trip_update', { language: 'en', bodyParams: ['Pune', '₹2,199'], buttonParams: [{ index: 0, subType: 'url', param: 'TRUST4111' }] }),
  buttons: replyButtonsMessage('क्या आपकी समस्या हल हो गई?', [{ id: 'yes', title: 'हाँ 👍' }, { id: 'no', title: 'नहीं' }], { footer: 'Inter-City Experts' }),
  list: listMessage('Choose a route', 'Routes', [{ title: 'Mumbai', rows: [{ id: 'pm', title: 'Pune → Mumbai', description: '₹2199' }] }]),
  ctaUrl: ctaUrlMessage('Your code: TRUST4111 🎟️', 'Open the app', 'https://oneway.cab/app', { header: 'Pune ➜ Mumbai @ ₹2199' }),
  contact: contactCardMessage(),
  video: videoMessage({ link: 'https://oneway.cab/how-to-book.mp4' }, 'कैसे बुक करें'),
  image: imageMessage({ id: '1003383421387256' }, 'Offer'),
  document: documentMessage({ link: 'https://oneway.cab/fare-chart.pdf' }, { filename: 'fare-chart.pdf' }),
};

describe('outbox and Pinbot client', () => {
  let fake: FakePinbot;
  let store: MongoStore;
  let kv: RedisKv;
  let rooms: Rooms;
  let settings: PinbotSettings;
  const outboxes: { outbox: Outbox; client: PinbotClient; limiter?: RateLimiter }[] = [];
  let n = 0;
  const key = (label: string) => `test:${label}:${++n}`;

  /** An outbox (one "pod") with fast retries and short timeouts. */
  function make(opts: { client?: Partial<PinbotClientOptions>; outbox?: Partial<OutboxOptions>; limiter?: RateLimiter; settings?: PinbotSettings; log?: Logger } = {}) {
    const log = opts.log ?? logger().log;
    const client = new PinbotClient({ log, timeoutMs: 500, backoff: { baseMs: 5, maxMs: 50 }, ...(opts.limiter ? { limiter: opts.limiter } : {}), ...opts.client });
    const outbox = new Outbox({ store, client, endpoints: new PinbotEndpoints(opts.settings ?? settings), rooms, log, pod: 'pod-test', ...opts.outbox });
    outboxes.push({ outbox, client, ...(opts.limiter ? { limiter: opts.limiter } : {}) });
    return outbox;
  }
  const record = (k: string) => store.collection('outbox').findOne({ _id: k });
  const requestsTo = (to: string) => fake.requests.filter((r) => (r.json as { to?: string } | undefined)?.to === to);

  before(async () => {
    fake = await startFakePinbot();
    store = await MongoStore.connect({ url: testMongoUrl(), dbName: uniqueName('outbox') });
    kv = await RedisKv.connect({ url: testRedisUrl(), prefix: `${uniqueName('outbox')}:` });
    settings = { origins: { v1v2: fake.origin, v3: fake.origin }, keys: { WA_API_KEY_1: 'key-one', WA_API_KEY_2: 'key-two' }, overrides: { srdp_alt: 'key-srdp-alt' } };
  });
  beforeEach(() => {
    rooms = new Rooms();
    fake.fallback = { status: 200 };
  });
  after(async () => {
    for (const o of outboxes) {
      await o.outbox.close(1000);
      await o.client.close();
      await o.limiter?.close();
    }
    await Promise.all([store.close(), kv.close(), fake.close()]);
  });

  it('sends every message type on every channel to the exact URL, with its headers and the body unchanged', async () => {
    const outbox = make();
    const expected: { to: string; path: string; apikey: string; wanumber: string | undefined; body: unknown }[] = [];
    for (const [i, route] of PINBOT_ENDPOINTS.entries()) {
      const to = `9198000${String(10_000 + i).slice(-5)}`;
      for (const [name, message] of Object.entries(EVERY_TYPE)) {
        await outbox.send({ key: key(`${route.sendType}:${name}`), chatId: `chat-${route.sendType}`, to, sendType: route.sendType, message });
        expected.push({
          to,
          path: route.origin === 'v3' ? route.path : '/v2/messages',
          apikey: route.sendType === 'srdp_alt' ? 'key-srdp-alt' : route.origin === 'v3' ? 'key-two' : 'key-one',
          wanumber: route.origin === 'v1v2' ? route.businessNumber : undefined,
          body: { messaging_product: 'whatsapp', recipient_type: 'individual', to, ...message },
        });
      }
    }
    await outbox.idle();
    assert.equal(fake.requests.length, PINBOT_ENDPOINTS.length * Object.keys(EVERY_TYPE).length);
    // Each customer's messages leave in the order they were sent.
    for (const to of new Set(expected.map((e) => e.to))) {
      const got = requestsTo(to).map((r: RecordedRequest) => ({ to, path: r.path, apikey: r.headers.apikey, wanumber: r.headers.wanumber, body: r.json }));
      assert.deepEqual(got, expected.filter((e) => e.to === to));
      for (const r of requestsTo(to)) assert.match(String(r.headers['content-type']), /^application\/json/);
    }
    const states = await store.collection('outbox').find({ chat_id: { $regex: '^chat-' } }, { projection: { state: 1 } });
    assert.ok(states.length === expected.length && states.every((s) => s.state === 'sent'));
  });

  it('500, 500, 200: one logical send, one outbox record, the message id on the chat message', async () => {
    const outbox = make();
    await store.collection('messages').insertOne({ _id: 'chat-r:1', chat_id: 'chat-r', seq: 1, message: 'hi' });
    fake.script({ status: 500 }, { status: 502, body: 'Bad Gateway' }, { status: 200, body: { messaging_product: 'whatsapp', messages: [{ id: 'wamid.RETRY' }] } });
    const k = key('retry');
    const before = fake.requests.length;
    await outbox.send({ key: k, chatId: 'chat-r', to: '919811100001', sendType: 'chat', message: textMessage('retry me'), messageId: 'chat-r:1' });
    await outbox.send({ key: k, chatId: 'chat-r', to: '919811100001', sendType: 'chat', message: textMessage('retry me'), messageId: 'chat-r:1' });
    await outbox.idle();
    assert.equal(fake.requests.length - before, 3, 'three attempts');
    assert.equal(await store.collection('outbox').countDocuments({ _id: k }), 1);
    const rec = await record(k);
    assert.deepEqual([rec?.state, rec?.wa_message_id, rec?.attempts], ['sent', 'wamid.RETRY', 3]);
    const msg = await store.collection('messages').findOne({ _id: 'chat-r:1' });
    assert.deepEqual([msg?.wa_message_id, msg?.outbound_status], ['wamid.RETRY', 'sent']);
    assert.deepEqual(rooms.statuses(k), ['sent']);
    assert.deepEqual(rooms.pushes.find((p) => p.data.outbox_key === k)?.data, { chat_id: 'chat-r', message_id: 'chat-r:1', outbox_key: k, status: 'sent', wa_message_id: 'wamid.RETRY' });
  });

  it('a 400 is not retried: failed, with Pinbot’s error surfaced to the chat room and the message', async () => {
    const outbox = make();
    await store.collection('messages').insertOne({ _id: 'chat-f:1', chat_id: 'chat-f', seq: 1, message: 'x' });
    fake.script({ status: 400, body: { error: { message: '(#100) Invalid parameter', error_data: { details: 'to is not a WhatsApp user' } } } });
    const k = key('reject');
    const before = fake.requests.length;
    await outbox.send({ key: k, chatId: 'chat-f', to: '919811100002', sendType: 'customer_chat_new', message: textMessage('x'), messageId: 'chat-f:1' });
    await outbox.idle();
    assert.equal(fake.requests.length - before, 1);
    const rec = await record(k);
    assert.equal(rec?.state, 'failed');
    const error = { code: 'UPSTREAM_REJECTED', status: 400, message: '(#100) Invalid parameter: to is not a WhatsApp user' };
    assert.deepEqual(rec?.error, error);
    const push = rooms.pushes.find((p) => p.room === 'chat-f' && p.event === 'message_status');
    assert.deepEqual(push?.data, { chat_id: 'chat-f', message_id: 'chat-f:1', outbox_key: k, status: 'failed', error });
    assert.equal((await store.collection('messages').findOne({ _id: 'chat-f:1' }))?.outbound_status, 'failed');
  });

  it('a timeout leaves the send uncertain and never repeats it', async () => {
    const outbox = make({ client: { timeoutMs: 150 } });
    fake.script({ status: 200, delayMs: 500 });
    const k = key('timeout');
    const before = fake.requests.length;
    await outbox.send({ key: k, chatId: 'chat-t', to: '919811100003', sendType: 'discount', message: textMessage('slow') });
    await outbox.idle();
    await new Promise((r) => setTimeout(r, 400)); // the fake answers late; nothing else happens
    assert.equal(fake.requests.length - before, 1);
    const rec = await record(k);
    assert.equal(rec?.state, 'uncertain');
    assert.match((rec?.error as { message: string }).message, /no answer within 150 ms/);
    assert.deepEqual(rooms.statuses(k), ['uncertain']);
    await outbox.sweep();
    assert.equal((await record(k))?.state, 'uncertain', 'the sweep never picks it up again');
  });

  it('a channel without a key is dry-run: built, validated, recorded and logged, nothing sent', async () => {
    const { log, lines } = logger();
    const outbox = make({ log, settings: { ...settings, keys: { WA_API_KEY_1: 'key-one' }, overrides: {} } });
    const k = key('dry');
    const before = fake.requests.length;
    await outbox.send({ key: k, chatId: 'chat-d', to: '919811100004', sendType: 'vendor_chat', message: EVERY_TYPE.buttons! });
    await outbox.idle();
    assert.equal(fake.requests.length, before);
    const rec = await record(k);
    assert.equal(rec?.state, 'dry_run');
    assert.deepEqual(rec?.body, { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919811100004', ...EVERY_TYPE.buttons });
    assert.ok(lines.some((l) => l.outboxKey === k && /dry-run/.test(l.msg)));
    assert.deepEqual(rooms.statuses(k), ['dry_run']);
    await assert.rejects(outbox.send({ key: key('bad'), chatId: 'c', to: '919811100004', sendType: 'chat', message: { type: 'fax', fax: {} } }), /unknown type/);
    await assert.rejects(outbox.send({ key: key('bad'), chatId: 'c', to: '+91 98111', sendType: 'chat', message: textMessage('x') }), /to: expected the number/);
  });

  it('keeps one customer’s messages in order even when the first needs retries', async () => {
    const outbox = make();
    fake.script({ status: 503 }, { status: 503 });
    const to = '919811100005';
    for (let i = 0; i < 5; i++) await outbox.send({ key: key(`order${i}`), chatId: 'chat-o', to, sendType: 'chat', message: textMessage(`message ${i}`) });
    await outbox.idle();
    const bodies = requestsTo(to).map((r) => (r.json as { text: { body: string } }).text.body);
    assert.deepEqual(bodies, ['message 0', 'message 0', 'message 0', 'message 1', 'message 2', 'message 3', 'message 4']);
  });

  it('opens the breaker when Pinbot keeps failing (sends fail fast, nothing piles up), and closes it after a good probe', async () => {
    let now = 0;
    // One at a time, so the count is exact (concurrent sends already in flight when it opens still finish).
    const outbox = make({ client: { maxAttempts: 1, breaker: { failureThreshold: 3, coolDownMs: 10_000, now: () => now } }, outbox: { concurrency: 1 } });
    fake.fallback = { status: 500 };
    const before = fake.requests.length;
    const keys = Array.from({ length: 5 }, (_, i) => key(`breaker${i}`));
    for (const [i, k] of keys.entries()) await outbox.send({ key: k, chatId: 'chat-b', to: `91981110010${i}`, sendType: 'chat', message: textMessage('down') });
    await outbox.idle();
    assert.equal(fake.requests.length - before, 3, 'after 3 failures the breaker stops the rest');
    const states = await Promise.all(keys.map(async (k) => ((await record(k))?.error as { message: string }).message));
    assert.equal(states.filter((m) => /circuit open/.test(m)).length, 2);
    now = 10_000;
    fake.fallback = { status: 200 };
    const k = key('probe');
    await outbox.send({ key: k, chatId: 'chat-b', to: '919811100199', sendType: 'chat', message: textMessage('up again') });
    await outbox.idle();
    assert.equal((await record(k))?.state, 'sent');
    assert.equal(fake.requests.length - before, 4);
  });

  it('limits each business number to its rate across pods sharing Redis, by waiting rather than failing', async () => {
    // Two "pods", one bucket: 2 at once, then 20 a second.
    const limiterA = new RateLimiter({ kv, log: logger().log, perSecond: 20, capacity: 2 });
    const limiterB = new RateLimiter({ kv, log: logger().log, perSecond: 20, capacity: 2 });
    const a = make({ limiter: limiterA });
    const b = make({ limiter: limiterB });
    const before = fake.requests.length;
    const started = Date.now();
    for (let i = 0; i < 12; i++) {
      await (i % 2 ? a : b).send({ key: key(`rate${i}`), chatId: 'chat-rl', to: `9198111002${String(i).padStart(2, '0')}`, sendType: 'srdp_chat', message: textMessage(`r${i}`) });
    }
    await Promise.all([a.idle(), b.idle()]);
    const elapsed = Date.now() - started;
    const times = fake.requests.slice(before).map((r) => r.at);
    assert.equal(times.length, 12, 'all sent: limited, not failed');
    assert.ok(elapsed >= 450, `12 messages at 20/s after a burst of 2 take ≥ 500 ms, took ${elapsed} ms`);
    // No 250 ms window holds more than the burst plus what refills in it.
    for (const t of times) assert.ok(times.filter((x) => x >= t && x < t + 250).length <= 2 + 5 + 1, 'bounded rate');
    const other = key('other-number');
    await a.send({ key: other, chatId: 'chat-rl', to: '919811100299', sendType: 'chat', message: textMessage('another number') });
    await a.idle();
    assert.equal((await record(other))?.state, 'sent');
  });

  it('records delivery statuses on the outbox record, only ever moving forward', async () => {
    const outbox = make();
    fake.script({ status: 200, body: { messages: [{ id: 'wamid.DELIV' }] } });
    const k = key('delivery');
    await outbox.send({ key: k, chatId: 'chat-s', to: '919811100301', sendType: 'chat', message: textMessage('track me') });
    await outbox.idle();
    await outbox.recordDelivery({ waMessageId: 'wamid.DELIV', status: 'read', at: Date.now() });
    await outbox.recordDelivery({ waMessageId: 'wamid.DELIV', status: 'delivered', at: Date.now() });
    assert.equal((await record(k))?.delivery_status, 'read');
  });

  it('applies a delivery status that overtook Pinbot’s answer once the message id is known', async () => {
    const outbox = make();
    await store.collection('messages').insertOne({ _id: 'chat-e:1', chat_id: 'chat-e', seq: 1, message: 'fast' });
    fake.script({ status: 200, delayMs: 150, body: { messages: [{ id: 'wamid.EARLY' }] } });
    const k = key('early');
    const before = fake.requests.length;
    await outbox.send({ key: k, chatId: 'chat-e', to: '919811100302', sendType: 'chat', message: textMessage('fast'), messageId: 'chat-e:1' });
    await fake.waitForRequests(before + 1); // Pinbot has it and has not answered yet
    await outbox.recordDelivery({ waMessageId: 'wamid.EARLY', status: 'delivered', at: Date.now() });
    await outbox.idle();
    assert.equal((await record(k))?.delivery_status, 'delivered');
    assert.equal((await store.collection('messages').findOne({ _id: 'chat-e:1' }))?.delivery_status, 'delivered');
    assert.deepEqual(rooms.pushes.filter((p) => p.room === 'chat-e').map((p) => p.data.status), ['sent', 'delivered']);
    assert.equal(await store.collection('outbox_early_status').countDocuments({ _id: 'wamid.EARLY' }), 0);
  });

  it('queues again, on the next sweep, sends the full queue could not take', async () => {
    const outbox = make({ outbox: { maxQueue: 1, resumeAfterMs: 0, concurrency: 1 } });
    fake.script({ status: 200, delayMs: 100 });
    const keys = Array.from({ length: 3 }, (_, i) => key(`overflow${i}`));
    for (const [i, k] of keys.entries()) await outbox.send({ key: k, chatId: 'chat-q', to: `91981110040${i}`, sendType: 'chat', message: textMessage(`q${i}`) });
    await eventually(async () => {
      await outbox.sweep();
      await outbox.idle();
      const states = await Promise.all(keys.map(async (k) => (await record(k))?.state));
      return states.every((s) => s === 'sent');
    }, 5000, 'every overflowed send sent by the sweep');
  });
});
