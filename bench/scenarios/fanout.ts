/**
 * Scenario 3 — fan-out: 1,000 agent sockets in one room; one push per round;
 * each round is timed until the last socket has its frame. The sockets live in
 * a load-generator process; a round is triggered through the parent, which
 * tells the pod to publish (the same path for every server, IPC included).
 *
 * Subjects: smart-chat's room publish (uWS topics), socket.io 4 with its
 * in-memory adapter, socket.io 4 with the Redis adapter (one process), and the
 * product path end to end (a customer webhook until `new_message` reaches
 * all 1,000 sockets in that chat's room). Then split across two: two
 * smart-chat pods sharing Redis (cross-pod room fan-out) against two socket.io
 * processes joined by the Redis adapter, the push published on the first.
 */
import { buildFanoutReader, runGoReader, smartChatUrl, socketIoUrl } from '../lib/agent-sockets.ts';
import { appEnv, BENCH_JWT_SECRET } from '../lib/app-env.ts';
import { Child } from '../lib/proc.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag, startPod } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import { summarize, type Summary } from '../lib/stats.ts';
import { webhookTemplate, WEBHOOK_PATH } from '../lib/webhook-body.ts';
import { signToken } from '../../src/infra/jwt.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const SOCKETS = 1000;
const ROUNDS = quick ? 20 : 320;
const ROOM = 'bench-fanout-room';

const services = await servicesFromEnv();
const tag = runTag();
const db = `bench_fanout_${tag}`;
const report = new Report('fanout', mode);
const token = signToken({ sub: 'bench-agent' }, BENCH_JWT_SECRET);
/** The customer whose chat the end-to-end rounds post to. */
const CUSTOMER = '919812345678';

/** A realistic `new_message` payload (the shape agents get), with the round's marker in the text. */
const payload = (marker: string) => ({
  _id: '6b0a3c7d9e8f1a2b3c4d5e6f:42',
  chat_id: '6b0a3c7d9e8f1a2b3c4d5e6f',
  seq: 42,
  sender: '9876543210',
  type: 'Customer',
  message: `Need a cab from Ahmedabad to Rajkot tomorrow at 7 ${marker}`,
  message_type: 'text',
  channel: '8000247247',
  wa_message_id: 'wamid.HBgMOTE5ODc2NTQzMjEwFQIAEhgUM0VCMDdBRjYxNTc0MEI3RjA0NDUA',
  datetime: '2026-11-28T06:30:00.000Z',
  datetime_ist: '28/11/2026, 12:00:00',
  seen_by: [],
});

interface FanoutResult {
  sockets: number;
  rounds: number;
  incomplete: number;
  lastMs: Summary;
  firstMs: Summary;
  roundsRun: number;
  /** The pod's CPU time per round (mean, ms): its fan-out cost apart from how fast clients read. */
  serverCpuMs: number;
  /** The part of it spent in the kernel (socket writes on loopback). */
  serverSysMs: number;
  /** Go reader only: trigger → the pod's publish call answered (relay + publish), and the reader's CPU per round. */
  ackMs?: Summary;
  readerCpuMs?: number;
  readerSysMs?: number;
}

interface Setup {
  label: string;
  podKind: string;
  env: Record<string, string>;
  /** Pods of this kind sharing the sockets round-robin; the push is published on the first. */
  pods: number;
  url: (port: number, room: string) => string;
  protocol: 'smart-chat' | 'socketio';
  via: 'parent' | 'webhook';
  /** Makes the room the rounds use (the end-to-end variant opens a chat); default ROOM. */
  prepare?: (port: number) => Promise<string>;
}

/** `go` (default): bench/loadgen/fanout-reader holds the sockets; `node`: the older in-Node reader (loadgen/agents.ts), kept to compare. */
const READER = process.env.BENCH_FANOUT_READER === 'node' ? 'node' : 'go';
/** BENCH_FANOUT_SPIN=1: the Go reader polls without sleeping while a round is on (see its poller); default: it sleeps in epoll_wait. */
const SPIN = process.env.BENCH_FANOUT_SPIN === '1';
const readerBin = READER === 'go' ? buildFanoutReader() : '';

