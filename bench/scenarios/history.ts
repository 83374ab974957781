/**
 * Scenario 5 — agent history: `fetch_all_chats` (with filters) and
 * `fetch_chats_by_user` over the agent WebSocket of a real pod whose store
 * holds many chats and messages (target 100k chats / 1M messages; quick runs
 * and seeding time budgets use less, and the table says what was reached).
 *
 * Embedded: the pod runs in this process and its MemoryStore is filled
 * directly. MongoDB-compatible server: documents are bulk-inserted with the
 * driver (insertMany) before the pod starts. Requests go one at a time, spread
 * over several connections to stay under the per-connection frame rate limit.
 */
import { MongoClient } from 'mongodb';
import WebSocket from 'ws';
import { chatSummary, messageDoc } from '../../src/actors/chat-views.ts';
import type { ActorRecord } from '../../src/actors/actor-kind.ts';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig } from '../../src/infra/config.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { newId } from '../../src/infra/store/store.ts';
import type { ChatContext, CustomerType } from '../../src/machines/chat.machine.ts';
import { appEnv, BENCH_JWT_SECRET, type AppBackends } from '../lib/app-env.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import { Samples, type Summary } from '../lib/stats.ts';
import { benchCustomer } from '../lib/webhook-body.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const MESSAGES_PER_CHAT = 10;
const TYPES: CustomerType[] = ['Customer', 'Customer', 'Customer', 'Customer', 'Customer', 'Partner', 'Partner', 'Partner', 'Vendor', 'SRDP'];
const report = new Report('history', mode);

type Doc = Record<string, unknown>;

/** Chat i with its messages (and a `users` profile for partners), as the product stores them. */
function chatWithMessages(i: number, now: number): { chat: Doc; messages: Doc[]; user?: Doc } {
  const customer = benchCustomer(i);
  const customerType = TYPES[i % TYPES.length]!;
  const last = now - ((i * 7919) % (30 * 86_400)) * 1000;
  const context: ChatContext = {
    chatId: newId(), customer, customerName: `Customer ${i}`, customerType, channel: '8000247247', createdAt: last - 3_600_000,
    lastSeq: MESSAGES_PER_CHAT, lastMessage: `message ${MESSAGES_PER_CHAT}`, lastMessageAt: last, lastMsgBy: customer, lastCustomerMessageAt: last,
    statusUpdatedBy: null, statusUpdatedAt: null, reads: i % 3 === 0 ? [{ agent: 'bench-agent', seq: 5 }] : [],
  };
  const status = i % 5 === 0 ? 'resolved' : 'active';
  const actor: ActorRecord = { fence: 0, schema: 1, version: 1, state: { value: status, context }, applied: [], pending: [], deadlines: [], history: [] };
  const messages = Array.from({ length: MESSAGES_PER_CHAT }, (_, k) =>
    messageDoc(context.chatId, {
      seq: k + 1, id: `msg:seed.${i}.${k}`, sender: k % 2 ? 'bench-agent' : customer, type: k % 2 ? 'Agent' : 'Customer', channel: '8000247247',
      at: last - (MESSAGES_PER_CHAT - k) * 60_000, body: { kind: 'text', text: `message ${k + 1} about a cab from Ahmedabad to Rajkot`, waMessageId: `wamid.seed.${i}.${k}` },
    }),
  );
  const user = customerType === 'Partner' ? { mobile: customer, documents_status: i % 2 ? 'Approved' : 'Pending', dco_status: i % 7 ? 'Active' : 'Suspend', in_journey_status: i % 4 === 0, name: `Customer ${i}` } : undefined;
  return { chat: { _id: context.chatId, ...chatSummary(context, status), actor }, messages, ...(user ? { user } : {}) };
}

interface Seeded {
  chats: number;
  messages: number;
  seconds: number;
  chatIds: string[];
}

