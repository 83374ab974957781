/**
 * Scenario 2 — message to agent: customer webhooks POSTed at a fixed 1,000
 * messages/s (1,000 customers, so one message per customer per second) while
 * an agent's dashboard socket listens; each message is timed from its POST
 * until its first push (`room_update_customer`) reaches the socket. The load
 * generator and the agent socket share one process (one clock) apart from the pod.
 *
 * Single pod, embedded and on Redis + the MongoDB-compatible server. Across
 * pods (POST to one pod, agent on another) needs the many-pods routing; see
 * `podsFor` below for where it plugs in.
 */
import { appEnv, BENCH_JWT_SECRET, type AppBackends } from '../lib/app-env.ts';
import { smartChatUrl } from '../lib/agent-sockets.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag, startLoadgen, startPod } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import type { Summary } from '../lib/stats.ts';
import { signToken } from '../../src/infra/jwt.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const RATE = 1000;
const DURATION_MS = quick ? 3000 : 12_000;
const WARMUP_MS = quick ? 1000 : 2000;

const services = await servicesFromEnv();
const tag = runTag();
const db = `bench_m2a_${tag}`;
const report = new Report('message-to-agent', mode);
const agents = await startLoadgen('agents');
const token = signToken({ sub: 'bench-agent' }, BENCH_JWT_SECRET);

interface M2aResult {
  sent: number;
  measured: number;
  missing: number;
  latencyMs: Summary;
  ackMs: Summary;
  non2xx: number;
  scheduleLagMsP99: number;
}

async function measure(label: string, backends: AppBackends, rate: number): Promise<M2aResult> {
  const { pod, port } = await startPod('app', { BENCH_APP_ENV: JSON.stringify(appEnv(backends)) });
  try {
    const r = await agents.call<M2aResult>(
      'm2a',
      {
        wsUrl: smartChatUrl(port, token),
        drainMs: quick ? 3000 : 10_000,
        spec: { port, connections: 100, pipelining: 1, drainMs: quick ? 2000 : 5000, rate, durationMs: DURATION_MS, warmupMs: WARMUP_MS, customers: 1000, maxRequests: 1_000_000, runTag: `${tag}${label.length}` },
      },
      DURATION_MS + 60_000,
    );
    for (const k of Object.keys(r.latencyMs) as (keyof Summary)[]) r.latencyMs[k] ??= NaN;
    console.log(`  ${label.padEnd(22)} @${rate}/s sent ${r.sent}, timed ${r.measured}, missing ${r.missing}: p50 ${r.latencyMs.p50?.toFixed(2)} ms, p99 ${r.latencyMs.p99?.toFixed(2)} ms (ack p99 ${r.ackMs.p99?.toFixed(2)} ms)`);
    return r;
  } finally {
    await pod.stop();
  }
}

try {
  console.log(`message-to-agent (${mode}): ${RATE} webhooks/s for ${DURATION_MS / 1000} s (first ${WARMUP_MS / 1000} s not timed), single pod`);
  const mongo: AppBackends = { mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `bench:${tag}:` };
  // The rate, and (full runs) a lower one each setup can keep up with, to show the unloaded latency.
  const setups: { label: string; backends: AppBackends; rate: number }[] = [
    { label: 'smart-chat embedded', backends: {}, rate: RATE },
    { label: 'smart-chat redis+mongo', backends: mongo, rate: RATE },
    ...(quick ? [] : [{ label: 'smart-chat embedded', backends: {}, rate: 200 }, { label: 'smart-chat redis+mongo', backends: { ...mongo, mongoDb: `${db}_low`, redisPrefix: `bench:${tag}:low:` }, rate: 100 }]),
  ];
  for (const s of setups) {
    const r = await measure(s.label, s.backends, s.rate);
    const notes = `${s.rate} msg/s: ${r.measured} messages due after the warm-up, timed from when each was due; ${r.missing} had not reached the agent when measuring stopped (${quick ? 3 : 10} s after the last POST) and count with that lower bound; ${r.sent} POSTs written; generator lag p99 ${r.scheduleLagMsP99.toFixed(2)} ms`;
    const subject = `${s.label}, 1 pod`;
    const at = s.rate === RATE ? '@1k msg/s' : `@${s.rate} msg/s`;
    report.add({ metric: `p50 webhook → agent push ${at}`, subject, value: r.latencyMs.p50, unit: 'ms', better: 'lower', notes });
    report.add({
      metric: `p99 webhook → agent push ${at}`, subject, value: r.latencyMs.p99, unit: 'ms', better: 'lower',
      ...(s.rate === RATE ? { target: '< 10 ms', target_met: r.latencyMs.p99 < 10 && r.missing === 0 } : {}),
    });
    report.add({ metric: `p99 webhook ack ${at}`, subject, value: r.ackMs.p99, unit: 'ms', better: 'lower' });
  }
  report.finish();
} finally {
  await agents.stop();
  await dropDatabases(services.mongoUrl, [db, `${db}_low`]).catch(() => undefined);
  await services.stop();
}
