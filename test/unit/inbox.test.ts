/** The durable inbox's bookkeeping: applied marks written in batches, old applied items pruned, the backlog bounded. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ChatService } from '../../src/actors/chat/chat-service.ts';
import { Inbox, type InboxItem } from '../../src/actors/inbound/inbox.ts';
import { channelById } from '../../src/domain/channels.ts';
import { parseWebhook } from '../../src/domain/webhook.ts';
import { AppError } from '../../src/infra/errors.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';
import type { Collection, DocumentStore } from '../../src/infra/store/store.ts';
import { eventually, textWebhook } from '../support/webhooks.ts';

const log = pino({ level: 'silent' });
const item = (i: number): InboxItem => ({ id: `msg:${i}`, kind: 'chat', key: `98765${String(i % 7).padStart(5, '0')}`, event: { type: 'CUSTOMER_MESSAGE', id: `msg:${i}`, at: i } });

/** The memory store, counting the write calls made on `inbox`. */
function countingStore(): { store: DocumentStore; writes: { updateOne: number; updateMany: number } } {
  const store = new MemoryStore();
  const writes = { updateOne: 0, updateMany: 0 };
  const inner = store.collection('inbox');
  const counted: Collection = Object.assign(Object.create(inner) as Collection, {
    updateOne: (...a: Parameters<Collection['updateOne']>) => (writes.updateOne++, inner.updateOne(...a)),
    updateMany: (...a: Parameters<Collection['updateMany']>) => (writes.updateMany++, inner.updateMany(...a)),
  });
  const proxy = Object.assign(Object.create(store) as DocumentStore, { collection: (name: string) => (name === 'inbox' ? counted : store.collection(name)) });
  return { store: proxy, writes };
}

