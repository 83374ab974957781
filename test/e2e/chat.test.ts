/** From a customer's WhatsApp message to every agent and back, on real Redis and the MongoDB-compatible server. */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, statusWebhook, textWebhook } from '../support/webhooks.ts';

const CUSTOMER_CHANNEL = '8000247247';
const PARTNER_CHANNEL = '9099039188';
const fixtures = join(import.meta.dirname, '../../../shared/fixtures/whatsapp');

function realServices(extra: Record<string, string> = {}) {
  return { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('chat'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('chat')}:`, ...extra };
}

describe('chat webhooks and the agent WebSocket', () => {
  let app: TestApp;
  let cm: FakePinbot; // stands in for Communication Master (FR-9)
  const agents: AgentClient[] = [];
  const connect = async (agent: string, chatId?: string) => {
    const c = await AgentClient.connect(app.url, agent, chatId ? { chatId } : {});
    agents.push(c);
    return c;
  };
  const messagesOf = async (customer: string) => {
    const chat = await app.store.collection('chats').findOne({ customer });
    return chat ? app.store.collection('messages').find({ chat_id: chat._id }, { sort: { seq: 1 } }) : [];
  };

  before(async () => {
    cm = await startFakePinbot();
    app = await startTestApp(realServices({ COMMUNICATION_MASTER_URL: `${cm.origin}/webhook` }));
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await app.stop();
    await cm.close();
  });

  it("stores a customer's message, opens the chat, and pushes it to the dashboards", async () => {
    const dash = await connect('9099039188');
    const res = await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000001', 'मुझे कैब चाहिए ₹ 🙏', { name: 'Asha' }));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 1 });
    const update = await dash.waitForPush((f) => f.event === 'room_update_customer' && f.data.customer === '9800000001');
    assert.equal(update.data.customer_name, 'Asha');
    assert.equal(update.data.last_message, 'मुझे कैब चाहिए ₹ 🙏');
    assert.equal(update.data.status, 'active');
    const stats = await dash.waitForPush((f) => f.event === 'dashboard_stats');
    assert.ok(stats.data.active >= 1);
    const [msg] = await messagesOf('9800000001');
    assert.equal(msg?.message, 'मुझे कैब चाहिए ₹ 🙏');
    assert.equal(msg?.type, 'Customer');
    assert.equal(msg?.seq, 1);
  });

  it("pushes new messages to the chat's room, and partner chats as room_update", async () => {
    await postWebhook(app.url, PARTNER_CHANNEL, textWebhook('919800000002', 'first'));
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: '9800000002' }));
    assert.equal(chat.customer_type, 'Partner');
    const room = await connect('agent-room', String(chat._id));
    await postWebhook(app.url, PARTNER_CHANNEL, textWebhook('919800000002', 'second'));
    const pushed = await room.waitForPush((f) => f.event === 'new_message' && f.data.message === 'second');
    assert.equal(pushed.data.chat_id, chat._id);
    assert.equal(pushed.data.seq, 2);
    await room.waitForPush((f) => f.event === 'room_update' && f.data.last_message === 'second');
  });

  it('parses the real Meta examples: text, image with its media metadata, and a button reply', async () => {
    // Meta's examples reuse one message id (and would be deduplicated): give each its own.
    for (const [i, name] of ['inbound-text.json', 'inbound-image.json', 'inbound-interactive-button-reply.json'].entries()) {
      const body = JSON.parse(readFileSync(join(fixtures, name), 'utf8')) as { entry: { changes: { value: { messages: { id: string }[] } }[] }[] };
      body.entry[0]!.changes[0]!.value.messages[0]!.id = `wamid.fixture.${i}`;
      const res = await postWebhook(app.url, CUSTOMER_CHANNEL, body);
      assert.equal(res.status, 200, name);
    }
    const msgs = await eventually(async () => {
      const m = await messagesOf('16505551234');
      return m.length === 3 ? m : undefined;
    });
    assert.deepEqual(msgs.map((m) => m.message_type), ['text', 'image', 'interactive']);
    assert.equal(msgs[0]?.message, 'Does it come in another color?');
    assert.equal(msgs[1]?.media_type, 'image');
    assert.equal((msgs[1]?.media as { mimeType: string }).mimeType, 'image/jpeg');
    assert.equal((msgs[2]?.extra as { interactiveReplyId: string }).interactiveReplyId, 'change-button');
  });

  it('applies a redelivered webhook once and still answers 200', async () => {
    const body = textWebhook('919800000003', 'only once', { id: 'wamid.redelivered.1' });
    for (let i = 0; i < 3; i++) assert.equal((await postWebhook(app.url, CUSTOMER_CHANNEL, body)).status, 200);
    await eventually(async () => (await messagesOf('9800000003')).length === 1);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await messagesOf('9800000003')).length, 1);
  });

  it('processes webhooks for one chat in the order they were acknowledged, even when sent at once', async () => {
    for (let i = 0; i < 20; i++) assert.equal((await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000004', `seq-${i}`))).status, 200);
    const ordered = await eventually(async () => {
      const m = await messagesOf('9800000004');
      return m.length === 20 ? m : undefined;
    });
    assert.deepEqual(ordered.map((m) => m.message), Array.from({ length: 20 }, (_, i) => `seq-${i}`));

    await Promise.all(Array.from({ length: 30 }, (_, i) => postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000005', `burst-${i}`))));
    const burst = await eventually(async () => {
      const m = await messagesOf('9800000005');
      return m.length === 30 ? m : undefined;
    });
    assert.deepEqual(burst.map((m) => m.seq), Array.from({ length: 30 }, (_, i) => i + 1), 'contiguous sequence, no gaps or doubles');
    assert.equal(new Set(burst.map((m) => m.message)).size, 30);
  });

  it('reopens a resolved chat when the customer writes again', async () => {
    const agent = await connect('9099039188');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000006', 'help'));
    await eventually(() => app.store.collection('chats').findOne({ customer: '9800000006' }));
    const resolved = await agent.request('update_chat_status', { customer_number: '9800000006', update_by_number: '9099039188', status: 'resolved' });
    assert.equal(resolved.data.chat.status, 'resolved');
    assert.equal(resolved.data.chat.status_updated_by, '9099039188');
    assert.equal(await app.store.collection('chat_resolve_log').countDocuments({ customer: '9800000006' }), 1);
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000006', 'still not fixed'));
    const chat = await eventually(async () => {
      const c = await app.store.collection('chats').findOne({ customer: '9800000006' });
      return c?.status === 'active' ? c : undefined;
    });
    assert.equal(chat.status_updated_by, '9800000006');
    // The dashboard (never in the chat's room) saw both changes, and the reopening message's list update says active.
    await agent.waitForPush((f) => f.event === 'chat_status_updated' && f.data.customer === '9800000006' && f.data.status === 'active');
    assert.deepEqual(agent.pushes.filter((f) => f.event === 'chat_status_updated' && f.data.customer === '9800000006').map((f) => f.data.status), ['resolved', 'active']);
    const update = await agent.waitForPush((f) => f.event === 'room_update_customer' && f.data.last_message === 'still not fixed');
    assert.equal(update.data.status, 'active');
  });

  it("pushes a message on a resolved chat to the dashboards with the chat's real status", async () => {
    const agent = await connect('9099039188');
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000016', 'thanks, all good'));
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: '9800000016' }));
    assert.equal((await agent.request('update_chat_status', { customer_number: '9800000016', status: 'resolved' })).data.chat.status, 'resolved');
    // An agent's closing note (inside the 24-hour window) leaves the chat resolved.
    const sent = await agent.request('send_message', { chat_id: String(chat._id), message: 'Glad to help!' });
    assert.equal(sent.data.message.type, 'Agent');
    const update = await agent.waitForPush((f) => f.event === 'room_update_customer' && f.data.last_message === 'Glad to help!');
    assert.equal(update.data.status, 'resolved');
    assert.equal((await app.store.collection('chats').findOne({ customer: '9800000016' }))?.status, 'resolved');
  });

  it('forwards inbound payloads to Communication Master without blocking the chat', async () => {
    const before = cm.requests.length;
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000007', 'forward me'));
    const reqs = await cm.waitForRequests(before + 1);
    const last = reqs.at(-1)!;
    assert.equal(last.method, 'POST');
    assert.equal(last.path, '/webhook');
    assert.match(last.body, /forward me/);
  });

  it('records delivery statuses and pushes them to the chat room', async () => {
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919800000008', 'hello'));
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: '9800000008' }));
    const room = await connect('agent-status', String(chat._id));
    await postWebhook(app.url, CUSTOMER_CHANNEL, statusWebhook('919800000008', 'wamid.outbound.1', 'delivered'));
    const push = await room.waitForPush((f) => f.event === 'message_status');
    assert.deepEqual([push.data.wa_message_id, push.data.status], ['wamid.outbound.1', 'delivered']);
  });

  it('refuses an unknown channel, malformed JSON and a body that is not a webhook, with codes', async () => {
    const unknown = await postWebhook(app.url, '1234567890', textWebhook('919800000009', 'x'));
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, 'UNKNOWN_CHANNEL');
    const badJson = await postWebhook(app.url, CUSTOMER_CHANNEL, '{"entry": [');
    assert.equal(((await badJson.json()) as { error: { code: string } }).error.code, 'BAD_JSON');
    const notWebhook = await postWebhook(app.url, CUSTOMER_CHANNEL, { hello: 'world' });
    assert.equal(notWebhook.status, 400);
    const body = (await notWebhook.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'NOT_A_WEBHOOK');
    assert.match(body.error.message, /entry/);
  });

  it('answers GET /api/dashboard/stats for agents only, in the spec shape', async () => {
    assert.equal((await fetch(`${app.url}/api/dashboard/stats`)).status, 401);
    const res = await fetch(`${app.url}/api/dashboard/stats`, { headers: { authorization: `Bearer ${signToken({ sub: 'a' }, TEST_JWT_SECRET)}` } });
    const body = (await res.json()) as { status: number; data: Record<string, number> };
    assert.equal(body.status, 1);
    assert.deepEqual(Object.keys(body.data).sort(), ['active', 'pending', 'resolved']);
    assert.equal(body.data.pending, 0);
  });
});

describe('webhook signatures', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ WEBHOOK_SECRET: 'whsec-test-123' });
  });
  after(() => app.stop());

  it('accepts a body signed with WEBHOOK_SECRET and refuses a missing or wrong signature', async () => {
    const raw = JSON.stringify(textWebhook('919800000010', 'signed'));
    const good = `sha256=${createHmac('sha256', 'whsec-test-123').update(raw).digest('hex')}`;
    assert.equal((await postWebhook(app.url, CUSTOMER_CHANNEL, raw, { 'x-hub-signature-256': good })).status, 200);
    const missing = await postWebhook(app.url, CUSTOMER_CHANNEL, raw);
    assert.equal(missing.status, 401);
    assert.equal(((await missing.json()) as { error: { code: string } }).error.code, 'BAD_SIGNATURE');
    const tampered = await postWebhook(app.url, CUSTOMER_CHANNEL, raw.replace('signed', 'forged'), { 'x-hub-signature-256': good });
    assert.equal(tampered.status, 401);
  });
});