/** Seeds in batches until `target` chats or the time budget; returns what was reached. */
async function seed(target: number, budgetMs: number, write: (batch: { chats: Doc[]; messages: Doc[]; users: Doc[] }) => Promise<void>): Promise<Seeded> {
  const began = performance.now();
  const now = Date.now();
  const chatIds: string[] = [];
  let messages = 0;
  const BATCH = 2000;
  for (let i = 0; i < target && performance.now() - began < budgetMs; i += BATCH) {
    const made = Array.from({ length: Math.min(BATCH, target - i) }, (_, k) => chatWithMessages(i + k, now));
    await write({ chats: made.map((m) => m.chat), messages: made.flatMap((m) => m.messages), users: made.flatMap((m) => (m.user ? [m.user] : [])) });
    for (const m of made) chatIds.push(String(m.chat._id));
    messages += made.length * MESSAGES_PER_CHAT;
  }
  return { chats: chatIds.length, messages, seconds: (performance.now() - began) / 1000, chatIds };
}

/** Agent connections answering requests by id, each used at most every 60 ms (the limit is 20 frames/s). */
class Agents {
  private next = 0;
  private counter = 0;
  private readonly lastUsed: number[];
  private constructor(private readonly sockets: WebSocket[], private readonly waiting: Map<string, (f: { event: string; error?: unknown; data?: unknown }) => void>) {
    this.lastUsed = sockets.map(() => 0);
  }

  static async open(port: number, count: number): Promise<Agents> {
    const token = signToken({ sub: 'bench-agent' }, BENCH_JWT_SECRET);
    const waiting = new Map<string, (f: { event: string }) => void>();
    const sockets = await Promise.all(
      Array.from({ length: count }, () =>
        new Promise<WebSocket>((resolve, reject) => {
          const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
          ws.on('message', (raw) => {
            const f = JSON.parse(raw.toString()) as { id?: string; event: string };
            if (f.id !== undefined) waiting.get(f.id)?.(f);
          });
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        }),
      ),
    );
    return new Agents(sockets, waiting);
  }

  /** One request; resolves with its latency (ms). Errors (coded replies) are thrown. */
  async request(event: string, data: unknown, timeoutMs: number): Promise<number> {
    const i = this.next++ % this.sockets.length;
    const wait = this.lastUsed[i]! + 60 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = `q${++this.counter}`;
    const began = performance.now();
    this.lastUsed[i] = began;
    const reply = await new Promise<{ event: string; error?: unknown }>((resolve, reject) => {
      const timer = setTimeout(() => (this.waiting.delete(id), reject(new Error(`${event}: no reply within ${timeoutMs} ms`))), timeoutMs);
      this.waiting.set(id, (f) => (clearTimeout(timer), this.waiting.delete(id), resolve(f)));
      this.sockets[i]!.send(JSON.stringify({ event, data, id }));
    });
    if (reply.event === 'error') throw new Error(`${event}: ${JSON.stringify(reply.error)}`);
    return performance.now() - began;
  }

  close(): void {
    for (const ws of this.sockets) ws.terminate();
  }
}

interface Query {
  label: string;
  event: 'fetch_all_chats' | 'fetch_chats_by_user';
  data: (chatIds: string[]) => unknown;
}

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)]!;
const QUERIES: Query[] = [
  { label: 'fetch_all_chats (no filter)', event: 'fetch_all_chats', data: () => ({}) },
  { label: 'fetch_all_chats status=active', event: 'fetch_all_chats', data: () => ({ status: 'active' }) },
  { label: 'fetch_all_chats status+customer_type', event: 'fetch_all_chats', data: () => ({ status: 'active', customer_type: 'Partner' }) },
  { label: 'fetch_all_chats search=number prefix', event: 'fetch_all_chats', data: () => ({ search: `98000${Math.floor(Math.random() * 100)}` }) },
  { label: 'fetch_all_chats special filter', event: 'fetch_all_chats', data: () => ({ search: 'Active_Approved' }) },
  { label: 'fetch_all_chats page 20', event: 'fetch_all_chats', data: () => ({ status: 'resolved', page: 20, page_size: 20 }) },
  { label: 'fetch_chats_by_user page 1', event: 'fetch_chats_by_user', data: (ids) => ({ chat_id: pick(ids) }) },
  { label: 'fetch_chats_by_user page 2', event: 'fetch_chats_by_user', data: (ids) => ({ chat_id: pick(ids), page: 2, page_size: 5 }) },
];

