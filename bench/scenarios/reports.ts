/**
 * Scenario 6 — reports: the console's conversation report (opened/resolved
 * per day, first-response and resolution median + p90 by agent, team and
 * number, CSAT) over the MongoDB test server holding 1 million messages
 * (100k chats × 10, as the history scenario seeds them) and the matching
 * conversations (one per chat, a second for every fifth: 120k, opened over
 * the last 90 days). Times `ConversationReports.report` for ranges of 1, 7,
 * 30 and 92 days, and the HTTP route for 30 days. Quick runs seed less.
 */
import { MongoClient } from 'mongodb';
import { CONVERSATION_INDEXES, ConversationLog, conversationId, utcDay } from '../../src/actors/desk/conversation-log.ts';
import { ConversationReports } from '../../src/actors/desk/reports.ts';
import { startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/infra/config.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { appEnv, BENCH_JWT_SECRET } from '../lib/app-env.ts';
import { seed, type Doc } from '../lib/history-data.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import { Samples } from '../lib/stats.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const report = new Report('reports', mode);
const DAY = 86_400_000;
const AGENTS = ['asha', 'ravi', 'meena', 'karan', 'divya', 'arjun', 'neha', 'vikram'];
const TEAMS = ['drivers', 'riders', 'vendors'];
const CHANNELS = ['9099039188', '8690247247', '8000247247', '9726724247', '9586924247'];

/** Conversation k of chat `chat`: deterministic spread of days, agents, times and ratings. */
function conversationDoc(chat: Doc, n: number, k: number, now: number): Doc {
  const opened = now - ((n * 7919) % (90 * DAY / 1000)) * 1000;
  const agent = n % 11 === 0 ? null : AGENTS[n % AGENTS.length]!;
  const firstMs = agent ? 5_000 + ((n * 104_729) % 1_800_000) : null;
  const resolved = n % 4 !== 0;
  const resolutionMs = resolved ? (firstMs ?? 0) + ((n * 15_485_863) % (8 * 3_600_000)) : null;
  const asked = resolved && n % 3 !== 0;
  const score = asked && n % 2 === 0 ? ((n % 3) + 1) : null;
  return {
    _id: conversationId(String(chat['_id']), k),
    chat_id: chat['_id'], conversation: k, customer: chat['customer'], customer_type: chat['customer_type'],
    channel: CHANNELS[n % CHANNELS.length], team: TEAMS[n % TEAMS.length], assignee: agent,
    opened_at: new Date(opened), opened_day: utcDay(opened), assigned_at: agent ? new Date(opened + 1000) : null,
    first_response_at: firstMs === null ? null : new Date(opened + firstMs), first_response_agent: agent, first_response_ms: firstMs,
    resolved_at: resolutionMs === null ? null : new Date(opened + resolutionMs), resolved_day: resolutionMs === null ? null : utcDay(opened + resolutionMs),
    resolved_by: resolved ? agent ?? 'asha' : null, resolution_ms: resolutionMs,
    csat_asked_at: asked ? new Date(opened + (resolutionMs ?? 0)) : null, csat_score: score, csat_at: score === null ? null : new Date(opened + (resolutionMs ?? 0) + 60_000),
  };
}

async function time(label: string, subject: string, run: () => Promise<unknown>, budgetMs: number, max: number): Promise<void> {
  await run(); // warm-up, untimed
  const lat = new Samples();
  const began = performance.now();
  while (lat.count < max && performance.now() - began < budgetMs) {
    const t0 = performance.now();
    await run();
    lat.add(performance.now() - t0);
  }
  const s = lat.summary();
  console.log(`  ${label.padEnd(34)} n=${String(s.count).padStart(3)}  p50 ${s.p50.toFixed(1)} ms  max ${s.max.toFixed(1)} ms`);
  report.add({ metric: `${label} p50`, subject, value: s.p50, unit: 'ms', better: 'lower', notes: `${s.count} runs, one at a time` });
  report.add({ metric: `${label} max`, subject, value: s.max, unit: 'ms', better: 'lower' });
}

const services = await servicesFromEnv();
const tag = runTag();
const db = `bench_reports_${tag}`;
try {
  console.log(`reports (${mode}): the conversation report over the MongoDB test server`);
  const client = new MongoClient(services.mongoUrl);
  await client.connect();
  const store = await MongoStore.connect({ url: services.mongoUrl, dbName: db });
  // Indexes first, on empty collections, as the product makes them at start-up.
  await store.ensureIndexes(CONVERSATION_INDEXES);
  const now = Date.now();
  let conversations = 0;
  let n = 0;
  try {
    const d = client.db(db);
    const seeded = await seed(quick ? 5_000 : 100_000, quick ? 15_000 : 240_000, async (b) => {
      await d.collection('chats').insertMany(b.chats as never[], { ordered: false });
      await d.collection('messages').insertMany(b.messages as never[], { ordered: false });
      const convs = b.chats.flatMap((chat) => {
        const i = n++;
        return i % 5 === 0 ? [conversationDoc(chat, i, 1, now), conversationDoc(chat, i + 1_000_003, 2, now)] : [conversationDoc(chat, i, 1, now)];
      });
      await d.collection('conversations').insertMany(convs as never[], { ordered: false });
      conversations += convs.length;
    });
    const sizes = `${conversations.toLocaleString('en-US')} conversations / ${seeded.messages.toLocaleString('en-US')} messages`;
    console.log(`  seeded ${seeded.chats} chats, ${seeded.messages} messages, ${conversations} conversations in ${seeded.seconds.toFixed(1)} s`);
    const reports = new ConversationReports(new ConversationLog(store));
    const subject = `MongoDB test server, ${sizes}`;
    const to = utcDay(now);
    const from = (days: number) => utcDay(now - (days - 1) * DAY);
    const budget = quick ? 3_000 : 20_000;
    for (const days of [1, 7, 30, 92]) {
      const r = await reports.report(from(days), to);
      console.log(`  ${days}-day range reads ${r.totals.opened} conversations (first response median ${r.totals.first_response.median_s} s, p90 ${r.totals.first_response.p90_s} s)`);
      await time(`report, ${days} day${days > 1 ? 's' : ''}`, subject, () => reports.report(from(days), to), budget, days > 30 ? 5 : 20);
    }
    // The route end to end (auth, validation, JSON) for 30 days, through a pod on the same database.
    const app = await startApp(loadConfig(appEnv({ mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `bench:${tag}:` })));
    try {
      const token = signToken({ sub: 'bench-admin', role: 'admin' }, BENCH_JWT_SECRET);
      const url = `http://127.0.0.1:${app.port}/api/reports/conversations?from=${from(30)}&to=${to}`;
      await time('GET /api/reports/conversations, 30 days', subject, async () => {
        const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`report route answered ${res.status}`);
        await res.arrayBuffer();
      }, budget, 20);
    } finally {
      await app.stop();
    }
  } finally {
    await store.close();
    await client.close();
  }
  report.finish();
} finally {
  await dropDatabases(services.mongoUrl, [db]).catch(() => undefined);
  await services.stop();
}