async function measure(s: Setup): Promise<FanoutResult> {
  const pods = await Promise.all(Array.from({ length: s.pods }, () => startPod(s.podKind, s.env)));
  const first = pods[0]!;
  let target = ROOM;
  const publish = (marker: string) => first.pod.call('publish', { room: target, event: 'new_message', data: payload(marker) });
  const cpu = async () => {
    const all = await Promise.all(pods.map((p) => p.pod.call<NodeJS.CpuUsage>('cpu')));
    return all.reduce((a, b) => ({ user: a.user + b.user, system: a.system + b.system }), { user: 0, system: 0 });
  };
  const rounds = { rounds: ROUNDS, gapMs: 10, roundTimeoutMs: 2000, warmupRounds: quick ? 3 : 20, maxMs: quick ? 5000 : 60_000 };
  let agents: Child | undefined;
  try {
    const room = s.prepare ? await s.prepare(first.port) : ROOM;
    target = room;
    const urls = pods.map((p) => s.url(p.port, room));
    let cpuBefore: NodeJS.CpuUsage = { user: 0, system: 0 };
    let r: FanoutResult;
    if (READER === 'go') {
      const webhook = s.via === 'webhook'
        ? {
            webhookUrl: `http://127.0.0.1:${first.port}${WEBHOOK_PATH}`,
            // As the Node reader sends it: the customer fixed, the message id and the marker filled per round.
            webhookBody: webhookTemplate(`fanout${tag}`).replaceAll('CCCCCCCC', CUSTOMER.slice(2)).replace('ref TTTTTTTTTTTT', 'MARKER'),
          }
        : {};
      const g = await runGoReader(readerBin, { urls, count: SOCKETS, protocol: s.protocol, via: s.via, ...rounds, ...webhook, spin: SPIN, lifetimeMs: 4 * 60_000 }, {
        onReady: async () => {
          // A pod learns of a room's members elsewhere asynchronously (a Redis subscription): let that settle.
          if (s.pods > 1) await new Promise((res) => setTimeout(res, 500));
          cpuBefore = await cpu();
        },
        onPublish: publish,
      });
      r = { sockets: g.sockets, rounds: g.lastMs.length, incomplete: g.incomplete, lastMs: summarize(g.lastMs), firstMs: summarize(g.firstMs), ackMs: summarize(g.ackMs), roundsRun: g.roundsRun, serverCpuMs: 0, serverSysMs: 0, readerCpuMs: g.readerCpuMs, readerSysMs: g.readerSysMs };
    } else {
      agents = new Child('loadgen/agents.ts', [], { lifetimeMs: 10 * 60_000, onRequest: async (_cmd, args) => publish(String(args.marker)) });
      await agents.ready;
      await agents.call('connect', { urls, count: SOCKETS, protocol: s.protocol }, 60_000);
      if (s.pods > 1) await new Promise((res) => setTimeout(res, 500));
      cpuBefore = await cpu();
      r = await agents.call<FanoutResult>('fanout', { ...rounds, via: s.via, port: first.port, customer: CUSTOMER }, 120_000);
    }
    const cpuAfter = await cpu();
    r.serverCpuMs = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000 / r.roundsRun;
    r.serverSysMs = (cpuAfter.system - cpuBefore.system) / 1000 / r.roundsRun;
    const extra = r.readerCpuMs !== undefined ? `; trigger → pod's publish returned p50 ${r.ackMs?.p50?.toFixed(2)} ms; reader CPU ${r.readerCpuMs.toFixed(2)} ms per round (${r.readerSysMs?.toFixed(2)} ms in the kernel)` : '';
    console.log(`  ${s.label.padEnd(40)} ${r.rounds} rounds (${r.incomplete} incomplete): last socket p50 ${r.lastMs.p50?.toFixed(2)} ms, p99 ${r.lastMs.p99?.toFixed(2)} ms; first socket p50 ${r.firstMs.p50?.toFixed(2)} ms; server CPU ${r.serverCpuMs.toFixed(2)} ms per round (${r.serverSysMs.toFixed(2)} ms in the kernel)${extra}`);
    for (const q of ['p50', 'p99'] as const) {
      r.lastMs[q] ??= NaN;
      r.firstMs[q] ??= NaN;
    }
    return r;
  } finally {
    await agents?.stop();
    await Promise.all(pods.map((p) => p.pod.stop()));
  }
}

