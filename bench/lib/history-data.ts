/**
 * Agent-history data and queries, shared by the history scenario and the
 * profiler: chats with their messages (and partners' `users` profiles) shaped
 * as the product stores them, a seeder with a time budget, agent connections
 * that answer requests by id under the frame rate limit, and the queries.
 */
import WebSocket from 'ws';
import { chatSummary, messageDoc } from '../../src/actors/chat/chat-views.ts';
import type { ActorRecord } from '../../src/actors/runtime/actor-kind.ts';
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/infra/config.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { newId } from '../../src/infra/store/store.ts';
import { newInbox, type ChatContext, type CustomerType } from '../../src/machines/chat.machine.ts';
import { appEnv, BENCH_JWT_SECRET } from './app-env.ts';
import { benchCustomer } from './webhook-body.ts';

export const MESSAGES_PER_CHAT = 10;
const TYPES: CustomerType[] = ['Customer', 'Customer', 'Customer', 'Customer', 'Customer', 'Partner', 'Partner', 'Partner', 'Vendor', 'SRDP'];

export type Doc = Record<string, unknown>;

/** Chat i with its messages (and a `users` profile for partners), as the product stores them. */
export function chatWithMessages(i: number, now: number): { chat: Doc; messages: Doc[]; user?: Doc } {
  const customer = benchCustomer(i);
  const customerType = TYPES[i % TYPES.length]!;
  const last = now - ((i * 7919) % (30 * 86_400)) * 1000;
  const context: ChatContext = {
    chatId: newId(), customer, customerName: `Customer ${i}`, customerType, channel: '8000247247', createdAt: last - 3_600_000,
    lastSeq: MESSAGES_PER_CHAT, lastMessage: `message ${MESSAGES_PER_CHAT}`, lastMessageAt: last, lastMsgBy: customer, lastCustomerMessageAt: last,
    statusUpdatedBy: null, statusUpdatedAt: null, reads: i % 3 === 0 ? [{ agent: 'bench-agent', seq: 5 }] : [],

    inbox: newInbox(),
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

export interface Seeded {
  chats: number;
  messages: number;
  seconds: number;
  chatIds: string[];
}

/** Seeds in batches until `target` chats or the time budget; returns what was reached. */
export async function seed(target: number, budgetMs: number, write: (batch: { chats: Doc[]; messages: Doc[]; users: Doc[] }) => Promise<void>): Promise<Seeded> {
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
export class Agents {
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

export interface Query {
  label: string;
  event: 'fetch_all_chats' | 'fetch_chats_by_user';
  data: (chatIds: string[]) => unknown;
}

const pick = (ids: string[]) => ids[Math.floor(Math.random() * ids.length)]!;
export const QUERIES: Query[] = [
  { label: 'fetch_all_chats (no filter)', event: 'fetch_all_chats', data: () => ({}) },
  { label: 'fetch_all_chats status=active', event: 'fetch_all_chats', data: () => ({ status: 'active' }) },
  { label: 'fetch_all_chats status+customer_type', event: 'fetch_all_chats', data: () => ({ status: 'active', customer_type: 'Partner' }) },
  { label: 'fetch_all_chats search=number prefix', event: 'fetch_all_chats', data: () => ({ search: `98000${Math.floor(Math.random() * 100)}` }) },
  { label: 'fetch_all_chats special filter', event: 'fetch_all_chats', data: () => ({ search: 'Active_Approved' }) },
  { label: 'fetch_all_chats page 20', event: 'fetch_all_chats', data: () => ({ status: 'resolved', page: 20, page_size: 20 }) },
  { label: 'fetch_chats_by_user page 1', event: 'fetch_chats_by_user', data: (ids) => ({ chat_id: pick(ids) }) },
  { label: 'fetch_chats_by_user page 2', event: 'fetch_chats_by_user', data: (ids) => ({ chat_id: pick(ids), page: 2, page_size: 5 }) },
];


/** For the profiler: an embedded pod in this process, `chats` seeded, every query in turn for `ms`. */
export async function runHistoryProfileLoad(chats: number, ms: number): Promise<void> {
  const app = await startApp(loadConfig(appEnv()));
  try {
    const c = app.store.collection('chats');
    const m = app.store.collection('messages');
    const u = app.store.collection('users');
    const seeded = await seed(chats, 60_000, async (b) => {
      for (const d of b.chats) await c.insertOne(d);
      for (const d of b.messages) await m.insertOne(d);
      for (const d of b.users) await u.insertOne(d);
    });
    const agents = await Agents.open(app.port, 8);
    const until = performance.now() + ms;
    for (let i = 0; performance.now() < until; i++) {
      const q = QUERIES[i % QUERIES.length]!;
      await agents.request(q.event, q.data(seeded.chatIds), 60_000);
    }
    agents.close();
  } finally {
    await app.stop();
  }
}
