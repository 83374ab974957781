/**
 * Scenario 4 — actor density, driving `ActorHost` directly (no HTTP) with the
 * real chat machine and record shape:
 *
 * - memory: N chats each get one customer message (N resident actors); RSS
 *   and heap are read after a forced GC, then every actor is passivated and
 *   the heap read again — the difference is what residency costs;
 * - activation: a fresh host restores sampled actors from their stored
 *   (serialised) records: the first event's latency (restore + transition +
 *   save), then a second, warm event for comparison;
 * - cost per message at 1k vs 100k chats: warm messages to random resident
 *   actors over a Map (host + machine alone), then the first and second
 *   event to sampled chats over the product's stores (`chatKind` on the
 *   embedded MemoryStore and on the MongoDB-compatible server), seeded with
 *   N chat documents — what a store adds as chats accumulate.
 *
 * Runs with --expose-gc in its own process (bench/run.ts starts it so).
 */
import { ActorHost } from '../../src/actors/runtime/actor-host.ts';
import { chatSummary } from '../../src/actors/chat/chat-views.ts';
import { createLogger } from '../../src/infra/logger.ts';
import { CHAT_INDEXES } from '../../src/actors/chat/chat-store.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { newId, type DocumentStore } from '../../src/infra/store/store.ts';
import { newInbox, type ChatContext } from '../../src/machines/chat.machine.ts';
import type { ActorRecord } from '../../src/actors/runtime/actor-kind.ts';
import { withPointLookups } from '../lib/indexed-store.ts';
import { customerMessage, mapChatKind, MapRecords, readEvent, storeChatKind } from '../lib/kinds.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import { Samples, summarize, type Summary } from '../lib/stats.ts';
import { benchCustomer } from '../lib/webhook-body.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc (npm run bench does)');

const mode = modeFromArgs();
const quick = mode === 'quick';
const log = createLogger({ level: 'silent', pod: 'bench' });
const report = new Report('density', mode);
const MiB = 2 ** 20;

function settle(): NodeJS.MemoryUsage {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage();
}

const hostFor = (records: MapRecords) => new ActorHost([mapChatKind(records)], { log, idleMs: 86_400_000, maxMailbox: 100_000 });

/** Sends `events()` to each key, `parallel` at a time; resolves with each send's latency (ms). */
async function sendAll(host: ActorHost, keys: readonly string[], event: () => ReturnType<typeof customerMessage>, parallel = 1): Promise<number[]> {
  const out: number[] = new Array(keys.length);
  for (let i = 0; i < keys.length; i += parallel) {
    await Promise.all(
      keys.slice(i, i + parallel).map(async (k, j) => {
        const t = performance.now();
        await host.send('chat', k, event());
        out[i + j] = performance.now() - t;
      }),
    );
  }
  return out;
}

/** Distinct random keys among the first `n` customers. */
function sample(n: number, count: number): string[] {
  const picked = new Set<number>();
  while (picked.size < Math.min(count, n)) picked.add(Math.floor(Math.random() * n));
  return [...picked].map(benchCustomer);
}

interface MapRun {
  n: number;
  rssMiB: number;
  heapPerActorB: number;
  rssPerActorB: number;
  createPerS: number;
  warmMsgUs: Summary;
  activationMs: Summary;
  warmAfterActivationMs: Summary;
}

/** Host + machine alone, records serialised in a Map. */
async function mapRun(n: number): Promise<MapRun> {
  const records = new MapRecords();
  let host = hostFor(records);
  const before = settle();
  const keys = Array.from({ length: n }, (_, i) => benchCustomer(i));
  const t0 = performance.now();
  await sendAll(host, keys, () => customerMessage(), 100);
  const createPerS = n / ((performance.now() - t0) / 1000);
  const full = settle();

  // Warm messages to random resident actors, one at a time.
  const warmCount = quick ? 2_000 : 20_000;
  const warm = await sendAll(host, Array.from({ length: warmCount }, () => benchCustomer(Math.floor(Math.random() * n))), () => customerMessage());
  if (host.residentCount !== n) throw new Error(`expected ${n} residents, have ${host.residentCount}`);
  await host.stop();
  const stored = settle();

  // Activation: a fresh host restores sampled actors from their stored records.
  host = hostFor(records);
  const keysToWake = sample(n, quick ? 500 : 10_000);
  const activation = await sendAll(host, keysToWake, () => readEvent());
  const warmAgain = await sendAll(host, keysToWake, () => readEvent());
  await host.stop();
  const r: MapRun = {
    n,
    rssMiB: full.rss / MiB,
    heapPerActorB: (full.heapUsed - stored.heapUsed) / n,
    rssPerActorB: (full.rss - before.rss) / n,
    createPerS,
    warmMsgUs: summarize(warm.map((ms) => ms * 1000)),
    activationMs: summarize(activation),
    warmAfterActivationMs: summarize(warmAgain),
  };
  console.log(
    `  map store, ${n.toLocaleString('en-US')} actors: RSS ${r.rssMiB.toFixed(0)} MiB, resident heap ${r.heapPerActorB.toFixed(0)} B/actor, ` +
      `RSS +${r.rssPerActorB.toFixed(0)} B/actor (record included); warm message mean ${r.warmMsgUs.mean.toFixed(1)} µs; ` +
      `activation p50 ${r.activationMs.p50.toFixed(3)} / p99 ${r.activationMs.p99.toFixed(3)} ms`,
  );
  records.clear();
  return r;
}

