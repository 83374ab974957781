/**
 * The store's own floor for the ingest path: the documents one applied event
 * writes — its inbox item, its chat document's conditional `$set` (summary and
 * actor record), its message, its inbox item marked applied — written straight
 * through the MongoDB driver to the same server, no runtime, with the same
 * group commit the runtime uses (a batch of events: one insertMany / bulkWrite /
 * updateMany per collection). The templates are real documents a smart-chat run
 * stored; each event gets its own ids, its chat's next version, its own seq.
 */
import { MongoClient, type Document } from 'mongodb';
import { summarize, type Summary } from './stats.ts';

export interface FloorResult {
  events: number;
  seconds: number;
  eventsPerS: number;
  /** Mean size of the chat document written per event (BSON bytes, approximately JSON length). */
  chatDocBytes: number;
}

/** Reads one stored chat (the one with the most versions), one message and one inbox item from `fromDb`. */
export async function floorTemplates(mongoUrl: string, fromDb: string): Promise<{ chat: Document; message: Document; inbox: Document }> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const db = client.db(fromDb);
    const [chat] = await db.collection('chats').find({}).sort({ 'actor.version': -1 }).limit(1).toArray();
    const message = await db.collection('messages').findOne({});
    const inbox = await db.collection('inbox').findOne({});
    if (!chat || !message || !inbox) throw new Error(`no documents to copy in ${fromDb}`);
    return { chat, message, inbox };
  } finally {
    await client.close();
  }
}

async function connectFloor(mongoUrl: string): Promise<MongoClient> {
  const client = new MongoClient(mongoUrl, { serverSelectionTimeoutMS: 5000, ignoreUndefined: true, retryWrites: false, maxPoolSize: 50 });
  await client.connect();
  return client;
}

/** The floor's collections with the product's indexes, and `customers` chats stored first (as after each one's first event). */
async function floorCollections(client: MongoClient, dbName: string, t: { chat: Document; message: Document; inbox: Document }, customers: number) {
  const db = client.db(dbName);
  const chats = db.collection<Document>('chats');
  const messages = db.collection<Document>('messages');
  const inbox = db.collection<Document>('inbox');
  // The same indexes as the product's on these collections (a write pays for its index entries).
  await chats.createIndex({ status: 1, customer_type: 1 }, { name: 'status_customer_type' });
  await chats.createIndex({ customer: 1 }, { name: 'customer_unique', unique: true });
  await chats.createIndex({ last_message_time: -1 }, { name: 'last_message_time' });
  await messages.createIndex({ chat_id: 1, seq: -1 }, { name: 'chat_seq_unique', unique: true });
  await messages.createIndex({ chat_id: 1, datetime: -1 }, { name: 'chat_datetime' });
  await messages.createIndex({ chat_id: 1, idempotency_id: 1 }, { name: 'chat_idempotency' });
  await messages.createIndex({ chat_id: 1, wa_message_id: 1 }, { name: 'chat_wa_message' });
  await inbox.createIndex({ state: 1, received_at: 1 }, { name: 'state_received' });

  const { _id: _c, ...chatFields } = t.chat;
  const { _id: _m, ...messageFields } = t.message;
  const { _id: _i, ...inboxFields } = t.inbox;
  const actor = chatFields.actor as Document;
  const version = new Map<number, number>();
  const seq = new Map<number, number>();
  const chatId = (c: number) => `floor-chat-${c}`;
  for (let c = 0; c < customers; c += 500) {
    await chats.insertMany(
      Array.from({ length: Math.min(500, customers - c) }, (_, i) => {
        version.set(c + i, 1);
        seq.set(c + i, 0);
        return { _id: chatId(c + i), ...chatFields, customer: `floor-${c + i}`, actor: { ...actor, version: 1 } } as Document;
      }),
    );
  }
  /**
   * One batch of events (customers `batch`, event ids `ids`; no chat twice), grouped as the runtime groups a turn's
   * writes: the inbox items, the chats' conditional `$set`, the messages, the items marked applied. `onStored` runs
   * once the chats and messages are written. Resolves to the chat documents' JSON bytes.
   */
  const write = async (batch: readonly number[], ids: readonly string[], onStored?: () => void): Promise<number> => {
    let bytes = 0;
    await inbox.insertMany(batch.map((_, i) => ({ ...inboxFields, _id: ids[i], state: 'pending', received_at: new Date() }) as Document), { ordered: false });
    const updates = batch.map((c) => {
      const v = version.get(c)!;
      version.set(c, v + 1);
      const fields = { ...chatFields, customer: `floor-${c}`, last_message_time: new Date(), actor: { ...actor, version: v + 1 } };
      bytes += JSON.stringify(fields).length;
      return { updateOne: { filter: { _id: chatId(c), 'actor.version': v }, update: { $set: fields } } };
    });
    await chats.bulkWrite(updates as never, { ordered: false });
    await messages.insertMany(
      batch.map((c, i) => {
        const s = seq.get(c)! + 1;
        seq.set(c, s);
        return { ...messageFields, _id: `${ids[i]}-m`, chat_id: chatId(c), seq: s, idempotency_id: ids[i] } as Document;
      }),
      { ordered: false },
    );
    onStored?.();
    await inbox.updateMany({ _id: { $in: ids } } as Document, { $set: { state: 'applied', applied_at: new Date() } });
    return bytes;
  };
  return { write };
}