async function measureQueries(label: string, app: RunningApp, seeded: Seeded): Promise<void> {
  const agents = await Agents.open(app.port, 8);
  const perQueryMs = quick ? 1200 : 8000;
  const maxPerQuery = quick ? 15 : 200;
  const sizes = `${seeded.chats.toLocaleString('en-US')} chats / ${seeded.messages.toLocaleString('en-US')} messages`;
  try {
    for (const q of QUERIES) {
      const lat = new Samples();
      const began = performance.now();
      let failed = 0;
      // One untimed request first (caches, JIT), then timed ones until the count or the time budget.
      await agents.request(q.event, q.data(seeded.chatIds), 120_000).catch(() => failed++);
      while (lat.count < maxPerQuery && performance.now() - began < perQueryMs) {
        try {
          lat.add(await agents.request(q.event, q.data(seeded.chatIds), 120_000));
        } catch (err) {
          failed++;
          if (failed > 3) throw err;
        }
      }
      const s: Summary = lat.summary();
      console.log(`  ${label.padEnd(22)} ${q.label.padEnd(38)} n=${String(s.count).padStart(4)}  p50 ${s.p50.toFixed(2)} ms  p99 ${s.p99.toFixed(2)} ms`);
      const subject = `smart-chat ${label}, ${sizes}`;
      const notes = `${s.count} requests, one at a time; seeded in ${seeded.seconds.toFixed(0)} s`;
      report.add({ metric: `${q.label} p50`, subject, value: s.p50, unit: 'ms', better: 'lower', notes });
      report.add({ metric: `${q.label} p99`, subject, value: s.p99, unit: 'ms', better: 'lower' });
    }
  } finally {
    agents.close();
  }
}

const services = await servicesFromEnv();
const tag = runTag();
const db = `bench_history_${tag}`;
try {
  console.log(`history (${mode}): agent queries over the WebSocket, pod in this process`);
  // Embedded: start the pod, fill its MemoryStore.
  {
    const app = await startApp(loadConfig(appEnv()));
    try {
      const chats = app.store.collection('chats');
      const messages = app.store.collection('messages');
      const users = app.store.collection('users');
      const seeded = await seed(quick ? 5_000 : 100_000, quick ? 8_000 : 150_000, async (b) => {
        for (const d of b.chats) await chats.insertOne(d);
        for (const d of b.messages) await messages.insertOne(d);
        for (const d of b.users) await users.insertOne(d);
      });
      console.log(`  embedded: seeded ${seeded.chats} chats, ${seeded.messages} messages in ${seeded.seconds.toFixed(1)} s`);
      await measureQueries('embedded', app, seeded);
    } finally {
      await app.stop();
    }
  }
  // MongoDB-compatible server: bulk insert with the driver, then start the pod on it.
  {
    const client = new MongoClient(services.mongoUrl);
    await client.connect();
    let seeded: Seeded;
    try {
      const d = client.db(db);
      seeded = await seed(quick ? 3_000 : 100_000, quick ? 8_000 : 150_000, async (b) => {
        await d.collection('chats').insertMany(b.chats as never[], { ordered: false });
        await d.collection('messages').insertMany(b.messages as never[], { ordered: false });
        if (b.users.length) await d.collection('users').insertMany(b.users as never[], { ordered: false });
      });
    } finally {
      await client.close();
    }
    console.log(`  mongo test server: seeded ${seeded.chats} chats, ${seeded.messages} messages in ${seeded.seconds.toFixed(1)} s`);
    const backends: AppBackends = { mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `bench:${tag}:` };
    const app = await startApp(loadConfig(appEnv(backends)));
    try {
      await measureQueries('redis+mongo', app, seeded);
    } finally {
      await app.stop();
    }
  }
  report.finish();
} finally {
  await dropDatabases(services.mongoUrl, [db]).catch(() => undefined);
  await services.stop();
}
