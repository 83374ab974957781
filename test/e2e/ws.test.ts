/** The ten agent events of FR-3: each happy path and its bad-input error, on real Redis and the MongoDB-compatible server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { AgentClient } from '../support/agent-client.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const AGENT = '9099039188';
const OTHER = '8000247247';

describe('agent WebSocket events', () => {
  let app: TestApp;
  let a: AgentClient;
  let b: AgentClient;
  let chatId: string;

  /** A chat for `number` with `n` customer messages, on the customer channel. */
  async function chatWith(number: string, n: number, channel = '8000247247'): Promise<string> {
    for (let i = 0; i < n; i++) await postWebhook(app.url, channel, textWebhook(`91${number}`, `msg ${i}`));
    const chat = await eventually(async () => {
      const c = await app.store.collection('chats').findOne({ customer: number });
      return c && c.last_seq === n ? c : undefined;
    });
    return String(chat._id);
  }

  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('ws'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('ws')}:` });
    a = await AgentClient.connect(app.url, AGENT);
    b = await AgentClient.connect(app.url, OTHER);
    chatId = await chatWith('9811111111', 3);
  });
  after(async () => {
    await Promise.all([a.close(), b.close()]);
    await app.stop();
  });

  it('refuses an upgrade without a valid token', async () => {
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws?token=forged`);
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0)));
    assert.equal(status, 401);
  });

  it('/ws/{chat_id} of a chat that does not exist: a NOT_FOUND error frame, then close 4404', async () => {
    const c = await AgentClient.connect(app.url, AGENT, { chatId: 'no-such-chat' });
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    const err = await c.waitForPush((f) => f.event === 'error');
    assert.deepEqual([err.id, err.error?.code], [null, 'NOT_FOUND']);
    assert.equal(await closed, 4404);
    await c.close();
    assert.equal(await app.store.collection('socket_collection').countDocuments({ chat_id: 'no-such-chat' }), 0);
  });

  it('/ws/{chat_id} of a chat that exists: in its room, present in socket_collection until it closes', async () => {
    const c = await AgentClient.connect(app.url, 'agent-present', { chatId });
    const present = await eventually(() => app.store.collection('socket_collection').findOne({ chat_id: chatId, user_id: 'agent-present' }));
    assert.equal(present.pod, app.config.POD_ID);
    assert.equal((await c.request('config', {})).event, 'config', 'the connection stays open');
    await c.close();
    await eventually(async () => (await app.store.collection('socket_collection').countDocuments({ chat_id: chatId, user_id: 'agent-present' })) === 0);
  });

  it('config: answers with the identity and the dashboard vocabulary', async () => {
    const r = await a.request('config', { sender: AGENT }, 'cfg-1');
    assert.equal(r.event, 'config');
    assert.equal(r.id, 'cfg-1');
    assert.equal(r.data.sender, AGENT);
    assert.deepEqual(r.data.customer_types, ['Partner', 'Customer', 'Vendor', 'SRDP']);
    assert.deepEqual(r.data.special_filters, ['Active_Approved', 'Pending', 'InJourney', 'Suspend', 'Discount_Bot']);
  });

  it('rejects identity fields that contradict the token with FORBIDDEN', async () => {
    const r = await a.request('config', { sender: 'someone-else' }, 7);
    assert.deepEqual([r.event, r.id, r.error?.code], ['error', 7, 'FORBIDDEN']);
    const s = await a.request('update_chat_status', { customer_number: '9811111111', update_by_number: 'someone-else', status: 'resolved' });
    assert.equal(s.error?.code, 'FORBIDDEN');
  });

  it('answers an unknown event, a non-JSON frame and bad data with coded errors, keeping the connection', async () => {
    assert.equal((await a.request('no_such_event', {})).error?.code, 'UNKNOWN_EVENT');
    const reply = new Promise<{ event: string; error: { code: string } }>((resolve) => a.ws.once('message', (m) => resolve(JSON.parse(m.toString()))));
    a.ws.send('this is not json');
    assert.deepEqual((await reply).error.code, 'VALIDATION_FAILED');
    const bad = await a.request('fetch_all_chats', { page_size: 1000 });
    assert.equal(bad.error?.code, 'VALIDATION_FAILED');
    assert.match(bad.error?.message ?? '', /page_size/);
    assert.equal((await a.request('config', {})).event, 'config', 'still connected');
  });

  it('search_chat: finds a chat by customer number in either form, null when there is none, and validates', async () => {
    const found = await a.request('search_chat', { customer: '+91 98111 11111' });
    assert.equal(found.data.chat.chat_id, chatId);
    assert.equal((await a.request('search_chat', { customer: '9800099999' })).data.chat, null);
    assert.equal((await a.request('search_chat', { customer: 'abc' })).error?.code, 'VALIDATION_FAILED');
  });

  it('fetch_all_chats: filters by status and customer type, searches, pages and counts', async () => {
    await chatWith('9822222222', 1, '9099039188'); // a partner chat
    const all = await a.request('fetch_all_chats', {});
    assert.equal(all.data.page, 1);
    assert.equal(all.data.page_size, 10);
    assert.ok(all.data.total >= 2);
    const partners = await a.request('fetch_all_chats', { customer_type: 'Partner', status: 'active' });
    assert.deepEqual(partners.data.chats.map((c: { customer: string }) => c.customer), ['9822222222']);
    const search = await a.request('fetch_all_chats', { search: '98111' });
    assert.deepEqual(search.data.chats.map((c: { chat_id: string }) => c.chat_id), [chatId]);
    const paged = await a.request('fetch_all_chats', { page: 2, page_size: 1 });
    assert.equal(paged.data.chats.length, 1);
    assert.equal(paged.data.total, all.data.total);
    assert.equal((await a.request('fetch_all_chats', { status: 'open' })).error?.code, 'VALIDATION_FAILED');
  });

  it('keeps unseen counts per agent: opening a chat marks it seen for that agent only', async () => {
    const unseen = async (c: AgentClient) => {
      const r = await c.request('fetch_all_chats', { search: '9811111111' });
      return r.data.chats[0].unseen_count as number;
    };
    assert.equal(await unseen(a), 3);
    const history = await a.request('fetch_chats_by_user', { chat_id: chatId });
    assert.equal(history.data.total, 3);
    assert.deepEqual(history.data.messages.map((m: { seq: number }) => m.seq), [3, 2, 1], 'newest first');
    assert.deepEqual(history.data.messages[0].seen_by, [AGENT]);
    assert.equal(await unseen(a), 0);
    assert.equal(await unseen(b), 3);
    await postWebhook(app.url, '8000247247', textWebhook('919811111111', 'one more'));
    await eventually(async () => (await unseen(a)) === 1);
    assert.equal(await unseen(b), 4);
  });

  it('fetch_chats_by_user: pages history and answers NOT_FOUND for an unknown chat', async () => {
    const page2 = await b.request('fetch_chats_by_user', { chat_id: chatId, page: 2, page_size: 2 });
    assert.deepEqual(page2.data.messages.map((m: { seq: number }) => m.seq), [2, 1]);
    assert.equal(page2.data.chat.chat_id, chatId);
    assert.equal((await b.request('fetch_chats_by_user', { chat_id: 'nope' })).error?.code, 'NOT_FOUND');
    assert.equal((await b.request('fetch_chats_by_user', {})).error?.code, 'VALIDATION_FAILED');
  });

  it('new_chat: opens a chat with a customer, or returns the existing one', async () => {
    const made = await a.request('new_chat', { customer: '9833333333', customer_type: 'Vendor' });
    assert.equal(made.data.chat.customer, '9833333333');
    assert.equal(made.data.chat.customer_type, 'Vendor');
    assert.equal(made.data.chat.status, 'active');
    const again = await a.request('new_chat', { sender: '919833333333', customer_type: 'Vendor' });
    assert.equal(again.data.chat.chat_id, made.data.chat.chat_id);
    assert.equal((await a.request('new_chat', { customer_type: 'Martian' })).error?.code, 'VALIDATION_FAILED');
  });

  it('join_chat / join_chat_customer / leave_chat: room membership controls new_message pushes', async () => {
    const joined = await b.request('join_chat', { chat_id: chatId, type: 'agent' });
    assert.deepEqual(joined.data, { chat_id: chatId, joined: true });
    assert.equal((await a.request('join_chat_customer', { chat_id: chatId, type: 'agent', customer_type: 'Customer' })).data.joined, true);
    assert.equal((await a.request('join_chat', { chat_id: 'nope' })).error?.code, 'NOT_FOUND');
    await postWebhook(app.url, '8000247247', textWebhook('919811111111', 'room check'));
    await b.waitForPush((f) => f.event === 'new_message' && f.data.message === 'room check');
    await a.waitForPush((f) => f.event === 'new_message' && f.data.message === 'room check');
    assert.deepEqual((await b.request('leave_chat', { chat_id: chatId })).data, { chat_id: chatId, left: true });
    await postWebhook(app.url, '8000247247', textWebhook('919811111111', 'after leaving'));
    await a.waitForPush((f) => f.event === 'new_message' && f.data.message === 'after leaving');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(b.pushes.some((f) => f.event === 'new_message' && f.data.message === 'after leaving'), false);
    assert.equal((await b.request('leave_chat', {})).error?.code, 'VALIDATION_FAILED');
  });

  it('an agent with the chat open does not see its unread count grow for the messages shown to it', async () => {
    const chat = await chatWith('9844444444', 2);
    const unseen = async (c: AgentClient) => (await c.request('fetch_all_chats', { search: '9844444444' })).data.chats[0].unseen_count as number;
    const viaUrl = await AgentClient.connect(app.url, 'agent-url', { chatId: chat }); // in the room from the start
    const viaJoin = await AgentClient.connect(app.url, 'agent-join');
    const away = await AgentClient.connect(app.url, 'agent-away');
    try {
      assert.equal((await viaJoin.request('join_chat', { chat_id: chat })).data.joined, true);
      for (const text of ['where is my cab', 'hello?']) await postWebhook(app.url, '8000247247', textWebhook('919844444444', text));
      for (const c of [viaUrl, viaJoin]) await c.waitForPush((f) => f.event === 'new_message' && f.data.seq === 4);
      await eventually(async () => (await unseen(viaUrl)) === 0 && (await unseen(viaJoin)) === 0, 5000, 'the open chat is read by both agents');
      assert.equal(await unseen(away), 4, 'an agent without the chat open still sees all four');
      const history = await away.request('fetch_chats_by_user', { chat_id: chat });
      assert.deepEqual([...history.data.messages[0].seen_by].sort(), ['agent-away', 'agent-join', 'agent-url']);
      // Closed again (leave_chat): the next message counts for that agent once more.
      await viaJoin.request('leave_chat', { chat_id: chat });
      await postWebhook(app.url, '8000247247', textWebhook('919844444444', 'anyone?'));
      await viaUrl.waitForPush((f) => f.event === 'new_message' && f.data.seq === 5);
      await eventually(async () => (await unseen(viaUrl)) === 0, 5000, 'still read with the chat open');
      assert.equal(await unseen(viaJoin), 1);
    } finally {
      await Promise.all([viaUrl.close(), viaJoin.close(), away.close()]);
    }
  });

  it('send_message: stores the reply, pushes it to the room, hands it to WhatsApp (dry-run), once per frame id', async () => {
    const r = await a.request('send_message', { chat_id: chatId, sender: AGENT, type: 'text', message: 'आपकी कैब 10 मिनट में ₹ 🚕', customer_type: 'Customer' }, 'send-1');
    assert.equal(r.data.message.type, 'Agent');
    assert.equal(r.data.message.sender, AGENT);
    await a.waitForPush((f) => f.event === 'new_message' && f.data.seq === r.data.message.seq);
    const retry = await a.request('send_message', { chat_id: chatId, message: 'आपकी कैब 10 मिनट में ₹ 🚕' }, 'send-1');
    assert.equal(retry.data.message._id, r.data.message._id, 'a retried frame is applied once');
    const outbox = await app.store.collection('outbox').find({ chat_id: chatId });
    assert.equal(outbox.length, 1);
    assert.equal(outbox[0]?.state, 'dry_run');
    assert.equal(outbox[0]?.send_type, 'customer_chat_new');
    assert.deepEqual(outbox[0]?.body, { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919811111111', type: 'text', text: { preview_url: false, body: 'आपकी कैब 10 मिनट में ₹ 🚕' } });
    assert.equal((await a.request('send_message', { chat_id: chatId, message: '' })).error?.code, 'VALIDATION_FAILED');
    assert.equal((await a.request('send_message', { chat_id: 'nope', message: 'x' })).error?.code, 'NOT_FOUND');
  });

  it('update_chat_status: resolves and reopens, pushing chat_status_updated and dashboard_stats to every dashboard', async () => {
    await b.request('join_chat', { chat_id: chatId });
    await a.request('leave_chat', { chat_id: chatId });
    const listed = await a.request('fetch_all_chats', { status: 'active', search: '9811111111' });
    assert.equal(listed.data.total, 1);
    a.pushes.length = 0;
    const resolved = await b.request('update_chat_status', { customer_number: '9811111111', update_by_number: OTHER, status: 'resolved' });
    assert.equal(resolved.data.chat.status, 'resolved');
    const pushed = await b.waitForPush((f) => f.event === 'chat_status_updated' && f.data.status === 'resolved');
    assert.equal(pushed.data.status_updated_by, OTHER);
    // `a` is not in the chat's room: its list still hears of the change, and the counts follow.
    const seen = await a.waitForPush((f) => f.event === 'chat_status_updated' && f.data.chat_id === chatId);
    assert.deepEqual([seen.data.status, seen.data.previous_status], ['resolved', 'active']);
    const stats = await a.waitForPush((f) => f.event === 'dashboard_stats');
    const http = await fetch(`${app.url}/api/dashboard/stats`, { headers: { authorization: `Bearer ${signToken({ sub: AGENT }, TEST_JWT_SECRET)}` } }).then((r) => r.json() as Promise<{ data: { active: number; resolved: number; pending: number } }>);
    assert.deepEqual(stats.data, http.data);
    assert.equal(stats.data.resolved, 1);
    assert.equal(b.pushes.filter((f) => f.event === 'chat_status_updated' && f.data.chat_id === chatId).length, 1, 'once, though b is in the chat room and the dashboard room');
    const reopened = await a.request('update_chat_status', { customer_number: '9811111111', status: 'active' });
    assert.equal(reopened.data.chat.status, 'active');
    await a.waitForPush((f) => f.event === 'chat_status_updated' && f.data.status === 'active' && f.data.status_updated_by === AGENT);
    await a.waitForPush((f) => f.event === 'dashboard_stats' && f.data.resolved === 0);
    await b.request('update_chat_status', { customer_number: '9811111111', status: 'resolved' });
    const again = await b.request('update_chat_status', { customer_number: '9811111111', status: 'resolved' });
    assert.equal(again.data.chat.status, 'resolved', 'the same status again changes nothing');
    assert.equal((await b.request('update_chat_status', { customer_number: '9811111111', status: 'closed' })).error?.code, 'VALIDATION_FAILED');
    assert.equal((await b.request('update_chat_status', { customer_number: '9800077777', status: 'resolved' })).error?.code, 'NOT_FOUND');
  });

  it('limits each connection to its frame rate with RATE_LIMITED, without closing it', async () => {
    const c = await AgentClient.connect(app.url, 'rate-test');
    const replies = await Promise.all(Array.from({ length: 60 }, (_, i) => c.request('config', {}, `burst-${i}`)));
    const limited = replies.filter((r) => r.error?.code === 'RATE_LIMITED').length;
    assert.ok(limited >= 10, `${limited} of 60 limited`);
    assert.ok(replies.filter((r) => r.event === 'config').length >= 40);
    await new Promise((r) => setTimeout(r, 1100));
    assert.equal((await c.request('config', {})).event, 'config', 'allowed again after a second');
    await c.close();
  });

  it('closes a connection that sends a frame over 64 KiB', async () => {
    const c = await AgentClient.connect(app.url, 'big-frame');
    const closed = new Promise<number>((resolve) => c.ws.once('close', (code) => resolve(code)));
    c.ws.send(JSON.stringify({ event: 'config', data: { pad: 'x'.repeat(70 * 1024) } }));
    // uWS drops the connection at the protocol level (no close frame reaches the client: 1006).
    assert.ok([1006, 1009].includes(await closed));
    assert.equal((await a.request('config', {})).event, 'config', 'other connections are unaffected');
  });
});