/** A stored chat document for customer i, as `chatKind` writes it. */
function chatDoc(i: number, now: number): Record<string, unknown> {
  const context: ChatContext = {
    chatId: newId(), customer: benchCustomer(i), customerName: 'Bench Customer', customerType: 'Customer', channel: '8000247247',
    createdAt: now, lastSeq: 1, lastMessage: 'Need a cab', lastMessageAt: now, lastMsgBy: benchCustomer(i), lastCustomerMessageAt: now,
    statusUpdatedBy: null, statusUpdatedAt: null, reads: [],

    inbox: newInbox(),
  };
  const actor: ActorRecord = {
    fence: 0, schema: 1, version: 1, state: { value: 'active', context }, applied: [`msg:seed.${i}`], pending: [], deadlines: [],
    history: [{ at: now, event: 'CUSTOMER_MESSAGE', from: 'new', to: 'active' }],
  };
  return { _id: context.chatId, ...chatSummary(context, 'active'), actor };
}

interface StoreRun {
  store: string;
  n: number;
  seeded: number;
  firstMs: Summary;
  secondMs: Summary;
}

/** The first (activation) and second event to sampled chats over a real store holding `n` chats. */
async function storeRun(label: string, store: DocumentStore, n: number, seed: (docs: Record<string, unknown>[]) => Promise<void>, samples: number, budgetMs: number): Promise<StoreRun> {
  const now = Date.now();
  for (let i = 0; i < n; i += 5000) await seed(Array.from({ length: Math.min(5000, n - i) }, (_, k) => chatDoc(i + k, now)));
  const host = new ActorHost([storeChatKind(store)], { log, idleMs: 86_400_000 });
  const first = new Samples();
  const second = new Samples();
  const began = performance.now();
  const WARMUP = 10; // untimed: JIT (and the JVM's, for the MongoDB test server) warming up
  for (const [i, key] of sample(n, samples + WARMUP).entries()) {
    if (performance.now() - began > budgetMs) break;
    if (i < WARMUP) {
      await host.send('chat', key, customerMessage());
      await host.send('chat', key, customerMessage());
      continue;
    }
    let t = performance.now();
    await host.send('chat', key, customerMessage());
    first.add(performance.now() - t);
    t = performance.now();
    await host.send('chat', key, customerMessage());
    second.add(performance.now() - t);
  }
  await host.stop();
  const r = { store: label, n, seeded: n, firstMs: first.summary(), secondMs: second.summary() };
  console.log(`  ${label}, ${n.toLocaleString('en-US')} chats: first event (activation) p50 ${r.firstMs.p50.toFixed(2)} ms p99 ${r.firstMs.p99.toFixed(2)} ms; next event p50 ${r.secondMs.p50.toFixed(2)} ms (${r.firstMs.count} chats sampled)`);
  return r;
}