describe('inbox', () => {
  it('marks applied items in batches (dropping their events): every item applied, far fewer writes than items', async () => {
    const { store, writes } = countingStore();
    const inbox = new Inbox(store, () => ({ queued: Promise.resolve(), done: Promise.resolve() }), log);
    const items = Array.from({ length: 600 }, (_, i) => item(i));
    const { toDeliver } = await inbox.accept(items);
    await inbox.process(toDeliver);
    assert.equal(await store.collection('inbox').countDocuments({ state: 'applied' }), 600);
    assert.equal(await store.collection('inbox').countDocuments({ state: 'pending' }), 0);
    assert.equal(await store.collection('inbox').countDocuments({ event: { $exists: true } }), 0, 'an applied item keeps its id, not its event');
    assert.equal(writes.updateOne, 0);
    assert.ok(writes.updateMany >= 3 && writes.updateMany <= 10, `600 marks in batches of at most 256: ${writes.updateMany} writes`);
  });

  it('leaves an item pending when its actor fails, and flush() writes marks still waiting', async () => {
    const store = new MemoryStore();
    const inbox = new Inbox(store, (it) => ({ queued: Promise.resolve(), done: it.id === 'msg:1' ? Promise.reject(new Error('boom')) : Promise.resolve() }), log);
    const { toDeliver } = await inbox.accept([item(0), item(1), item(2)]);
    const { applied } = await inbox.enqueue(toDeliver);
    await inbox.flush();
    await applied;
    const states = Object.fromEntries((await store.collection('inbox').find({})).map((d) => [d._id, [d.state, d.attempts]]));
    assert.deepEqual(states, { 'msg:0': ['applied', 0], 'msg:1': ['pending', 1], 'msg:2': ['applied', 0] });
  });

  it('refuses to acknowledge a webhook whose event could not be queued (STORE_UNAVAILABLE), and queues it on the retry', async () => {
    const store = new MemoryStore();
    const queuedOrder: string[] = [];
    let streamDown = true;
    // The shard stream refuses appends while it is down (a closed Redis connection, a restart).
    const inbox = new Inbox(store, (it) => {
      if (streamDown) {
        const refused = Promise.reject(new Error('Connection is closed.'));
        refused.catch(() => undefined); // as the dispatcher's: the same failure reaches whoever awaits it
        return { queued: refused, done: refused };
      }
      queuedOrder.push(it.id);
      return { queued: Promise.resolve(), done: Promise.resolve() };
    }, log);
    const chats = new ChatService(store, inbox, async () => ({ handled: true, duplicate: false, context: {}, value: 'x', effects: [] }), 100);
    const channel = channelById('8000247247')!;
    const events = (id: string) => {
      const parsed = parseWebhook(textWebhook('919876543210', 'hi', { id }));
      assert.ok(parsed.ok);
      return parsed.events;
    };
    // Acknowledging it anyway would let the chat's next message be queued first, and recovery queue this one after it.
    await assert.rejects(chats.ingest(channel, events('wamid.1')), (e: unknown) => e instanceof AppError && e.code === 'STORE_UNAVAILABLE' && e.status === 503);
    await eventually(async () => (await store.collection('inbox').findOne({ _id: 'msg:wamid.1' }))?.attempts === 1, 2000, 'the failed hand-off counted');
    assert.equal((await store.collection('inbox').findOne({ _id: 'msg:wamid.1' }))?.state, 'pending');
    streamDown = false;
    assert.deepEqual(await chats.ingest(channel, events('wamid.1')), { accepted: 0, duplicates: 1 }, 'the retry is a redelivery');
    await chats.ingest(channel, events('wamid.2'));
    assert.deepEqual(queuedOrder, ['msg:wamid.1', 'msg:wamid.2'], 'the retried message is queued before the next one');
  });

  it('hears the failed answer of an event that could not be queued: nothing reaches the process as an unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const store = new MemoryStore();
      // As the stream dispatcher's: `queued` is marked handled, its answer `done` fails with it and is not.
      const inbox = new Inbox(store, () => {
        const refused = Promise.reject(new Error('Connection is closed.'));
        refused.catch(() => undefined);
        const done = refused.then(() => ({}));
        return { queued: refused, done };
      }, log);
      const { toDeliver } = await inbox.accept([item(1)]);
      await assert.rejects(inbox.enqueue(toDeliver), (e: unknown) => e instanceof AppError && e.code === 'STORE_UNAVAILABLE');
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('prunes applied items received before the retention, keeping recent, pending and failed ones', async () => {
    const store = new MemoryStore();
    const items = store.collection('inbox');
    const old = new Date(Date.now() - 2 * 3_600_000);
    await items.insertOne({ _id: 'old-applied', state: 'applied', received_at: old, applied_at: new Date() });
    await items.insertOne({ _id: 'new-applied', state: 'applied', received_at: new Date(), applied_at: new Date() });
    await items.insertOne({ _id: 'old-pending', state: 'pending', received_at: old });
    await items.insertOne({ _id: 'old-failed', state: 'failed', received_at: old });
    const inbox = new Inbox(store, () => ({ queued: Promise.resolve(), done: Promise.resolve() }), log);
    assert.equal(await inbox.prune(3_600_000), 1);
    assert.deepEqual((await items.find({}, { sort: { _id: 1 } })).map((d) => d._id), ['new-applied', 'old-failed', 'old-pending']);
  });
});

describe('chat service under overload', () => {
  it('refuses webhooks with OVERLOADED (storing nothing) while the pod’s unapplied backlog is full, and takes them again once it drains', async () => {
    const store = new MemoryStore();
    const finish: (() => void)[] = [];
    // Delivery that holds every event until the test lets it go: the events stay acknowledged but unapplied.
    const inbox = new Inbox(store, () => ({ queued: Promise.resolve(), done: new Promise<void>((r) => finish.push(r)) }), log);
    const chats = new ChatService(store, inbox, async () => ({ handled: true, duplicate: false, context: {}, value: 'x', effects: [] }), 2);
    const channel = channelById('8000247247')!;
    const events = (id: string) => {
      const parsed = parseWebhook(textWebhook('919876543210', 'hi', { id }));
      assert.ok(parsed.ok);
      return parsed.events;
    };
    assert.equal((await chats.ingest(channel, events('wamid.1'))).accepted, 1);
    assert.equal((await chats.ingest(channel, events('wamid.2'))).accepted, 1);
    assert.equal(inbox.unapplied, 2);
    await assert.rejects(chats.ingest(channel, events('wamid.3')), (e: unknown) => e instanceof AppError && e.code === 'OVERLOADED' && e.status === 503);
    assert.equal(await store.collection('inbox').findOne({ _id: 'msg:wamid.3' }), null, 'a refused webhook leaves nothing behind: its retry is a first delivery');
    for (const f of finish.splice(0)) f();
    await new Promise((r) => setImmediate(r));
    assert.equal(inbox.unapplied, 0);
    assert.equal((await chats.ingest(channel, events('wamid.3'))).accepted, 1);
    await inbox.flush();
  });
});
