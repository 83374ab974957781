/**
 * Scenario 3 — fan-out: 1,000 agent sockets in one room; one push per round;
 * each round is timed until the last socket has its frame. The sockets live in
 * a load-generator process; a round is triggered through the parent, which
 * tells the pod to publish (the same path for every server, IPC included).
 *
 * Subjects: smart-chat's room publish (uWS topics), socket.io 4 with its
 * in-memory adapter, socket.io 4 with the Redis adapter (one process), and the
 * product path end to end (a customer webhook until `new_message` reaches
 * all 1,000 sockets in that chat's room). Split across pods needs the
 * many-pods fan-out; the pods list is where it plugs in.
 */
import { smartChatUrl, socketIoUrl } from '../lib/agent-sockets.ts';
import { appEnv, BENCH_JWT_SECRET } from '../lib/app-env.ts';
import { Child } from '../lib/proc.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, startPod } from '../lib/scenario.ts';
import { servicesFromEnv } from '../lib/services.ts';
import type { Summary } from '../lib/stats.ts';
import { signToken } from '../../src/infra/jwt.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const SOCKETS = 1000;
const ROUNDS = quick ? 30 : 320;
const ROOM = 'bench-fanout-room';

const services = await servicesFromEnv();
const report = new Report('fanout', mode);
const token = signToken({ sub: 'bench-agent' }, BENCH_JWT_SECRET);

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
}

async function measure(label: string, podKind: string, env: Record<string, string>, url: (port: number) => string, protocol: 'smart-chat' | 'socketio', via: 'parent' | 'webhook', prepare?: (port: number) => Promise<string>): Promise<FanoutResult> {
  const { pod, port } = await startPod(podKind, env);
  const agents = new Child('loadgen/agents.ts', [], {
    lifetimeMs: 10 * 60_000,
    onRequest: async (cmd, args) => {
      if (cmd !== 'publish') throw new Error(`unexpected ${cmd}`);
      return pod.call('publish', { room: ROOM, event: 'new_message', data: payload(String(args.marker)) });
    },
  });
  try {
    await agents.ready;
    const room = prepare ? await prepare(port) : ROOM;
    await agents.call('connect', { url: url(port).replace(ROOM, room), count: SOCKETS, protocol }, 60_000);
    const cpuBefore = await pod.call<NodeJS.CpuUsage>('cpu');
    const r = await agents.call<FanoutResult>('fanout', { rounds: ROUNDS, via, port, customer: '919812345678', gapMs: 10, roundTimeoutMs: 2000, warmupRounds: quick ? 4 : 20, maxMs: quick ? 5000 : 60_000 }, 120_000);
    const cpuAfter = await pod.call<NodeJS.CpuUsage>('cpu');
    r.serverCpuMs = (cpuAfter.user + cpuAfter.system - cpuBefore.user - cpuBefore.system) / 1000 / r.roundsRun;
    r.serverSysMs = (cpuAfter.system - cpuBefore.system) / 1000 / r.roundsRun;
    console.log(`  ${label.padEnd(34)} ${r.rounds} rounds (${r.incomplete} incomplete): last socket p50 ${r.lastMs.p50.toFixed(2)} ms, p99 ${r.lastMs.p99.toFixed(2)} ms; first socket p50 ${r.firstMs.p50.toFixed(2)} ms; server CPU ${r.serverCpuMs.toFixed(2)} ms per round (${r.serverSysMs.toFixed(2)} ms in the kernel)`);
    return r;
  } finally {
    await agents.stop();
    await pod.stop();
  }
}

/** Opens the chat the end-to-end rounds post to, and returns its id (its room). */
async function openChat(port: number): Promise<string> {
  const { openSockets } = await import('../lib/agent-sockets.ts');
  const { webhookTemplate, WEBHOOK_PATH } = await import('../lib/webhook-body.ts');
  const dash = await openSockets(smartChatUrl(port, token), 1, 'smart-chat');
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
  console.log(`fanout (${mode}): ${SOCKETS} sockets in one room, ${ROUNDS} rounds, sockets in their own process, single pod / process`);
  const app = { BENCH_APP_ENV: JSON.stringify(appEnv()) };
  const ours = await measure('smart-chat (uWS topic publish)', 'app', app, (p) => smartChatUrl(p, token, ROOM), 'smart-chat', 'parent');
  const sio = await measure('socket.io (memory adapter)', 'socketio', { BENCH_SIO_ADAPTER: 'memory' }, (p) => socketIoUrl(p, ROOM), 'socketio', 'parent');
  const sioRedis = await measure('socket.io (redis adapter)', 'socketio', { BENCH_SIO_ADAPTER: 'redis', BENCH_REDIS_URL: services.redisUrl }, (p) => socketIoUrl(p, ROOM), 'socketio', 'parent');
  const e2e = await measure('smart-chat webhook → new_message', 'app', app, (p) => smartChatUrl(p, token, ROOM), 'smart-chat', 'webhook', openChat);

  const subject = 'smart-chat, 1 pod';
  for (const [q, key] of [['p50', 'p50'], ['p99', 'p99']] as const) {
    const metric = `${q} publish → last of ${SOCKETS} sockets`;
    const target = q === 'p99' ? { target: '< 25 ms', target_met: ours.lastMs.p99 < 25 && ours.incomplete === 0 } : {};
    report.add({ metric, subject: 'socket.io 4, memory adapter', value: sio.lastMs[key], unit: 'ms', better: 'lower' });
    report.add({ metric, subject: 'socket.io 4, redis adapter, 1 process', value: sioRedis.lastMs[key], unit: 'ms', better: 'lower' });
    report.compare({ metric, subject, value: ours.lastMs[key], unit: 'ms', better: 'lower', ...target }, { subject: 'socket.io 4, memory adapter', value: sio.lastMs[key], unit: 'ms' });
    const vsRedis = q === 'p99' ? { target: '≥ 3× faster', target_met: sioRedis.lastMs.p99 / ours.lastMs.p99 >= 3 } : {};
    report.compare({ metric, subject, value: ours.lastMs[key], unit: 'ms', better: 'lower', ...vsRedis }, { subject: 'socket.io 4, redis adapter, 1 process', value: sioRedis.lastMs[key], unit: 'ms' });
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
  await services.stop();
}