const services = await servicesFromEnv();
const dbs: string[] = [];
try {
  console.log(`density (${mode}): ActorHost with the chat machine, no HTTP, one process with --expose-gc`);
  const maps: MapRun[] = [];
  for (const n of [1_000, 10_000, 100_000]) maps.push(await mapRun(n));
  const [small, , big] = maps as [MapRun, MapRun, MapRun];

  for (const m of maps.slice(1)) {
    const n = m.n.toLocaleString('en-US');
    report.add({ metric: `RSS with ${n} resident chat actors`, subject: 'ActorHost + chat machine', value: m.rssMiB, unit: 'MiB', better: 'lower', notes: 'whole process, stored records (serialised, in a Map) included', ...(m.n === 100_000 ? { target: '< 1024 MiB', target_met: m.rssMiB < 1024 } : {}) });
    report.add({ metric: `heap per resident chat actor (${n})`, subject: 'ActorHost + chat machine', value: m.heapPerActorB, unit: 'B', better: 'lower', notes: 'heap after GC with every actor resident, minus after passivating them all' });
    report.add({ metric: `activation p50 (${n} stored)`, subject: 'ActorHost + chat machine', value: m.activationMs.p50, unit: 'ms', better: 'lower', notes: 'first event to a passivated actor: parse record, resolveState, transition, save' });
    report.add({ metric: `activation p99 (${n} stored)`, subject: 'ActorHost + chat machine', value: m.activationMs.p99, unit: 'ms', better: 'lower', target: '< 5 ms', target_met: m.activationMs.p99 < 5 });
  }
  const perMsg = (m: MapRun) => ({ subject: `ActorHost + chat machine, ${m.n.toLocaleString('en-US')} chats`, value: m.warmMsgUs.mean, unit: 'µs' });
  report.add({ metric: 'cost per message (mean, warm)', ...perMsg(small), better: 'lower' });
  report.compare({ metric: 'cost per message (mean, warm)', ...perMsg(big), better: 'lower', target: 'no growth 1k → 100k (ratio ≥ 0.8)', target_met: small.warmMsgUs.mean / big.warmMsgUs.mean >= 0.8 }, { subject: `1k chats`, value: small.warmMsgUs.mean, unit: 'µs' });

  // Through the product's stores: a chat's first and second event as the store fills.
  const bigN = quick ? 5_000 : 100_000;
  const memRuns: StoreRun[] = [];
  for (const n of [1_000, bigN]) {
    const store = new MemoryStore();
    await store.ensureIndexes(CHAT_INDEXES);
    const chats = store.collection('chats');
    memRuns.push(await storeRun('chatKind on MemoryStore (embedded)', store, n, async (docs) => void (await Promise.all(docs.map((d) => chats.insertOne(d)))), quick ? 25 : 100, quick ? 5000 : 25_000));
    await store.close();
  }
  // The same with the suggested MemoryStore fix, prototyped in bench/lib/indexed-store.ts: evidence for it.
  const fixedRuns: StoreRun[] = [];
  for (const n of [1_000, bigN]) {
    const mem = new MemoryStore();
    await mem.ensureIndexes(CHAT_INDEXES);
    const store = withPointLookups(mem);
    const chats = store.collection('chats');
    fixedRuns.push(await storeRun('chatKind on MemoryStore + point lookups (suggested fix)', store, n, async (docs) => void (await Promise.all(docs.map((d) => chats.insertOne(d)))), quick ? 25 : 100, quick ? 5000 : 25_000));
    await mem.close();
  }
  const mongoRuns: StoreRun[] = [];
  for (const n of [1_000, bigN]) {
    const db = `bench_density_${runTag()}`;
    dbs.push(db);
    const store = await MongoStore.connect({ url: services.mongoUrl, dbName: db });
    await store.ensureIndexes(CHAT_INDEXES);
    const { MongoClient } = await import('mongodb');
    const client = new MongoClient(services.mongoUrl);
    await client.connect();
    const coll = client.db(db).collection('chats');
    try {
      mongoRuns.push(await storeRun('chatKind on MongoDB test server', store, n, async (docs) => void (await coll.insertMany(docs as never[], { ordered: false })), quick ? 25 : 200, quick ? 5000 : 25_000));
    } finally {
      await client.close();
      await store.close();
    }
    await dropDatabases(services.mongoUrl, [db]);
  }
  for (const runs of [memRuns, fixedRuns, mongoRuns]) {
    const [a, b] = runs as [StoreRun, StoreRun];
    for (const [what, key] of [['first event (activation) p50', 'firstMs'], ['next event p50', 'secondMs']] as const) {
      report.add({ metric: `${what}`, subject: `${a.store}, ${a.n.toLocaleString('en-US')} chats`, value: a[key].p50, unit: 'ms', better: 'lower' });
      report.compare(
        { metric: `${what}`, subject: `${b.store}, ${b.n.toLocaleString('en-US')} chats`, value: b[key].p50, unit: 'ms', better: 'lower', target: 'no growth with chats (ratio ≥ 0.8)', target_met: a[key].p50 / b[key].p50 >= 0.8, notes: `${b[key].count} chats sampled` },
        { subject: `${a.n.toLocaleString('en-US')} chats`, value: a[key].p50, unit: 'ms' },
      );
    }
    report.add({ metric: 'first event (activation) p99', subject: `${b.store}, ${b.n.toLocaleString('en-US')} chats`, value: b.firstMs.p99, unit: 'ms', better: 'lower', target: '< 5 ms', target_met: b.firstMs.p99 < 5 });
  }
  report.finish();
} finally {
  await dropDatabases(services.mongoUrl, dbs).catch(() => undefined);
  await services.stop();
}