/**
 * The floor under every server: the Go reader connects to itself and a bare writer thread sends the
 * round's frame (the size of a real push) with one write(2) per socket — nothing but the kernel's
 * loopback TCP path. A server's fan-out time here is this plus its own work.
 */
async function measureFloor(): Promise<FanoutResult & { writerCpuMs: number }> {
  const g = await runGoReader(readerBin, { urls: [], count: SOCKETS, protocol: 'floor', via: 'parent', rounds: ROUNDS, gapMs: 10, roundTimeoutMs: 2000, warmupRounds: quick ? 3 : 20, maxMs: quick ? 5000 : 60_000, floorPayload: JSON.stringify({ event: 'new_message', data: payload('MARKER') }), spin: SPIN, lifetimeMs: 4 * 60_000 }, {
    onReady: async () => undefined,
    onPublish: async () => Promise.reject(new Error('the floor writes its rounds itself')),
  });
  const r = { sockets: g.sockets, rounds: g.lastMs.length, incomplete: g.incomplete, lastMs: summarize(g.lastMs), firstMs: summarize(g.firstMs), roundsRun: g.roundsRun, serverCpuMs: g.writerCpuMs ?? NaN, serverSysMs: NaN, readerCpuMs: g.readerCpuMs, readerSysMs: g.readerSysMs, writerCpuMs: g.writerCpuMs ?? NaN };
  console.log(`  ${'floor: bare writer, 1 write(2) per socket'.padEnd(40)} ${r.rounds} rounds (${r.incomplete} incomplete): last socket p50 ${r.lastMs.p50?.toFixed(2)} ms, p99 ${r.lastMs.p99?.toFixed(2)} ms; first socket p50 ${r.firstMs.p50?.toFixed(2)} ms; writer CPU ${r.writerCpuMs.toFixed(2)} ms per round; reader CPU ${r.readerCpuMs.toFixed(2)} ms per round (${r.readerSysMs.toFixed(2)} ms in the kernel)`);
  return r;
}

