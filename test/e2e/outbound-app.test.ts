/**
 * Outbound WhatsApp through the running app and a fake Pinbot: agent replies,
 * statuses back to agents, the 24-hour rule, templates, cache endpoints (media: media.test.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { signToken } from '../../src/infra/jwt.ts';
import { ChatResponseCache } from '../../src/infra/pinbot/response-cache.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, statusWebhook, textWebhook } from '../support/webhooks.ts';

const CUSTOMER = '8000247247';
const PARTNER = '9099039188';
const agentToken = signToken({ sub: '9099039188' }, TEST_JWT_SECRET);
const adminToken = signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET);
const fixtures = join(import.meta.dirname, '../../../shared/fixtures/whatsapp');

describe('outbound WhatsApp through the app', () => {
  let app: TestApp;
  let fake: FakePinbot;
  const agents: AgentClient[] = [];
  const connect = async (chatId?: string) => {
    const c = await AgentClient.connect(app.url, '9099039188', chatId ? { chatId } : {});
    agents.push(c);
    return c;
  };
  /** A chat with one customer message (sent `agoMs` ago) on `channel`. */
  const chatWith = async (waNumber: string, channel = CUSTOMER, agoMs = 0): Promise<string> => {
    await postWebhook(app.url, channel, textWebhook(waNumber, 'hello', { at: Date.now() - agoMs }));
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: waNumber.slice(2) }), 5000, 'chat stored');
    return String(chat._id);
  };
  const get = (path: string, token?: string, headers: Record<string, string> = {}) =>
    fetch(`${app.url}${path}`, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } });
  const post = (path: string, token: string, body?: unknown) =>
    fetch(`${app.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  before(async () => {
    fake = await startFakePinbot();
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('outapp'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('outapp')}:`,
      PINBOT_ORIGIN: fake.origin, PINBOT_V3_ORIGIN: fake.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2',
    });
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await app.stop();
    await fake.close();
  });

  it('sends an agent reply from the number the customer wrote to, and brings Pinbot’s id and delivery statuses back to the room', async () => {
    const chatId = await chatWith('919822200001');
    const room = await connect(chatId);
    const before = fake.requests.length;
    const r = await room.request('send_message', { chat_id: chatId, message: 'नमस्ते 🙏 आपकी कैब ₹2199 में' });
    assert.equal(r.data.message.type, 'Agent');
    const [req] = (await fake.waitForRequests(before + 1)).slice(before);
    assert.equal(req!.path, '/v3/687960561072454/messages');
    assert.equal(req!.headers.apikey, 'k2');
    assert.equal(req!.headers.wanumber, undefined);
    assert.deepEqual(req!.json, { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919822200001', type: 'text', text: { preview_url: false, body: 'नमस्ते 🙏 आपकी कैब ₹2199 में' } });
    const sent = await room.waitForPush((f) => f.event === 'message_status' && f.data.status === 'sent');
    assert.equal(sent.data.message_id, r.data.message._id);
    const waId = sent.data.wa_message_id as string;
    assert.match(waId, /^wamid\./);
    assert.equal((await app.store.collection('messages').findOne({ _id: r.data.message._id }))?.wa_message_id, waId);

    await postWebhook(app.url, CUSTOMER, statusWebhook('919822200001', waId, 'delivered'));
    const delivered = await room.waitForPush((f) => f.event === 'message_status' && f.data.status === 'delivered');
    assert.deepEqual([delivered.data.message_id, delivered.data.wa_message_id], [r.data.message._id, waId]);
    await eventually(async () => (await app.store.collection('outbox').findOne({ wa_message_id: waId }))?.delivery_status === 'delivered', 3000, 'outbox delivery status');
    assert.equal((await app.store.collection('messages').findOne({ _id: r.data.message._id }))?.delivery_status, 'delivered');
  });

  it('replies to a partner over the shared v2 URL with key 1 and the wanumber header', async () => {
    const chatId = await chatWith('919822200002', PARTNER);
    const agent = await connect();
    const before = fake.requests.length;
    await agent.request('send_message', { chat_id: chatId, message: 'Partner reply' });
    const [req] = (await fake.waitForRequests(before + 1)).slice(before);
    assert.deepEqual([req!.path, req!.headers.apikey, req!.headers.wanumber], ['/v2/messages', 'k1', '919099039188']);
  });

  it('surfaces a 400 from Pinbot to the agents in the chat (no retry) and on the message', async () => {
    const chatId = await chatWith('919822200003');
    const room = await connect(chatId);
    fake.script({ status: 400, body: { error: { message: '(#131047) Re-engagement message', error_data: { details: 'More than 24 hours have passed' } } } });
    const before = fake.requests.length;
    const r = await room.request('send_message', { chat_id: chatId, message: 'will be refused' });
    const failed = await room.waitForPush((f) => f.event === 'message_status' && f.data.status === 'failed');
    assert.deepEqual(failed.data.error, { code: 'UPSTREAM_REJECTED', status: 400, message: '(#131047) Re-engagement message: More than 24 hours have passed' });
    await new Promise((res) => setTimeout(res, 100));
    assert.equal(fake.requests.length - before, 1, 'not retried');
    const history = await room.request('fetch_chats_by_user', { chat_id: chatId });
    const shown = history.data.messages.find((m: { _id: string }) => m._id === r.data.message._id);
    assert.equal(shown.outbound_status, 'failed');
    assert.equal(shown.outbound_error.code, 'UPSTREAM_REJECTED');
  });

  it('refuses free-form agent messages outside the 24-hour window with OUTSIDE_SERVICE_WINDOW, stores nothing, and allows a template', async () => {
    const chatId = await chatWith('919822200004', CUSTOMER, 25 * 3_600_000);
    const agent = await connect(chatId);
    const before = fake.requests.length;
    const refused = await agent.request('send_message', { chat_id: chatId, message: 'too late' });
    assert.equal(refused.error?.code, 'OUTSIDE_SERVICE_WINDOW');
    assert.match(refused.error?.message ?? '', /24-hour window.*template.*send_whatsapp_template/);
    assert.equal(await app.store.collection('messages').countDocuments({ chat_id: chatId }), 1, 'nothing stored');
    assert.equal(await app.store.collection('outbox').countDocuments({ chat_id: chatId }), 0, 'nothing sent');

    const res = await get('/api/chats/send_whatsapp_template?to=9822200004', agentToken, { 'idempotency-key': 'tpl-4' });
    assert.equal(res.status, 200);
    const body = (await res.json()) as { status: number; data: { message: { _id: string; message_type: string } } };
    assert.equal(body.status, 1);
    assert.equal(body.data.message.message_type, 'template');
    const [req] = (await fake.waitForRequests(before + 1)).slice(before);
    assert.equal(req!.path, '/v3/687960561072454/messages');
    assert.deepEqual(req!.json, { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919822200004', type: 'template', template: { name: 'ask_issue_resolved', language: { code: 'hi' } } });
    await agent.waitForPush((f) => f.event === 'message_status' && f.data.status === 'sent' && f.data.message_id === body.data.message._id);
    // The same request again (a retry) sends nothing more.
    const again = await get('/api/chats/send_whatsapp_template?to=919822200004', agentToken, { 'idempotency-key': 'tpl-4' });
    assert.equal(((await again.json()) as typeof body).data.message._id, body.data.message._id);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(fake.requests.length - before, 1);
  });

  it('refuses free-form messages in a chat an agent opened before the customer ever wrote', async () => {
    const agent = await connect();
    const opened = await agent.request('new_chat', { customer: '9822200005', customer_type: 'Customer' });
    const refused = await agent.request('send_message', { chat_id: opened.data.chat.chat_id, message: 'hello?' });
    assert.equal(refused.error?.code, 'OUTSIDE_SERVICE_WINDOW');
  });

  it('send_whatsapp_template: agent token, validated number, other templates and languages, a new chat for a new customer', async () => {
    assert.equal((await get('/api/chats/send_whatsapp_template?to=9822200006')).status, 401);
    const bad = await get('/api/chats/send_whatsapp_template?to=abc', agentToken);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
    assert.equal((await get('/api/chats/send_whatsapp_template?to=9822200006&name=Bad%20Name', agentToken)).status, 400);
    const before = fake.requests.length;
    const ok = await get('/api/chats/send_whatsapp_template?to=919822200006&name=trip_feedback&language=en_US&channel=9726724247', agentToken);
    assert.equal(ok.status, 200);
    const [req] = (await fake.waitForRequests(before + 1)).slice(before);
    assert.equal(req!.path, '/v3/723917954136046/messages', 'a new vendor chat sends on the vendor channel');
    assert.deepEqual((req!.json as { template: unknown }).template, { name: 'trip_feedback', language: { code: 'en_US' } });
    const chat = await app.store.collection('chats').findOne({ customer: '9822200006' });
    assert.equal(chat?.customer_type, 'Vendor');
  });

  it("keeps Pinbot's answer to each send under chat_response::{message id} for 30 minutes; delete_cache and clear_cache remove it", async () => {
    const chatId = await chatWith('919822200031');
    const room = await connect(chatId);
    const r = await room.request('send_message', { chat_id: chatId, message: 'cached answer' });
    const messageId = r.data.message._id as string;
    const sent = await room.waitForPush((f) => f.event === 'message_status' && f.data.message_id === messageId && f.data.status === 'sent');
    const cache = new ChatResponseCache(app.kv);
    const entry = await eventually(() => cache.get<Record<string, unknown>>(messageId), 3000, 'the answer cached');
    assert.deepEqual([entry.status, entry.http_status, entry.wa_message_id, entry.send_type], ['sent', 200, sent.data.wa_message_id, 'customer_chat_new']);
    const ttl = await app.kv.ttlMs(`chat_response::${messageId}`);
    assert.ok(ttl !== null && ttl > 29 * 60_000, `ttl ${ttl}`);
    const del = await post('/api/chats/delete_cache', adminToken, { message: messageId });
    assert.deepEqual(await del.json(), { status: 1, data: { deleted: 1 } });
    assert.equal(await cache.get(messageId), null);

    // Another send, cleared with everything else in the cache — and nothing but the cache.
    const r2 = await room.request('send_message', { chat_id: chatId, message: 'cached again' });
    await eventually(() => cache.get(r2.data.message._id as string), 3000, 'the second answer cached');
    const redis = new Redis(testRedisUrl());
    try {
      const others = async () => (await redis.keys(`${app.config.REDIS_PREFIX}*`)).filter((k) => !k.startsWith(`${app.config.REDIS_PREFIX}chat_response::`)).sort();
      const before = await others();
      assert.ok(before.some((k) => k.includes('shard')), `ownership and stream keys exist: ${before.slice(0, 8).join(', ')}`);
      const clear = await post('/api/chats/clear_cache', adminToken);
      assert.ok(((await clear.json()) as { data: { deleted: number } }).data.deleted >= 1);
      assert.equal(await cache.get(r2.data.message._id as string), null);
      assert.deepEqual((await others()).filter((k) => before.includes(k)), before, 'ownership, streams, locks and counters untouched');
    } finally {
      redis.disconnect();
    }
  });

  it('clear_cache and delete_cache: admin only; chat_response:: keys with a 30-minute TTL; nothing else is touched', async () => {
    const cache = new ChatResponseCache(app.kv);
    await cache.set('hello', { reply: 'Hi! 🙏' });
    await cache.set('bye', { reply: 'Bye ₹' });
    await app.kv.set('not_a_cache_key', 'keep me');
    const ttl = await app.kv.ttlMs('chat_response::hello');
    assert.ok(ttl !== null && ttl > 29 * 60_000 && ttl <= 30 * 60_000, `ttl ${ttl}`);
    assert.deepEqual(await cache.get('hello'), { reply: 'Hi! 🙏' });

    assert.equal((await post('/api/chats/delete_cache', agentToken, { message: 'hello' })).status, 403);
    const bad = await post('/api/chats/delete_cache', adminToken, {});
    assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'VALIDATION_FAILED');
    const del = await post('/api/chats/delete_cache', adminToken, { message: 'hello' });
    assert.deepEqual(await del.json(), { status: 1, data: { deleted: 1 } });
    assert.equal(await cache.get('hello'), null);
    assert.equal(await cache.get('bye') !== null, true);

    assert.equal((await post('/api/chats/clear_cache', agentToken)).status, 403);
    const clear = await post('/api/chats/clear_cache', adminToken);
    assert.deepEqual(await clear.json(), { status: 1, data: { deleted: 1 } });
    assert.equal(await cache.get('bye'), null);
    assert.equal(await app.kv.get('not_a_cache_key'), 'keep me', 'not a FLUSHDB');
  });

  it('a send found in flight long after its pod died is marked uncertain and shown to the agents, never re-sent', async () => {
    const chatId = await chatWith('919822200007');
    const room = await connect(chatId);
    await app.store.collection('messages').insertOne({ _id: `${chatId}:99`, chat_id: chatId, seq: 99, type: 'Agent', message: 'in flight', datetime: new Date() });
    await app.store.collection('outbox').insertOne({
      _id: 'orphan-1', chat_id: chatId, message_id: `${chatId}:99`, to: '919822200007', send_type: 'customer_chat_new', type: 'text',
      body: { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919822200007', type: 'text', text: { preview_url: false, body: 'in flight' } },
      state: 'sending', pod: 'gone-pod', claimed_at: new Date(Date.now() - 10 * 60_000), created_at: new Date(Date.now() - 10 * 60_000),
    });
    const before = fake.requests.length;
    await app.outbox.sweep();
    const push = await room.waitForPush((f) => f.event === 'message_status' && f.data.outbox_key === 'orphan-1');
    assert.equal(push.data.status, 'uncertain');
    assert.equal(push.data.message_id, `${chatId}:99`);
    assert.match(push.data.error.message, /may or may not have reached the customer/);
    await app.outbox.sweep();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(fake.requests.length, before, 'never re-sent');
  });
});

describe('outbound WhatsApp without API keys (dry-run)', () => {
  it('records and pushes every send as dry_run, sends and downloads nothing, and the product behaves the same', async () => {
    const fake = await startFakePinbot();
    const app = await startTestApp({ PINBOT_ORIGIN: fake.origin, PINBOT_V3_ORIGIN: fake.origin });
    try {
      await postWebhook(app.url, CUSTOMER, JSON.parse(readFileSync(join(fixtures, 'inbound-image.json'), 'utf8')) as object);
      await postWebhook(app.url, CUSTOMER, textWebhook('919822200008', 'hi'));
      const chat = await eventually(() => app.store.collection('chats').findOne({ customer: '9822200008' }));
      const room = await AgentClient.connect(app.url, 'a', { chatId: String(chat._id) });
      const r = await room.request('send_message', { chat_id: chat._id, message: 'dry' });
      assert.equal(r.data.message.type, 'Agent');
      const push = await room.waitForPush((f) => f.event === 'message_status');
      assert.equal(push.data.status, 'dry_run');
      assert.equal((await app.store.collection('outbox').findOne({ chat_id: chat._id }))?.state, 'dry_run');
      assert.ok(app.logs.some((l) => /dry-run/.test(String(l.msg))));
      await room.close();
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(fake.requests.length, 0, 'nothing reached Pinbot');
    } finally {
      await app.stop();
      await fake.close();
    }
  });
});