describe('special filters joined from users', () => {
  let app: TestApp;
  let agent: AgentClient;
  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('filters'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('filters')}:` });
    agent = await AgentClient.connect(app.url, AGENT);
  });
  after(async () => {
    await agent.close();
    await app.stop();
  });

  it('Active_Approved, Pending, InJourney and Suspend select chats by the partner profile', async () => {
    const users = app.store.collection('users');
    const profiles: [string, Record<string, unknown>][] = [
      ['9840000001', { documents_status: 'Approved', dco_status: 'Active', in_journey_status: false }],
      ['9840000002', { documents_status: 'Pending', dco_status: 'Active', in_journey_status: true }],
      ['9840000003', { documents_status: 'Approved', dco_status: 'Suspend', in_journey_status: false }],
      ['9840000004', { documents_status: 'Rejected', dco_status: 'Inactive', in_journey_status: false }],
    ];
    for (const [mobile, p] of profiles) {
      await users.insertOne({ mobile, customer: mobile, ...p });
      await postWebhook(app.url, '9099039188', textWebhook(`91${mobile}`, 'hello'));
    }
    await eventually(async () => (await app.store.collection('chats').countDocuments({})) === 4);
    const pick = async (search: string) => (await agent.request('fetch_all_chats', { search })).data.chats.map((c: { customer: string }) => c.customer).sort();
    assert.deepEqual(await pick('Active_Approved'), ['9840000001']);
    assert.deepEqual(await pick('Pending'), ['9840000002']);
    assert.deepEqual(await pick('InJourney'), ['9840000002']);
    assert.deepEqual(await pick('Suspend'), ['9840000003']);
    const counted = await agent.request('fetch_all_chats', { search: 'Active_Approved', status: 'active', customer_type: 'Partner' });
    assert.equal(counted.data.total, 1);
  });
});

describe('pushes on one pod (embedded)', () => {
  it('are built for a room only once someone is in it: the dashboard, then the chat', async () => {
    const app = await startTestApp();
    try {
      await postWebhook(app.url, '8000247247', textWebhook('919822222222', 'before anyone'));
      assert.equal(app.hub.reaches('dashboard'), false, 'no dashboard open, no other pod: nobody hears');
      const dashboard = await AgentClient.connect(app.url, 'watcher');
      assert.equal(app.hub.reaches('dashboard'), true);
      await postWebhook(app.url, '8000247247', textWebhook('919822222222', 'dashboard open'));
      const update = await dashboard.waitForPush((f) => f.event.startsWith('room_update') && f.data.last_message === 'dashboard open');
      const chatId = String(update.data.chat_id);
      assert.equal(app.hub.reaches(chatId), false, 'nobody has the chat open');
      const inChat = await AgentClient.connect(app.url, 'reader', { chatId });
      await eventually(async () => app.hub.reaches(chatId) || undefined);
      await postWebhook(app.url, '8000247247', textWebhook('919822222222', 'chat open'));
      await inChat.waitForPush((f) => f.event === 'new_message' && f.data.message === 'chat open');
      await Promise.all([dashboard.close(), inChat.close()]);
    } finally {
      await app.stop();
    }
  });
});

describe('a dashboard that stops reading', () => {
  it('is dropped once its backlog passes the bound, instead of growing memory', async () => {
    const app = await startTestApp();
    try {
      const slow = await AgentClient.connect(app.url, 'slow-reader');
      const fast = await AgentClient.connect(app.url, 'fast-reader');
      (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
      assert.equal(app.hub.connectionCount, 2);
      const text = 'क'.repeat(4000); // ~12 KB per push
      // Bounded: at most 4,000 webhooks (≈ 48 MB of pushes), stopping as soon as the slow socket is dropped.
      for (let i = 0; i < 4000 && app.hub.connectionCount === 2; i++) {
        await postWebhook(app.url, '8000247247', textWebhook(`9198${String(50000000 + i)}`, text));
      }
      assert.equal(app.hub.connectionCount, 1, 'the slow reader was dropped');
      assert.equal((await fast.request('config', {})).event, 'config', 'the reading dashboard is still served');
      await fast.close();
      slow.ws.terminate();
    } finally {
      await app.stop();
    }
  });
});