export async function measureStoreFloor(mongoUrl: string, dbName: string, t: { chat: Document; message: Document; inbox: Document }, opts: { durationMs: number; customers: number; workers: number; batch: number }): Promise<FloorResult> {
  const client = await connectFloor(mongoUrl);
  try {
    const f = await floorCollections(client, dbName, t, opts.customers);
    let events = 0;
    let bytes = 0;
    let n = 0;
    const began = performance.now();
    const until = began + opts.durationMs;
    const worker = async (w: number) => {
      // Worker w writes customers w, w + workers, …: a batch never holds one chat twice, and no two workers share one.
      let next = w;
      while (performance.now() < until) {
        const batch: number[] = [];
        for (let i = 0; i < opts.batch; i++) {
          batch.push(next);
          next += opts.workers;
          if (next >= opts.customers) next = w;
        }
        const ids = batch.map(() => `floor-ev-${n++}`);
        bytes += await f.write(batch, ids);
        events += batch.length;
      }
    };
    await Promise.all(Array.from({ length: opts.workers }, (_, w) => worker(w)));
    const seconds = (performance.now() - began) / 1000;
    return { events, seconds, eventsPerS: events / seconds, chatDocBytes: Math.round(bytes / Math.max(1, events)) };
  } finally {
    await client.db(dbName).dropDatabase().catch(() => undefined);
    await client.close();
  }
}

/**
 * The floor for latency: events due at `rate` per second (open loop), each tick's due events written as one
 * batch the way the runtime groups a turn's writes (`write` above); an event's time runs from when it was due
 * until its chat and message are stored. The runtime cannot deliver a message sooner than this on the same server
 * (it also writes the inbox item before acknowledging, then applies, then pushes). `warmupMs` is not timed.
 */
export async function measureStoreLatency(mongoUrl: string, dbName: string, t: { chat: Document; message: Document; inbox: Document }, opts: { rate: number; durationMs: number; warmupMs: number; customers: number }): Promise<Summary> {
  const client = await connectFloor(mongoUrl);
  try {
    const f = await floorCollections(client, dbName, t, opts.customers);
    const latencies: number[] = [];
    const writes: Promise<unknown>[] = [];
    const began = performance.now();
    const total = Math.floor((opts.rate * opts.durationMs) / 1000);
    let next = 0;
    while (next < total) {
      const now = performance.now();
      const batch: number[] = [];
      const due: number[] = [];
      for (; next < total && began + (next * 1000) / opts.rate <= now; next++) {
        batch.push(next % opts.customers);
        due.push(began + (next * 1000) / opts.rate);
      }
      if (batch.length > 0) {
        const ids = due.map((_, i) => `floor-lat-${next - due.length + i}`);
        const timed = due[0]! - began >= opts.warmupMs;
        writes.push(f.write(batch, ids, () => {
          if (!timed) return;
          const stored = performance.now();
          for (const d of due) latencies.push(stored - d);
        }));
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    await Promise.all(writes);
    return summarize(latencies);
  } finally {
    await client.db(dbName).dropDatabase().catch(() => undefined);
    await client.close();
  }
}

/** Made-up documents of the runtime's sizes, for a floor run with no smart-chat run before it to copy from. */
export function syntheticTemplates(): { chat: Document; message: Document; inbox: Document } {
  const chat = { customer: 'warm', customer_type: 'Customer', status: 'active', channel: '8000247247', last_message: 'x'.repeat(70), actor: { schema: 1, version: 1, state: { value: 'active', context: { text: 'y'.repeat(700) } }, applied: Array.from({ length: 6 }, (_, i) => `msg:wamid.${i}`.padEnd(45, '0')), pending: [{ x: 'z'.repeat(300) }], deadlines: [], history: [{ at: 1, event: 'CUSTOMER_MESSAGE', from: 'active', to: 'active' }] } };
  const message = { chat_id: 'c', text: 'Need a cab from Ahmedabad to Rajkot tomorrow', by: 'customer', datetime: new Date() };
  const inbox = { kind: 'chat', key: 'Customer:9800000001', event: { type: 'CUSTOMER_MESSAGE', text: 'x'.repeat(100) } };
  return { chat, message, inbox };
}

/**
 * Runs the floor's writes for `ms` on a throwaway database with made-up documents of the runtime's sizes:
 * the JVM of the test server compiles its hot paths in the first seconds (its CPU per event falls about 4×), so
 * whatever is measured first would pay for that alone.
 */
export async function warmUpStore(mongoUrl: string, dbName: string, ms: number): Promise<void> {
  await measureStoreFloor(mongoUrl, dbName, syntheticTemplates(), { durationMs: ms, customers: 1000, workers: 4, batch: 50 });
}
