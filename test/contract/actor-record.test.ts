/**
 * The chat and discount kinds store what the host holds: on both drivers the
 * stored record equals the host's copy past the bounds of its lists (applied
 * ids, transitions), and a redelivery read back by another host is recognised.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { ActorEvent } from '../../src/actors/runtime/actor-kind.ts';
import { chatKind } from '../../src/actors/chat/chat.kind.ts';
import { discountKind } from '../../src/actors/discount/discount.kind.ts';
import { ActorHost } from '../../src/actors/runtime/actor-host.ts';
import type { ChatEvent } from '../../src/machines/chat.machine.ts';
import type { DiscountEvent } from '../../src/machines/discount.machine.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import type { DocumentStore } from '../../src/infra/store/store.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const log = pino({ level: 'silent' });
const WINDOW = 8;
const noEffects = async () => {};
const T0 = Date.now();

function message(i: number): ActorEvent {
  const event: ChatEvent = { type: 'CUSTOMER_MESSAGE', id: `msg:wamid.${i}`, at: T0 + i, channel: '8000247247', customerType: 'Customer', body: { kind: 'text', text: `message ${i}` } };
  return event;
}

function unrecognised(i: number): ActorEvent {
  const event: DiscountEvent = { type: 'UNRECOGNISED', id: `discount:${i}`, at: T0 + i, text: `hello ${i}` };
  return event;
}

for (const [driver, open] of [
  ['memory', async () => new MemoryStore()],
  ['mongodb', () => MongoStore.connect({ url: testMongoUrl(), dbName: uniqueName('records') })],
] as const) {
  describe(`actor records as stored: ${driver}`, () => {
    let store: DocumentStore;
    before(async () => {
      store = await open();
    });
    after(async () => {
      await store.dropAll();
      await store.close();
    });

    it('a chat record equals the host’s copy after more events than its lists keep', async () => {
      const kind = chatKind(store, noEffects);
      const host = new ActorHost([kind], { log, idleMs: 60_000, appliedWindow: WINDOW });
      for (let i = 0; i < 30; i++) await host.send('chat', '9800000001', message(i));
      const resident = await host.inspect('chat', '9800000001');
      const stored = await kind.load('9800000001');
      assert.deepEqual(stored, resident);
      assert.deepEqual(stored?.applied, Array.from({ length: WINDOW }, (_, i) => `msg:wamid.${22 + i}`));
      assert.equal(stored?.history.length, 20);
      assert.equal(stored?.history.at(-1)?.at, T0 + 29);
      const doc = await store.collection('chats').findOne({ customer: '9800000001' });
      assert.equal(doc?.last_message, 'message 29', 'summary fields are written with the record');
      await host.stop();

      // A fresh host (another pod, a restart) reads the stored record: a recent id is a duplicate, an old one is not remembered.
      const next = new ActorHost([kind], { log, idleMs: 60_000, appliedWindow: WINDOW });
      assert.equal((await next.send('chat', '9800000001', message(29))).duplicate, true);
      assert.equal((await next.send('chat', '9800000001', message(30))).duplicate, false);
      assert.deepEqual(await kind.load('9800000001'), await next.inspect('chat', '9800000001'));
      await next.stop();
    });

    it('a discount record (deadlines, effects) equals the host’s copy too', async () => {
      const kind = discountKind(store, { idleTimeoutMs: 60_000, execute: noEffects });
      const host = new ActorHost([kind], { log, idleMs: 60_000, appliedWindow: WINDOW });
      for (let i = 0; i < 12; i++) await host.send('discount', '9800000002', unrecognised(i));
      const stored = await kind.load('9800000002');
      assert.deepEqual(stored, await host.inspect('discount', '9800000002'));
      assert.equal(stored?.applied.length, WINDOW);
      assert.ok(stored && stored.deadlines.length > 0 && stored.pending.length > 0, 'the idle deadline and the last effects are stored');
      await host.stop();
    });
  });
}
