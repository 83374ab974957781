/**
 * The discount bot is not an agent's chat: its conversations stay out of the agents' lists and counts
 * until it hands the customer to people (its care path, or the customer asks for a person); a partner
 * who writes to the bot stays a Partner.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { AgentClient, type Frame } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const DISCOUNT = '9638120888';
const PARTNER = '9099039188';

describe('discount bot conversations and the agents', () => {
  let app: TestApp;
  let pinbot: FakePinbot;
  let dash: AgentClient;

  const stats = async () => {
    const res = await fetch(`${app.url}/api/dashboard/stats`, { headers: { authorization: `Bearer ${signToken({ sub: 'agent-1' }, TEST_JWT_SECRET)}` } });
    return ((await res.json()) as { data: { active: number; resolved: number } }).data;
  };
  const list = async (data: Record<string, unknown>) => ((await dash.request('fetch_all_chats', { page_size: 100, ...data })).data as { chats: Record<string, unknown>[] }).chats;
  const chatOf = (customer: string) => app.store.collection('chats').findOne({ customer });
  /** Posts a text to `channel` and waits until Pinbot has received `expect` more requests (and no more). */
  async function say(channel: string, from: string, text: string, expect: number): Promise<void> {
    const before = pinbot.requests.length;
    assert.equal((await postWebhook(app.url, channel, textWebhook(from, text, { name: 'Ravi' }))).status, 200);
    await pinbot.waitForRequests(before + expect, 8000);
    await eventually(async () => (await app.store.collection('inbox').countDocuments({ state: 'pending' })) === 0, 8000, 'inbox applied');
    await new Promise((r) => setTimeout(r, 200)); // nothing more than expected arrives
    assert.equal(pinbot.requests.length, before + expect, `Pinbot requests after "${text}"`);
  }

  before(async () => {
    pinbot = await startFakePinbot();
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('handover'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('handover')}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'key-one', WA_API_KEY_2: 'key-two',
    });
    dash = await AgentClient.connect(app.url, 'agent-1');
  });
  after(async () => {
    await dash.close();
    await app.stop();
    await pinbot.close();
  });

  it('keeps a conversation only the bot has had out of every list, the Active count and the dashboards; the Discount_Bot filter shows it', async () => {
    const before = await stats();
    await say(DISCOUNT, '919822000001', 'Need Discount Code - Pune to Mumbai Airport @ 2199', 2);
    assert.equal((await chatOf('9822000001'))?.status, 'bot');
    assert.deepEqual(await stats(), before, 'not counted');
    for (const filter of [{}, { status: 'active' }, { status: 'resolved' }, { customer_type: 'Customer' }, { search: '98220' }]) {
      assert.ok(!(await list(filter)).some((c) => c.customer === '9822000001'), `not listed for ${JSON.stringify(filter)}`);
    }
    assert.ok(!dash.pushes.some((f: Frame) => f.event.startsWith('room_update') && f.data.customer === '9822000001'), 'no dashboard push');
    const bots = await list({ search: 'Discount_Bot' });
    const mine = bots.find((c) => c.customer === '9822000001');
    assert.equal(mine?.status, 'bot');
    assert.equal(mine?.unseen_count, 1, "the customer's message; the bot's two replies are not unseen");
    assert.ok(bots.every((c) => c.status === 'bot'));
    assert.ok(((await dash.request('config', {})).data.special_filters as string[]).includes('Discount_Bot'));
  });

  it('shows the handover as a state of the discount machine', async () => {
    const json = (await (await fetch(`${app.url}/api/machines/discount`)).json()) as { machine: { states: { conversation: { states: Record<string, unknown> } } } };
    assert.ok('handedOver' in json.machine.states.conversation.states);
  });

  it('hands over on the care path: the chat joins Active, counted once and pushed, with the bot conversation as its history', async () => {
    const before = await stats();
    await say(DISCOUNT, '919822000001', 'what is this?', 2); // care message + contact card
    const chat = await chatOf('9822000001');
    assert.equal(chat?.status, 'active');
    assert.equal(chat?.customer_type, 'Customer');
    assert.equal((await stats()).active, before.active + 1);
    const pushed = await dash.waitForPush((f) => f.event === 'room_update_customer' && f.data.customer === '9822000001' && f.data.status === 'active');
    assert.equal(pushed.data.status, 'active');
    const listed = (await list({ status: 'active' })).find((c) => c.customer === '9822000001');
    assert.equal(listed?.unseen_count, 2, "the customer's two messages, not the bot's four");
    const history = (await dash.request('fetch_chats_by_user', { chat_id: String(chat?._id), page_size: 100 })).data.messages as { type: string; sender: string }[];
    assert.deepEqual(history.map((m) => m.sender).reverse(), ['9822000001', 'discount-bot', 'discount-bot', '9822000001', 'discount-bot', 'discount-bot']);
    await say(DISCOUNT, '919822000001', 'hello??', 0); // people have it: the bot stays quiet
    assert.equal((await stats()).active, before.active + 1, 'counted once');
  });

  it('hands over when the customer asks for a person (Hinglish), with a short notice, and agents answer from the discount number', async () => {
    await say(DISCOUNT, '919822000002', 'mujhe kisi agent se baat karni hai', 1);
    const notice = pinbot.requests.at(-1)!.json as { text: { body: string } };
    assert.match(notice.text.body, /team member will reply/);
    const chat = await chatOf('9822000002');
    assert.equal(chat?.status, 'active');
    const before = pinbot.requests.length;
    const reply = await dash.request('send_message', { chat_id: String(chat?._id), message: 'Hi Ravi, how can I help?' });
    assert.equal(reply.event, 'send_message');
    const sent = await pinbot.waitForRequests(before + 1, 8000);
    assert.equal(sent.at(-1)?.headers.wanumber, '919638120888');
  });

  it('reopens a chat agents resolved when the customer, handed over, writes to the bot again', async () => {
    const before = pinbot.requests.length;
    const resolved = await dash.request('update_chat_status', { customer_number: '9822000002', status: 'resolved' });
    assert.equal(resolved.data.chat.status, 'resolved');
    // Resolved inside the 24-hour window: the CSAT question goes out first.
    const [question] = (await pinbot.waitForRequests(before + 1, 8000)).slice(before);
    assert.equal((question!.json as { type: string }).type, 'interactive');
    await say(DISCOUNT, '919822000002', 'one more thing', 0);
    assert.equal((await chatOf('9822000002'))?.status, 'active');
  });

  it('keeps one chat per number per stakeholder type: a partner who writes to the bot stays a Partner in the partner chat, and the bot talks in a separate Customer chat', async () => {
    await say(PARTNER, '919822000009', 'my trip payment is pending', 0);
    const partnerBefore = await app.store.collection('chats').findOne({ customer: '9822000009', customer_type: 'Partner' });
    const before = await stats();
    await say(DISCOUNT, '919822000009', 'Need Discount Code - Pune to Mumbai Airport @ 2199', 2);
    const chats = await app.store.collection('chats').find({ customer: '9822000009' });
    assert.deepEqual(chats.map((c) => c.customer_type).sort(), ['Customer', 'Partner'], 'one chat per number per type');
    const partner = chats.find((c) => c.customer_type === 'Partner')!;
    assert.equal(partner._id, partnerBefore?._id);
    assert.equal(partner.channel, PARTNER);
    assert.equal(partner.status, 'active');
    assert.equal(partner.last_seq, partnerBefore?.last_seq, 'the bot conversation is not in the partner chat');
    const bot = chats.find((c) => c.customer_type === 'Customer')!;
    assert.equal(bot.status, 'bot');
    assert.equal(bot.channel, DISCOUNT);
    assert.deepEqual(await stats(), before, 'the bot chat counts for nobody');
    const sentBefore = pinbot.requests.length;
    await dash.request('send_message', { chat_id: String(partner._id), message: 'Payment released.' });
    const sent = await pinbot.waitForRequests(sentBefore + 1, 8000);
    assert.equal(sent.at(-1)?.headers.wanumber, '919099039188');
  });
});
