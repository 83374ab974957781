/** The discount conversation through the webhook endpoint, with the exact requests the fake Pinbot receives. */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot, type RecordedRequest } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook } from '../support/webhooks.ts';

const DISCOUNT = '9638120888';
let n = 0;

/** A Meta webhook from `from` on the discount number: text, a template button, an interactive reply, or an image. */
function inbound(from: string, m: { text?: string; button?: { text: string; payload: string }; reply?: { id: string; title: string }; image?: boolean }): object {
  const id = `wamid.discount.${Date.now()}.${++n}`;
  const base = { from, id, timestamp: String(Math.floor(Date.now() / 1000)) };
  const message = m.button
    ? { ...base, type: 'button', button: m.button }
    : m.reply
      ? { ...base, type: 'interactive', interactive: { type: 'button_reply', button_reply: m.reply } }
      : m.image
        ? { ...base, type: 'image', image: { id: 'media-1', mime_type: 'image/jpeg', sha256: 'x' } }
        : { ...base, type: 'text', text: { body: m.text ?? '' } };
  return {
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: { messaging_product: 'whatsapp', metadata: { display_phone_number: '919638120888', phone_number_id: '1' }, contacts: [{ profile: { name: 'Ravi' }, wa_id: from }], messages: [message] } }] }],
  };
}

