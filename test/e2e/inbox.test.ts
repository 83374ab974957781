/**
 * The team inbox (#18) through the running app on real Redis and the MongoDB
 * test server, with the fake Pinbot: round robin with the cap, availability,
 * manual assignment, pending and snooze (woken by its stored deadline, by the
 * customer, and after a restart), private notes and mentions, labels and
 * counts, typing, and CSAT from the reply buttons to the rating.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { buttonReplyWebhook, eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const adminToken = signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET);
const VENDOR_A = '9726724247';
const VENDOR_B = '9726524247';
const SRDP_A = '9586924247';
const SRDP_B = '9081812247';

describe('team inbox', () => {
  let app: TestApp;
  let fake: FakePinbot;
  const env = { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('inbox'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('inbox')}:` };
  const clients: AgentClient[] = [];
  const connect = async (agent: string, chatId?: string) => {
    const c = await AgentClient.connect(app.url, agent, chatId ? { chatId } : {});
    clients.push(c);
    return c;
  };
  const put = (path: string, body: unknown) =>
    fetch(`${app.url}${path}`, { method: 'PUT', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let counter = 0;
  /** A new chat: a customer message on `channel`; resolves with its chat document once stored. */
  const newChat = async (channel: string, text = 'need help') => {
    const number = `9198${String(7_000_000 + ++counter * 7).padStart(8, '0')}`;
    assert.equal((await postWebhook(app.url, channel, textWebhook(number, text))).status, 200);
    return eventually(() => app.store.collection('chats').findOne({ customer: number.slice(2) }), 5000, `chat of ${number}`);
  };
  const chatDoc = (id: unknown) => app.store.collection('chats').findOne({ _id: String(id) });

  before(async () => {
    fake = await startFakePinbot();
    app = await startTestApp({ ...env, PINBOT_ORIGIN: fake.origin, PINBOT_V3_ORIGIN: fake.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2', AGENT_OFFLINE_AFTER_MS: '1500', INBOX_ASSIGN_SWEEP_MS: '500' });
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await app?.stop();
    await fake?.close();
  });

  it('shares new chats round robin among the team\'s online agents, respects the cap, and drains the queue when a slot frees', async () => {
    assert.equal((await put('/api/inbox/settings', { agent_cap: 2 })).status, 200);
    assert.equal((await put('/api/inbox/teams/vendors', { name: 'Vendors', agents: ['rr-a', 'rr-b', 'rr-c'], numbers: [VENDOR_A] })).status, 200);
    const conflict = await put('/api/inbox/teams/other', { name: 'Other', agents: [], numbers: [VENDOR_A] });
    assert.equal(conflict.status, 409);
    assert.equal(((await conflict.json()) as { error: { code: string } }).error.code, 'NUMBER_IN_OTHER_TEAM');
    const [a, b, c] = [await connect('rr-a'), await connect('rr-b'), await connect('rr-c')];
    await eventually(async () => ((await a.request('fetch_agents', {})).data.agents as { username: string; status: string }[]).filter((x) => x.username.startsWith('rr-') && x.status === 'online').length === 3, 5000, 'three agents online');

    const chats: Record<string, unknown>[] = [];
    for (let i = 0; i < 7; i++) chats.push(await newChat(VENDOR_A, `trip ${i}`));
    await eventually(async () => (await Promise.all(chats.map((ch) => chatDoc(ch._id)))).filter((d) => d?.assignee).length === 6, 10_000, 'six chats assigned');
    const docs = await Promise.all(chats.map((ch) => chatDoc(ch._id)));
    const byAgent = new Map<string, number>();
    for (const d of docs) if (d?.assignee) byAgent.set(String(d.assignee), (byAgent.get(String(d.assignee)) ?? 0) + 1);
    assert.deepEqual(Object.fromEntries([...byAgent].sort()), { 'rr-a': 2, 'rr-b': 2, 'rr-c': 2 }, 'two each: the cap');
    assert.deepEqual(docs.slice(0, 3).map((d) => d?.assignee), ['rr-a', 'rr-b', 'rr-c'], 'longest waiting first, round robin');
    assert.equal(docs.every((d) => d?.assignee === null || d?.team === 'vendors'), true);
    const waiting = docs.find((d) => !d?.assignee)!;
    assert.equal(String(waiting._id), String(chats[6]!._id), 'the newest waits in Unassigned');
    assert.ok(waiting.waiting_since instanceof Date);
    const counts = await a.request('inbox_counts', {});
    assert.equal(counts.data.mine, 2);
    assert.ok(counts.data.unassigned >= 1);
    const unassigned = await a.request('fetch_all_chats', { view: 'unassigned', page_size: 100 });
    assert.ok((unassigned.data.chats as { chat_id: string }[]).some((x) => x.chat_id === String(waiting._id)));
    const mine = await b.request('fetch_all_chats', { view: 'mine', page_size: 100 });
    assert.deepEqual((mine.data.chats as { assignee: string }[]).map((x) => x.assignee), ['rr-b', 'rr-b']);

    // rr-a resolves one of its chats: below the cap, it gets the waiting one.
    const resolvedOne = docs.find((d) => d?.assignee === 'rr-a')!;
    const r = await a.request('set_chat_status', { chat_id: resolvedOne._id, status: 'resolved' });
    assert.equal(r.data?.chat?.status, 'resolved', JSON.stringify(r.error));
    await eventually(async () => (await chatDoc(waiting._id))?.assignee === 'rr-a', 5000, 'the waiting chat goes to rr-a');
    await c.waitForPush((p) => p.event === 'chat_assigned' && p.data.chat_id === String(waiting._id) && p.data.assignee === 'rr-a' && p.data.by === 'auto');
  });

  it('skips an agent who goes offline (by the toggle, or with no socket for the offline delay)', async () => {
    assert.equal((await put('/api/inbox/teams/vendors-b', { name: 'Vendors B', agents: ['off-a', 'off-b'], numbers: [VENDOR_B] })).status, 200);
    const [a, b] = [await connect('off-a'), await connect('off-b')];
    const watcher = await connect('off-watch');
    assert.equal((await b.request('set_availability', { status: 'busy' })).data.status, 'busy');
    await watcher.waitForPush((p) => p.event === 'agent_availability' && p.data.agent === 'off-b' && p.data.status === 'busy');
    const first = await newChat(VENDOR_B);
    const second = await newChat(VENDOR_B);
    await eventually(async () => (await chatDoc(first._id))?.assignee && (await chatDoc(second._id))?.assignee, 5000, 'both assigned');
    assert.deepEqual([(await chatDoc(first._id))?.assignee, (await chatDoc(second._id))?.assignee], ['off-a', 'off-a'], 'busy off-b is skipped');

    // off-a closes its only socket: after AGENT_OFFLINE_AFTER_MS (1.5 s here) on no pod it is offline.
    await a.close();
    await watcher.waitForPush((p) => p.event === 'agent_availability' && p.data.agent === 'off-a' && p.data.status === 'offline', 10_000);
    assert.equal((await b.request('set_availability', { status: 'online' })).data.status, 'online');
    const third = await newChat(VENDOR_B);
    await eventually(async () => (await chatDoc(third._id))?.assignee, 5000, 'third assigned');
    assert.equal((await chatDoc(third._id))?.assignee, 'off-b');
    // Its next socket restores what the server took away.
    const seen = watcher.pushes.length;
    const again = await connect('off-a');
    await eventually(async () => watcher.pushes.slice(seen).some((p) => p.event === 'agent_availability' && p.data.agent === 'off-a' && p.data.status === 'online'), 5000, 'off-a online again');
    assert.equal((await again.request('config', {})).data.availability, 'online');
  });

  it('assigns, reassigns and unassigns by hand; refuses what the chat\'s state does not take', async () => {
    await put('/api/inbox/teams/srdp', { name: 'SRDP', agents: ['man-a'], numbers: [SRDP_A] });
    const a = await connect('man-a');
    await a.request('set_availability', { status: 'busy' }); // nobody online: the chat stays unassigned
    const chat = await newChat(SRDP_A);
    const assigned = await a.request('assign_chat', { chat_id: chat._id, assignee: 'man-a' });
    assert.equal(assigned.data?.chat?.assignee, 'man-a', JSON.stringify(assigned.error));
    const other = await connect('man-b');
    const re = await other.request('assign_chat', { chat_id: chat._id, assignee: 'man-b' });
    assert.equal(re.data.chat.assignee, 'man-b');
    const un = await other.request('assign_chat', { chat_id: chat._id, assignee: null });
    assert.equal(un.data.chat.assignee, null);
    assert.ok(un.data.chat.waiting_since, 'back in the Unassigned queue');
    assert.equal((await a.request('assign_chat', { chat_id: chat._id, assignee: 'nobody-such' })).error?.code, 'NOT_FOUND');
    assert.equal((await a.request('set_chat_status', { chat_id: chat._id, status: 'pending' })).data.chat.status, 'pending');
    const stats = await fetch(`${app.url}/api/dashboard/stats`, { headers: { authorization: `Bearer ${adminToken}` } });
    assert.ok(((await stats.json()) as { data: { pending: number } }).data.pending >= 1, 'the pending count is real');
    await a.request('set_chat_status', { chat_id: chat._id, status: 'resolved' });
    const refused = await a.request('snooze_chat', { chat_id: chat._id });
    assert.equal(refused.error?.code, 'INVALID_TRANSITION');
    assert.equal((await a.request('snooze_chat', { chat_id: chat._id, until: Date.now() - 1000 })).error?.code, 'VALIDATION_FAILED');
  });

  it('snoozes until a time (a stored deadline) or until the customer writes', async () => {
    const a = await connect('snz-a');
    const chat = await newChat(SRDP_B);
    const until = Date.now() + 1500;
    const s = await a.request('snooze_chat', { chat_id: chat._id, until: new Date(until).toISOString() });
    assert.equal(s.data?.chat?.status, 'snoozed', JSON.stringify(s.error));
    assert.equal(s.data.chat.snoozed_until, new Date(until).toISOString());
    assert.equal(((await chatDoc(chat._id))?.deadline_at as Date).getTime(), until, 'the wake-up is a stored deadline');
    const woke = await a.waitForPush((p) => p.event === 'chat_status_updated' && p.data.chat_id === String(chat._id) && p.data.status === 'active', 10_000);
    assert.equal(woke.data.status_updated_by, 'snooze');
    assert.ok(Date.now() >= until);

    await a.request('snooze_chat', { chat_id: chat._id });
    assert.equal((await chatDoc(chat._id))?.state, 'snoozedUntilReply');
    await postWebhook(app.url, SRDP_B, textWebhook(`91${String(chat.customer)}`, 'hello again'));
    await eventually(async () => (await chatDoc(chat._id))?.status === 'active', 5000, 'woken by the customer');
  });

  it('keeps private notes from WhatsApp and tells the mentioned agent', async () => {
    const chat = await newChat(SRDP_B);
    const author = await connect('note-a', String(chat._id));
    const mentioned = await connect('note-b');
    const bystander = await connect('note-c');
    await new Promise((r) => setTimeout(r, 300)); // let the assignment's own sends (none) settle
    const before = fake.requests.length;
    const r = await author.request('send_note', { chat_id: chat._id, message: 'refund pending, @note-b please check' }, 'note-1');
    assert.equal(r.data?.message?.private, true, JSON.stringify(r.error));
    assert.equal(r.data.message.message_type, 'note');
    assert.deepEqual(r.data.message.mentions, ['note-b']);
    const again = await author.request('send_note', { chat_id: chat._id, message: 'refund pending, @note-b please check' }, 'note-1');
    assert.equal(again.data.message._id, r.data.message._id, 'a retried frame is stored once');
    const mention = await mentioned.waitForPush((p) => p.event === 'mention');
    assert.equal(mention.data.chat_id, String(chat._id));
    assert.equal(mention.data.by, 'note-a');
    await author.waitForPush((p) => p.event === 'new_message' && p.data.private === true);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(fake.requests.length, before, 'the fake Pinbot recorded nothing');
    assert.equal(bystander.pushes.filter((p) => p.event === 'mention').length, 0);
    const outbox = await app.store.collection('outbox').countDocuments({ chat_id: String(chat._id) });
    assert.equal(outbox, 0, 'no outbox record either');
  });

  it('adds and removes labels, filtered in the list and the counts', async () => {
    const chat = await newChat(SRDP_B);
    const a = await connect('lbl-a');
    assert.equal((await a.request('add_label', { chat_id: chat._id, label: 'refund' })).error?.code, 'NOT_FOUND', 'only labels of the catalogue');
    const defined = await fetch(`${app.url}/api/labels`, { method: 'POST', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'refund', color: '#aa3300' }) });
    assert.equal(defined.status, 200);
    assert.deepEqual((await a.request('add_label', { chat_id: chat._id, label: 'refund' })).data.chat.labels, ['refund']);
    const listed = await a.request('fetch_all_chats', { label: 'refund', page_size: 100 });
    assert.deepEqual((listed.data.chats as { chat_id: string }[]).map((x) => x.chat_id), [String(chat._id)]);
    assert.equal((await a.request('inbox_counts', { label: 'refund' })).data.all, 1);
    assert.deepEqual((await a.request('remove_label', { chat_id: chat._id, label: 'refund' })).data.chat.labels, []);
    assert.equal((await a.request('add_label', { chat_id: chat._id, label: 'bad\nlabel' })).error?.code, 'VALIDATION_FAILED');
  });

  it('shows an agent typing to the other viewers and to the customer at most every few seconds', async () => {
    const chat = await newChat(SRDP_B, 'are you there');
    const typist = await connect('typ-a', String(chat._id));
    const viewer = await connect('typ-b', String(chat._id));
    const before = fake.requests.length;
    await typist.request('typing', { chat_id: chat._id });
    await viewer.waitForPush((p) => p.event === 'agent_typing' && p.data.agent === 'typ-a');
    const [req] = (await fake.waitForRequests(before + 1)).slice(before);
    assert.deepEqual(req!.json, { messaging_product: 'whatsapp', status: 'read', message_id: (await chatDoc(chat._id))?.last_inbound_wa_id, typing_indicator: { type: 'text' } });
    await typist.request('typing', { chat_id: chat._id });
    await typist.request('typing', { chat_id: chat._id });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(fake.requests.length, before + 1, 'throttled: one indicator per chat in TYPING_INDICATOR_MIN_MS');
    assert.equal((await typist.request('typing', { chat_id: 'no-such-chat' })).error?.code, 'NOT_FOUND');
  });

  it('asks for a rating with reply buttons on resolve and records the customer\'s tap', async () => {
    const chat = await newChat(SRDP_B, 'cab late');
    const a = await connect('csat-a', String(chat._id));
    const before = fake.requests.length;
    const r = await a.request('set_chat_status', { chat_id: chat._id, status: 'resolved' });
    assert.equal(r.data?.chat?.status, 'resolved', JSON.stringify(r.error));
    assert.equal(r.data.chat.state, 'rating');
    const sent = await eventually(async () => fake.requests.slice(before).find((q) => (q.json as { type?: string }).type === 'interactive'), 5000, 'the CSAT question at the fake Pinbot');
    const interactive = (sent.json as { interactive: { type: string; action: { buttons: { reply: { id: string; title: string } }[] } } }).interactive;
    assert.equal(interactive.type, 'button');
    assert.deepEqual(interactive.action.buttons.map((x) => x.reply.id), ['csat:1:3', 'csat:1:2', 'csat:1:1']);
    assert.equal((sent.json as { to: string }).to, `91${String(chat.customer)}`);

    await postWebhook(app.url, SRDP_B, buttonReplyWebhook(`91${String(chat.customer)}`, 'csat:1:3', 'Good'));
    const rated = await a.waitForPush((p) => p.event.startsWith('room_update') && p.data.chat_id === String(chat._id) && p.data.csat?.status === 'rated');
    assert.equal(rated.data.csat.score, 3);
    assert.equal(rated.data.status, 'resolved', 'the tap does not reopen the chat');
    const conversation = await eventually(() => app.store.collection('conversations').findOne({ chat_id: String(chat._id), csat_score: 3 }), 5000, 'rating in the conversation log');
    assert.ok(conversation.csat_asked_at);
  });
});

describe('team inbox: a snooze across a restart', () => {
  it('wakes at its time on the next process, from the stored deadline', async () => {
    const env = { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('snooze'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('snooze')}:` };
    const first = await startTestApp(env);
    const number = '919811122233';
    await postWebhook(first.url, '8000247247', textWebhook(number, 'wake me'));
    const chat = await eventually(() => first.store.collection('chats').findOne({ customer: number.slice(2) }), 5000, 'chat');
    const agent = await AgentClient.connect(first.url, 'restart-a');
    const until = Date.now() + 2500;
    assert.equal((await agent.request('snooze_chat', { chat_id: chat._id, until })).data?.chat?.status, 'snoozed');
    await agent.close();
    await first.stop();
    const second = await startTestApp(env);
    try {
      const woke = await eventually(async () => {
        const d = await second.store.collection('chats').findOne({ _id: String(chat._id) });
        return d?.status === 'active' ? d : null;
      }, 15_000, 'woken by the next process');
      assert.equal(woke.status_updated_by, 'snooze');
      assert.ok(Date.now() >= until);
    } finally {
      await second.stop();
    }
  });
});
