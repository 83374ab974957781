/** An effect that always fails is dead-lettered and its chat moves on (DESIGN.md decision 8), on real Redis and the MongoDB-compatible server. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const CUSTOMER_CHANNEL = '8000247247';
const MARKER = 'this message cannot be stored';

interface DeadLetterOut {
  at: string;
  event: string;
  effect: { type: string; message?: { body?: { text?: string } } };
  error: string;
  attempts: number;
}

describe('an effect that always fails', () => {
  let app: TestApp;
  const refused: string[] = [];

  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('dead'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('dead')}:` });
    // Every handle on `messages` inserts through the store's one batcher for it: refuse the marker's
    // document there, as a server rejecting that one document would. Everything else reaches MongoDB.
    const batcher = (app.store as MongoStore).inserts('messages');
    const insert = batcher.insert.bind(batcher);
    batcher.insert = (doc) => {
      if (doc.message !== MARKER) return insert(doc);
      refused.push(String(doc._id));
      return Promise.reject(new Error('document refused by the test for its marker text'));
    };
  });
  after(() => app.stop());

  it('is dead-lettered, shown on the actor and counted, and the next 100 webhooks of that chat are applied in order', async () => {
    const customer = '9800000101';
    const post = async (text: string, id?: string) => {
      const res = await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook(`91${customer}`, text, id ? { id } : {}));
      assert.equal(res.status, 200, text);
    };
    const messages = async () => {
      const chat = await app.store.collection('chats').findOne({ customer });
      return chat ? app.store.collection('messages').find({ chat_id: chat._id }, { sort: { seq: 1 } }) : [];
    };

    await post('first');
    await eventually(async () => (await messages()).length === 1, 5000, 'the first message stored');
    await post(MARKER, 'wamid.dead-letter.marker');
    const later = Array.from({ length: 100 }, (_, i) => `after-${i}`);
    for (const text of later) await post(text);

    const stored = await eventually(async () => {
      const m = await messages();
      return m.length === 101 ? m : undefined;
    }, 30_000, 'the 100 later messages stored');
    assert.deepEqual(stored.map((m) => m.message), ['first', ...later], 'every later message applied, in the order acknowledged');
    assert.deepEqual(stored.map((m) => m.seq), [1, ...later.map((_, i) => i + 3)], 'the marker kept its place (seq 2) in the chat');
    assert.equal(refused.length, app.config.EFFECT_ATTEMPTS, 'the failing insert was attempted EFFECT_ATTEMPTS times (default 5), then given up');
    // Applied marks are written in batches just after delivery settles.
    await eventually(async () => (await app.store.collection('inbox').countDocuments({ state: { $ne: 'applied' } })) === 0, 5000, 'every webhook marked applied');

    const res = await fetch(`${app.url}/api/actors/chat/${customer}`, { headers: { authorization: `Bearer ${signToken({ sub: 'lead' }, TEST_JWT_SECRET)}` } });
    assert.equal(res.status, 200);
    const { data } = (await res.json()) as { data: { state: string; context: { lastSeq: number }; dead_letters: DeadLetterOut[] } };
    assert.equal(data.state, 'active');
    assert.equal(data.context.lastSeq, 102);
    assert.equal(data.dead_letters.length, 1);
    const [letter] = data.dead_letters;
    assert.equal(letter!.event, 'msg:wamid.dead-letter.marker');
    assert.equal(letter!.effect.type, 'message.appended');
    assert.equal(letter!.effect.message?.body?.text, MARKER);
    assert.equal(letter!.attempts, app.config.EFFECT_ATTEMPTS);
    assert.match(letter!.error, /refused by the test for its marker text/);
    assert.ok(Math.abs(Date.parse(letter!.at) - Date.now()) < 60_000, `at is an ISO time, was ${letter!.at}`);

    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /# TYPE actor_effects_dead_lettered_total counter/);
    assert.match(metrics, /^actor_effects_dead_lettered_total\{[^}]*kind="chat"[^}]*\} 1$/m);
    assert.match(metrics, /^actor_effects_dead_lettered_total\{[^}]*kind="discount"[^}]*\} 0$/m);

    const logged = app.logs.filter((l) => l.msg === 'effect dead-lettered after its last attempt');
    assert.deepEqual(logged.map((l) => [l.level, l.actor, l.effect]), [['error', `chat/Customer:${customer}`, 'message.appended']]);
  });
});
