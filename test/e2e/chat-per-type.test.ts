/**
 * One chat per phone number per stakeholder type: a number that writes to a
 * partner number and to a customer number has two chats, each in its type's
 * list, each with its own replies, delivery statuses and status; a store
 * from before (one unique chat per number) is migrated at start-up.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MongoClient } from 'mongodb';
import { signToken } from '../../src/infra/jwt.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, statusWebhook, textWebhook } from '../support/webhooks.ts';

const PARTNER = '9099039188';
const CUSTOMER = '8000247247';
const NUMBER = '9830000001';

describe('one chat per phone number per stakeholder type', () => {
  let app: TestApp;
  let pinbot: FakePinbot;
  let agent: AgentClient;
  const db = uniqueName('pertype');

  const chatsOf = (customer: string) => app.store.collection('chats').find({ customer });
  const chatOfType = async (type: string) => (await chatsOf(NUMBER)).find((c) => c.customer_type === type);
  const inspect = (query: string) => fetch(`${app.url}/api/actors/chat/${NUMBER}${query}`, { headers: { authorization: `Bearer ${signToken({ sub: 'lead' }, TEST_JWT_SECRET)}` } });

  before(async () => {
    // A database as the previous version left it: one chat per number, enforced by a unique index.
    const client = await MongoClient.connect(testMongoUrl());
    try {
      await client.db(db).collection('chats').createIndex({ customer: 1 }, { name: 'customer_unique', unique: true });
    } finally {
      await client.close();
    }
    pinbot = await startFakePinbot();
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: db, REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${db}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'key-one', WA_API_KEY_2: 'key-two',
    });
    agent = await AgentClient.connect(app.url, 'agent-1');
  });
  after(async () => {
    await agent?.close();
    await app?.stop();
    await pinbot?.close();
  });

  it('drops the old one-chat-per-number index at start-up', async () => {
    const client = await MongoClient.connect(testMongoUrl());
    try {
      const names = (await client.db(db).collection('chats').listIndexes().toArray()).map((i) => i.name);
      assert.ok(!names.includes('customer_unique'), names.join(', '));
      assert.ok(names.includes('customer_type_unique'), names.join(', '));
    } finally {
      await client.close();
    }
  });

  it('gives a number that writes to a partner number and to a customer number two chats, each in its own list', async () => {
    assert.equal((await postWebhook(app.url, PARTNER, textWebhook(`91${NUMBER}`, 'payout pending', { name: 'Ravi' }))).status, 200);
    assert.equal((await postWebhook(app.url, CUSTOMER, textWebhook(`91${NUMBER}`, 'need a cab to Pune', { name: 'Ravi' }))).status, 200);
    const chats = await eventually(async () => {
      const found = await chatsOf(NUMBER);
      return found.length === 2 && found.every((c) => c.last_seq === 1) ? found : null;
    }, 8000, 'two chats');
    assert.deepEqual(chats.map((c) => [c.customer_type, c.last_message, c.status]).sort(), [
      ['Customer', 'need a cab to Pune', 'active'],
      ['Partner', 'payout pending', 'active'],
    ]);
    const list = async (type: string) => ((await agent.request('fetch_all_chats', { customer_type: type, search: NUMBER })).data as { chats: { _id: string }[] }).chats.map((c) => c._id);
    assert.deepEqual(await list('Partner'), [String((await chatOfType('Partner'))?._id)]);
    assert.deepEqual(await list('Customer'), [String((await chatOfType('Customer'))?._id)]);
  });

  it("replies from each chat's own number, and a delivery status reaches the chat of the number that sent it", async () => {
    // The partner number's URL is shared (it names the number in `wanumber`); the customer number's v3 URL is its own.
    for (const [type, sender, waId] of [['Partner', '/v2/messages 919099039188', 'wamid.partner.1'], ['Customer', '/v3/687960561072454/messages -', 'wamid.customer.1']] as const) {
      pinbot.script({ status: 200, body: { messages: [{ id: waId }] } });
      const before = pinbot.requests.length;
      const chat = await chatOfType(type);
      await agent.request('send_message', { chat_id: String(chat?._id), message: `hello ${type}` });
      const sent = await pinbot.waitForRequests(before + 1, 8000);
      assert.equal(`${sent.at(-1)?.path} ${sent.at(-1)?.headers.wanumber ?? '-'}`, sender);
      await eventually(() => app.store.collection('messages').findOne({ chat_id: chat?._id, wa_message_id: waId }), 8000, `${type} reply stored with its WhatsApp id`);
    }
    // The same number's statuses arrive on each channel's webhook: each lands on its own chat's message.
    await postWebhook(app.url, PARTNER, statusWebhook(`91${NUMBER}`, 'wamid.partner.1', 'read'));
    await postWebhook(app.url, CUSTOMER, statusWebhook(`91${NUMBER}`, 'wamid.customer.1', 'delivered'));
    const partnerMsg = await eventually(() => app.store.collection('messages').findOne({ wa_message_id: 'wamid.partner.1', delivery_status: 'read' }), 8000, 'partner status');
    const customerMsg = await eventually(() => app.store.collection('messages').findOne({ wa_message_id: 'wamid.customer.1', delivery_status: 'delivered' }), 8000, 'customer status');
    assert.equal(partnerMsg.chat_id, (await chatOfType('Partner'))?._id);
    assert.equal(customerMsg.chat_id, (await chatOfType('Customer'))?._id);
  });

  it('resolves, searches and inspects the chat of the type asked for; without a type, the one with the latest activity', async () => {
    const resolved = await agent.request('update_chat_status', { customer_number: NUMBER, customer_type: 'Partner', status: 'resolved' });
    assert.equal(resolved.data.chat.customer_type, 'Partner');
    assert.equal(resolved.data.chat.status, 'resolved');
    assert.equal((await chatOfType('Customer'))?.status, 'active', 'the other chat is untouched');

    assert.equal((await agent.request('search_chat', { customer: NUMBER, customer_type: 'Partner' })).data.chat.customer_type, 'Partner');
    // The Customer chat had the last message (the Customer reply was sent after the Partner one).
    assert.equal((await agent.request('search_chat', { customer: NUMBER })).data.chat.customer_type, 'Customer');

    const partner = (await (await inspect('?customer_type=Partner')).json()) as { data: { state: string; context: { customerType: string } } };
    // Resolved inside the 24-hour window: the chat awaits the CSAT rating (listed as resolved).
    assert.deepEqual([partner.data.state, partner.data.context.customerType], ['rating', 'Partner']);
    const customer = (await (await inspect('')).json()) as { data: { state: string; context: { customerType: string } } };
    assert.deepEqual([customer.data.state, customer.data.context.customerType], ['active', 'Customer']);
    assert.equal((await inspect('?customer_type=Vendor')).status, 404);
    assert.equal((await inspect('?customer_type=Driver')).status, 400);
  });

  it("opens an agent's new chat of another type beside the existing one, never converting it", async () => {
    const opened = await agent.request('new_chat', { customer: NUMBER, customer_type: 'Vendor' });
    assert.equal(opened.data.chat.customer_type, 'Vendor');
    assert.deepEqual((await chatsOf(NUMBER)).map((c) => c.customer_type).sort(), ['Customer', 'Partner', 'Vendor']);
    const again = await agent.request('new_chat', { customer: NUMBER, customer_type: 'Partner' });
    assert.equal(again.data.chat._id, String((await chatOfType('Partner'))?._id), 'the existing Partner chat, not a new one');
  });
});