describe('discount conversation end to end', () => {
  let app: TestApp;
  let pinbot: FakePinbot;
  let seen = 0;

  /** Posts on the discount channel and returns the Pinbot requests it caused (`expect` of them). */
  async function say(from: string, m: Parameters<typeof inbound>[1], expect: number): Promise<RecordedRequest[]> {
    assert.equal((await postWebhook(app.url, DISCOUNT, inbound(from, m))).status, 200);
    const all = await pinbot.waitForRequests(seen + expect, 8000);
    await new Promise((r) => setTimeout(r, 150)); // nothing more than expected arrives
    assert.equal(pinbot.requests.length, seen + expect, `requests after ${JSON.stringify(m)}`);
    const mine = all.slice(seen);
    seen += expect;
    return mine;
  }

  before(async () => {
    pinbot = await startFakePinbot();
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('discount'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('discount')}:`,
      PINBOT_ORIGIN: pinbot.origin, PINBOT_V3_ORIGIN: pinbot.origin, WA_API_KEY_1: 'key-one', WA_API_KEY_2: 'key-two',
      DISCOUNT_IDLE_TIMEOUT_MS: '1500',
    });
  });
  beforeEach(() => {
    seen = pinbot.requests.length;
  });
  after(async () => {
    await app.stop();
    await pinbot.close();
  });

  it('offers a matched route: the discount text, then the app link, to the discount number', async () => {
    const [text, cta] = await say('919811000001', { text: 'need discount code - PUNE to mumbai airport @ ₹2199' }, 2);
    for (const r of [text!, cta!]) {
      assert.equal(r.method, 'POST');
      assert.equal(r.path, '/v2/messages');
      assert.equal(r.headers.apikey, 'key-one');
      assert.equal(r.headers.wanumber, '919638120888');
    }
    const t = text!.json as { messaging_product: string; recipient_type: string; to: string; type: string; text: { body: string } };
    assert.deepEqual([t.messaging_product, t.recipient_type, t.to, t.type], ['whatsapp', 'individual', '919811000001', 'text']);
    assert.match(t.text.body, /TRUST4111/);
    assert.match(t.text.body, /Pune ➜ Mumbai Airport @ ₹2199/);
    assert.match(t.text.body, /Inter-City Experts/);
    const c = cta!.json as { type: string; interactive: { type: string; action: { name: string; parameters: { url: string } } } };
    assert.equal(c.type, 'interactive');
    assert.equal(c.interactive.type, 'cta_url');
    assert.equal(c.interactive.action.parameters.url, 'https://oneway.cab/app');
  });

  it('sends the code on "Yes, Send Discount Code", once for a repeated press', async () => {
    const [code] = await say('919811000001', { button: { text: 'Yes, Send Discount Code', payload: 'Yes, Send Discount Code' } }, 1);
    const c = code!.json as { interactive: { type: string; body: { text: string }; action: { parameters: { url: string } } } };
    assert.equal(c.interactive.type, 'cta_url');
    assert.match(c.interactive.body.text, /TRUST4111/);
    await say('919811000001', { button: { text: 'Yes, Send Discount Code', payload: 'Yes, Send Discount Code' } }, 0);
  });

  it('asks why on "I don\'t need discount" and logs the reason pressed', async () => {
    const [ask] = await say('919811000002', { button: { text: "I don't need discount", payload: "I don't need discount" } }, 1);
    const a = ask!.json as { interactive: { type: string; action: { buttons: { reply: { id: string; title: string } }[] } } };
    assert.equal(a.interactive.type, 'button');
    assert.deepEqual(a.interactive.action.buttons.map((b) => [b.reply.id, b.reply.title]), [['bad_service', 'Bad Service'], ['prices_high', 'Prices are High'], ['other', 'Other Reason']]);
    await say('919811000002', { reply: { id: 'prices_high', title: 'Prices are High' } }, 0);
    const log = await eventually(() => app.store.collection('no_discount_log').findOne({ sender: '9811000002' }));
    assert.equal(log.text, 'prices_high');
    assert.ok(log.created_at instanceof Date);
  });

  it('answers anything else with the care message and the OneWay.Cab contact card', async () => {
    const [care, card] = await say('919811000003', { text: 'hello, is anyone there?' }, 2);
    assert.match((care!.json as { text: { body: string } }).text.body, /automated number/i);
    const contacts = (card!.json as { type: string; contacts: { emails: { email: string }[]; org: { company: string }; urls: { url: string }[] }[] });
    assert.equal(contacts.type, 'contacts');
    assert.equal(contacts.contacts[0]?.emails[0]?.email, 'care@oneway.cab');
    assert.equal(contacts.contacts[0]?.org.company, 'OneWay.Cab');
    assert.equal(contacts.contacts[0]?.urls[0]?.url, 'https://oneway.cab/');
  });

  it('answers media with the text-only notice (and keeps the media, downloaded through Pinbot)', async () => {
    const reqs = await say('919811000004', { image: true }, 2);
    const notice = reqs.find((r) => r.method === 'POST');
    assert.match((notice!.json as { text: { body: string } }).text.body, /only text/i);
    const download = reqs.find((r) => r.method === 'GET');
    assert.equal(download?.path, '/v1/downloadmedia/media-1');
    assert.equal(download?.headers.apikey, 'key-one');
  });

  it('gives a disabled route the care path', async () => {
    const templates = app.store.collection('discount_code_template');
    await templates.updateOne({ _id: 'pune-mumbai' }, { $set: { enabled: false } });
    app.actors.catalogue.invalidate();
    try {
      const [care] = await say('919811000005', { text: 'Need Discount Code - Pune to Mumbai @ 2199' }, 2);
      assert.match((care!.json as { text: { body: string } }).text.body, /automated number/i);
    } finally {
      await templates.updateOne({ _id: 'pune-mumbai' }, { $set: { enabled: true } });
      app.actors.catalogue.invalidate();
    }
  });

  it('never sends a placeholder code: a route the spec gives no code for takes the care path, even left enabled by an older seed', async () => {
    const templates = app.store.collection('discount_code_template');
    assert.equal((await templates.findOne({ _id: 'nashik-mumbai-airport' }))?.enabled, false, 'seeded disabled');
    const asked = await say('919811000006', { text: 'Need Discount Code - Nashik to Mumbai Airport @ 1999' }, 2);
    await templates.updateOne({ _id: 'nashik-mumbai-airport' }, { $set: { enabled: true } }); // as seeds before this fix left it
    app.actors.catalogue.invalidate();
    // New numbers: after the care path hands a customer over, the bot stays quiet for them.
    const again = await say('919811000016', { text: 'Need Discount Code - Nashik to Mumbai Airport @ 1999' }, 2);
    const named = await say('919811000026', { button: { text: 'Yes, Send Discount Code', payload: 'yes_send_code:nashik-mumbai-airport' } }, 2);
    for (const r of [...asked, ...again, ...named]) assert.doesNotMatch(JSON.stringify(r.json), /SAMPLE/i);
    assert.match((asked[0]!.json as { text: { body: string } }).text.body, /automated number/i);
  });

  it('records a decline left without a reason as `none` once the conversation times out', async () => {
    await say('919811000007', { button: { text: "I don't need discount", payload: "I don't need discount" } }, 1);
    const log = await eventually(() => app.store.collection('no_discount_log').findOne({ sender: '9811000007' }), 8000, 'the unexplained decline logged');
    assert.equal(log.text, 'none');
    assert.equal((await app.store.collection('no_discount_log').find({ sender: '9811000007' })).length, 1);
    // The reason pressed after the conversation ended explains that decline: its row, not a second one.
    await say('919811000007', { reply: { id: 'bad_service', title: 'Bad Service' } }, 0);
    const rows = await eventually(async () => {
      const all = await app.store.collection('no_discount_log').find({ sender: '9811000007' });
      return all.length === 1 && all[0]?.text === 'bad_service' && all;
    }, 8000, 'the none replaced by the reason');
    assert.equal(rows.length, 1);
  });

  it('stores the conversation as a chat agents can read, bot replies included', async () => {
    const chat = await app.store.collection('chats').findOne({ customer: '9811000001' });
    const messages = await app.store.collection('messages').find({ chat_id: chat!._id }, { sort: { seq: 1 } });
    assert.deepEqual(messages.map((m) => m.type), ['Customer', 'Agent', 'Agent', 'Customer', 'Agent', 'Customer']);
    assert.equal(messages[1]?.sender, 'discount-bot');
  });

  it('ends the conversation after the idle timeout, visible on the actor, and starts again later', async () => {
    const token = `Bearer ${signToken({ sub: 'product' }, TEST_JWT_SECRET)}`;
    const state = async () => ((await (await fetch(`${app.url}/api/actors/discount/9811000001`, { headers: { authorization: token } })).json()) as { data: { state: unknown; transitions: { event: string }[] } }).data;
    await eventually(async () => JSON.stringify((await state()).state) === '"ended"', 8000, 'timed out');
    const s = await state();
    assert.ok(s.transitions.some((t) => t.event.startsWith('xstate.after.IDLE_TIMEOUT')));
    const [text] = await say('919811000001', { text: 'Need Discount Code - Pune to Mumbai @ 2199' }, 2);
    assert.match((text!.json as { text: { body: string } }).text.body, /Pune to Mumbai\b/);
  });
});
