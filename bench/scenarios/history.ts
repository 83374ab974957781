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
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig } from '../../src/infra/config.ts';
import { appEnv, type AppBackends } from '../lib/app-env.ts';
import { Agents, QUERIES, seed, type Seeded } from '../lib/history-data.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import { Samples, type Summary } from '../lib/stats.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const report = new Report('history', mode);

async function measureQueries(label: string, app: RunningApp, seeded: Seeded): Promise<void> {
  const agents = await Agents.open(app.port, 8);
  const perQueryMs = quick ? 800 : 8000;
  const maxPerQuery = quick ? 10 : 200;
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
  // MongoDB-compatible server: start the pod (its indexes are made on empty collections, as in
  // production), then bulk insert with the driver. Building them over 1M documents afterwards
  // stalled the test server past the driver's monitor timeout.
  {
    const backends: AppBackends = { mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `bench:${tag}:` };
    const app = await startApp(loadConfig(appEnv(backends)));
    const client = new MongoClient(services.mongoUrl);
    try {
      await client.connect();
      const d = client.db(db);
      const seeded = await seed(quick ? 3_000 : 100_000, quick ? 8_000 : 150_000, async (b) => {
        await d.collection('chats').insertMany(b.chats as never[], { ordered: false });
        await d.collection('messages').insertMany(b.messages as never[], { ordered: false });
        if (b.users.length) await d.collection('users').insertMany(b.users as never[], { ordered: false });
      });
      console.log(`  mongo test server: seeded ${seeded.chats} chats, ${seeded.messages} messages in ${seeded.seconds.toFixed(1)} s`);
      await measureQueries('redis+mongo', app, seeded);
    } finally {
      await client.close();
      await app.stop();
    }
  }
  report.finish();
} finally {
  await dropDatabases(services.mongoUrl, [db]).catch(() => undefined);
  await services.stop();
}