/** Opens the chat the end-to-end rounds post to, and returns its id (its room). */
async function openChat(port: number): Promise<string> {
  const { openSockets } = await import('../lib/agent-sockets.ts');
  const dash = await openSockets([smartChatUrl(port, token)], 1, 'smart-chat');
  const chatId = new Promise<string>((resolve) => (dash.onFrame = (_i, payload) => {
    const m = /"chat_id":"([0-9a-f]{24})"/.exec(payload.toString('utf8'));
    if (m) resolve(m[1]!);
  }));
  const body = webhookTemplate('open').replaceAll('CCCCCCCC', '12345678').replaceAll('IIIIIIIIIIII', '000000000000').replace('TTTTTTTTTTTT', 'hello');
  await fetch(`http://127.0.0.1:${port}${WEBHOOK_PATH}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } }).then((r) => r.arrayBuffer());
  const id = await Promise.race([chatId, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no room_update for the new chat within 10 s')), 10_000))]);
  await dash.close();
  return id;
}

try {
  console.log(`fanout (${mode}): ${SOCKETS} sockets in one room, ${ROUNDS} rounds, sockets in their own process (${READER === 'go' ? `Go reader, bench/loadgen/fanout-reader${SPIN ? ', polling during rounds' : ''}` : 'Node reader, loadgen/agents.ts'}), single pod / process`);
  const app = { BENCH_APP_ENV: JSON.stringify(appEnv()) };
  const ourUrl = (p: number, room: string) => smartChatUrl(p, token, room);
  const floor = READER === 'go' ? await measureFloor() : undefined;
  // The room is a real chat's: /ws/{chat_id} of a chat that does not exist is closed with 4404 (0d83f56).
  const ours = await measure({ label: 'smart-chat (uWS topic publish)', podKind: 'app', env: app, pods: 1, url: ourUrl, protocol: 'smart-chat', via: 'parent', prepare: openChat });
  const sio = await measure({ label: 'socket.io (memory adapter)', podKind: 'socketio', env: { BENCH_SIO_ADAPTER: 'memory' }, pods: 1, url: socketIoUrl, protocol: 'socketio', via: 'parent' });
  const sioRedisEnv = { BENCH_SIO_ADAPTER: 'redis', BENCH_REDIS_URL: services.redisUrl, BENCH_SIO_KEY: `bench-sio-${tag}` };
  const sioRedis = await measure({ label: 'socket.io (redis adapter)', podKind: 'socketio', env: sioRedisEnv, pods: 1, url: socketIoUrl, protocol: 'socketio', via: 'parent' });
  const e2e = await measure({ label: 'smart-chat webhook → new_message', podKind: 'app', env: app, pods: 1, url: ourUrl, protocol: 'smart-chat', via: 'webhook', prepare: openChat });
  // Split across two pods / processes: smart-chat pods share Redis (cross-pod room fan-out) and MongoDB.
  const shared = { BENCH_APP_ENV: JSON.stringify(appEnv({ mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `bench:${tag}:` })) };
  const ours2 = await measure({ label: 'smart-chat, 2 pods (Redis fan-out)', podKind: 'app', env: shared, pods: 2, url: ourUrl, protocol: 'smart-chat', via: 'parent', prepare: openChat });
  const sio2 = await measure({ label: 'socket.io (redis adapter), 2 processes', podKind: 'socketio', env: { ...sioRedisEnv, BENCH_SIO_KEY: `bench-sio2-${tag}` }, pods: 2, url: socketIoUrl, protocol: 'socketio', via: 'parent' });

  {
    const metric = `p99 publish → last of ${SOCKETS} sockets, split across 2`;
    report.add({ metric, subject: 'socket.io 4, redis adapter, 2 processes', value: sio2.lastMs.p99, unit: 'ms', better: 'lower', notes: `${sio2.rounds} rounds, ${sio2.incomplete} incomplete` });
    report.compare(
      { metric, subject: 'smart-chat, 2 pods', value: ours2.lastMs.p99, unit: 'ms', better: 'lower', target: '< 25 ms, ≥ 3× faster', target_met: ours2.incomplete === 0 && ours2.lastMs.p99 < 25 && sio2.lastMs.p99 / ours2.lastMs.p99 >= 3, notes: `${ours2.rounds} rounds, ${ours2.incomplete} incomplete (a round is incomplete when some socket had no frame within 2 s)` },
      { subject: 'socket.io 4, redis adapter, 2 processes', value: sio2.lastMs.p99, unit: 'ms' },
    );
    const p50 = `p50 publish → last of ${SOCKETS} sockets, split across 2`;
    report.add({ metric: p50, subject: 'socket.io 4, redis adapter, 2 processes', value: sio2.lastMs.p50, unit: 'ms', better: 'lower' });
    report.compare({ metric: p50, subject: 'smart-chat, 2 pods', value: ours2.lastMs.p50, unit: 'ms', better: 'lower' }, { subject: 'socket.io 4, redis adapter, 2 processes', value: sio2.lastMs.p50, unit: 'ms' });
    const cpuMetric = `servers' CPU per push to ${SOCKETS} sockets split across 2 (mean)`;
    report.add({ metric: cpuMetric, subject: 'socket.io 4, redis adapter, 2 processes', value: sio2.serverCpuMs, unit: 'ms', better: 'lower' });
    report.compare({ metric: cpuMetric, subject: 'smart-chat, 2 pods', value: ours2.serverCpuMs, unit: 'ms', better: 'lower' }, { subject: 'socket.io 4, redis adapter, 2 processes', value: sio2.serverCpuMs, unit: 'ms' });
  }

  const subject = 'smart-chat, 1 pod';
  for (const [q, key] of [['p50', 'p50'], ['p99', 'p99']] as const) {
    const metric = `${q} publish → last of ${SOCKETS} sockets`;
    const reader = READER === 'go'
      ? `${ours.rounds} rounds, ${ours.incomplete} incomplete; read by bench/loadgen/fanout-reader (Go, one epoll thread${SPIN ? ' polling while a round is on' : ''}), timed from the trigger it sends; trigger → first socket p50 ${ours.firstMs.p50.toFixed(2)} ms (the relay through the scenario to the pod)`
      : `${ours.rounds} rounds, ${ours.incomplete} incomplete; read by the Node reader (loadgen/agents.ts)`;
    const target = q === 'p99' ? { target: '< 25 ms', target_met: ours.lastMs.p99 < 25 && ours.incomplete === 0, notes: reader } : {};
    report.add({ metric, subject: 'socket.io 4, memory adapter', value: sio.lastMs[key], unit: 'ms', better: 'lower' });
    report.add({ metric, subject: 'socket.io 4, redis adapter, 1 process', value: sioRedis.lastMs[key], unit: 'ms', better: 'lower' });
    report.compare({ metric, subject, value: ours.lastMs[key], unit: 'ms', better: 'lower', ...target }, { subject: 'socket.io 4, memory adapter', value: sio.lastMs[key], unit: 'ms' });
    const vsRedis = q === 'p99' ? { target: '≥ 3× faster', target_met: sioRedis.lastMs.p99 / ours.lastMs.p99 >= 3 } : {};
    report.compare({ metric, subject, value: ours.lastMs[key], unit: 'ms', better: 'lower', ...vsRedis }, { subject: 'socket.io 4, redis adapter, 1 process', value: sioRedis.lastMs[key], unit: 'ms' });
  }
  if (floor) {
    const what = 'no server: a bare writer thread, one write(2) per socket, read by the same Go reader; the least any server can take here';
    for (const q of ['p50', 'p99'] as const) {
      report.add({ metric: `${q} publish → last of ${SOCKETS} sockets`, subject: 'floor: bare loopback writer', value: floor.lastMs[q], unit: 'ms', better: 'lower', notes: q === 'p50' ? what : `${floor.rounds} rounds, ${floor.incomplete} incomplete` });
    }
    report.add({ metric: `server CPU per push to ${SOCKETS} sockets (mean)`, subject: 'floor: bare loopback writer', value: floor.writerCpuMs, unit: 'ms', better: 'lower', notes: "the writer thread's CPU time (user + kernel) per round" });
    // Issue 16: smart-chat's p99 within 1.2× the floor's (the same run, the same reader).
    report.compare(
      { metric: `p99 publish → last of ${SOCKETS} sockets, against the floor`, subject, value: ours.lastMs.p99, unit: 'ms', better: 'lower', target: '≤ 1.2× the floor', target_met: ours.incomplete === 0 && ours.lastMs.p99 <= 1.2 * floor.lastMs.p99 },
      { subject: 'floor: bare loopback writer', value: floor.lastMs.p99, unit: 'ms' },
    );
  }
  {
    const metric = `server CPU per push to ${SOCKETS} sockets (mean)`;
    const kernel = (r: FanoutResult) => `of which ${r.serverSysMs.toFixed(2)} ms in the kernel (loopback socket writes)`;
    const notes = `the pod's CPU time over the run divided by its rounds: the server-side fan-out cost, apart from how fast the clients read; ${kernel(ours)}`;
    report.add({ metric, subject: 'socket.io 4, memory adapter', value: sio.serverCpuMs, unit: 'ms', better: 'lower', notes: kernel(sio) });
    report.add({ metric, subject: 'socket.io 4, redis adapter, 1 process', value: sioRedis.serverCpuMs, unit: 'ms', better: 'lower', notes: kernel(sioRedis) });
    report.compare({ metric, subject, value: ours.serverCpuMs, unit: 'ms', better: 'lower', notes }, { subject: 'socket.io 4, memory adapter', value: sio.serverCpuMs, unit: 'ms' });
    report.compare({ metric, subject, value: ours.serverCpuMs, unit: 'ms', better: 'lower' }, { subject: 'socket.io 4, redis adapter, 1 process', value: sioRedis.serverCpuMs, unit: 'ms' });
  }
  for (const q of ['p50', 'p99'] as const) {
    report.add({ metric: `${q} webhook → new_message at last of ${SOCKETS} sockets`, subject, value: e2e.lastMs[q], unit: 'ms', better: 'lower', notes: `end to end: webhook POST, inbox, chat actor, message stored, room push (${e2e.rounds} rounds)` });
  }
  report.finish();
} finally {
  await dropDatabases(services.mongoUrl, [db]).catch(() => undefined);
  await services.stop();
}
