/**
 * Scenario — shard hand-over under load: what a rolling deploy does to message→agent latency.
 * Customer webhooks at 1,000 messages/s go to pod A, whose agent socket times each push (as in
 * message-to-agent); mid-run a second pod joins (it takes half of the shards over) or, with two
 * settled pods, one stops gracefully (its shards drain back to A). The messages whose shard
 * moved wait while it is unowned; the per-second p99 shows how long, and every acknowledged
 * message must still reach the agent (0 lost).
 */
import { appEnv, BENCH_JWT_SECRET, type AppBackends } from '../lib/app-env.ts';
import { smartChatUrl } from '../lib/agent-sockets.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag, sleep, startLoadgen, startPod, wantedSubject } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import type { Summary } from '../lib/stats.ts';
import type { M2aResult } from '../lib/m2a-result.ts';
import type { Child } from '../lib/proc.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { warmUpStore } from '../lib/store-floor.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const RATE = 1000;
const DURATION_MS = quick ? 10_000 : 20_000;
/** Not timed, as in message-to-agent: the 1,000 chats' first contacts (and their backlog: 4-6 s to drain). */
const WARMUP_MS = 5000;
/** When the second pod is started or stopped, from the load's start: after the first-contact backlog has drained. */
const CHANGE_AT_MS = quick ? 6000 : 7000;

const services = await servicesFromEnv();
const tag = runTag();
const db = `bench_handover_${tag}`;
const report = new Report('handover', mode);
const agents = await startLoadgen('agents');
const token = signToken({ sub: 'bench-agent' }, BENCH_JWT_SECRET);

type Pod = { pod: Child; port: number };
const startAppPod = (backends: AppBackends): Promise<Pod> => startPod('app', { BENCH_APP_ENV: JSON.stringify(appEnv(backends)) });
const shardsOf = (p: Pod) => p.pod.call<{ owned: number; total: number }>('shards');

/** Polls (bounded) until `done` holds for pod A's shard count; resolves with the time it took, or NaN. */
async function timeUntil(a: Pod, done: (s: { owned: number; total: number }) => boolean, limitMs: number): Promise<number> {
  const began = performance.now();
  while (performance.now() - began < limitMs) {
    if (done(await shardsOf(a))) return performance.now() - began;
    await sleep(50);
  }
  return NaN;
}

async function measure(change: 'join' | 'leave', backends: AppBackends): Promise<{ r: M2aResult; movedMs: number }> {
  const a = await startAppPod(backends);
  let b: Pod | undefined = change === 'leave' ? await startAppPod(backends) : undefined;
  try {
    if (b) {
      // Two settled pods first (each with its half), so only the leaving is measured.
      const settledMs = await timeUntil(a, (s) => s.owned === s.total / 2, 30_000);
      if (Number.isNaN(settledMs)) throw new Error('the two pods did not settle their shards in 30 s');
    }
    const run = agents.call<M2aResult>(
      'm2a',
      {
        wsUrl: smartChatUrl(a.port, token),
        drainMs: 10_000,
        windowMs: 1000,
        spec: { port: a.port, connections: 100, pipelining: 1, drainMs: 10_000, rate: RATE, durationMs: DURATION_MS, warmupMs: WARMUP_MS, customers: 1000, maxRequests: 1_000_000, runTag: `${tag}${change}` },
      },
      DURATION_MS + 60_000,
    );
    await sleep(CHANGE_AT_MS);
    let movedMs: number;
    if (change === 'join') {
      b = await startAppPod(backends);
      movedMs = await timeUntil(a, (s) => s.owned <= s.total / 2, 30_000);
    } else {
      const stopping = b!.pod.stop();
      movedMs = await timeUntil(a, (s) => s.owned === s.total, 30_000);
      await stopping;
      b = undefined;
    }
    const r = await run;
    for (const k of Object.keys(r.latencyMs) as (keyof Summary)[]) r.latencyMs[k] ??= NaN;
    return { r, movedMs };
  } finally {
    await Promise.all([a.pod.stop(), b?.pod.stop()]);
  }
}

try {
  console.log(`handover (${mode}): ${RATE} webhooks/s for ${DURATION_MS / 1000} s to pod A (first ${WARMUP_MS / 1000} s not timed); a second pod joins or leaves at ${CHANGE_AT_MS / 1000} s`);
  // The test server's JVM warmed in quick runs too: cold, it left pod A half a second behind before any change.
  await warmUpStore(services.mongoUrl, `${db}_warmup`, 8000);
  for (const change of ['join', 'leave'] as const) {
    if (!wantedSubject(change)) continue;
    const backends: AppBackends = { mongoUrl: services.mongoUrl, mongoDb: `${db}_${change}`, redisUrl: services.redisUrl, redisPrefix: `bench:${tag}:${change}:` };
    const { r, movedMs } = await measure(change, backends);
    const subject = change === 'join' ? 'smart-chat redis+mongo, a second pod joins' : 'smart-chat redis+mongo, one of two pods stops';
    const worst = r.windows.reduce((w, x) => ((x.latencyMs.p99 ?? 0) > (w?.latencyMs.p99 ?? -1) ? x : w), r.windows[0]);
    const perSecond = r.windows.map((w) => `${w.fromS.toFixed(0)} s: ${(w.latencyMs.p99 ?? NaN).toFixed(0)}`).join(', ');
    const notes = `${RATE} msg/s to pod A, agent on pod A; the change at ${CHANGE_AT_MS / 1000} s; pod A's shards ${change === 'join' ? 'down to half' : 'back to all'} ${(movedMs / 1000).toFixed(1)} s after it; ${r.measured} timed, ${r.missing} missing, ${r.non2xx} refused; p99 per second (ms, by when due): ${perSecond}`;
    console.log(`  ${subject}: p50 ${r.latencyMs.p50?.toFixed(1)} ms, p99 ${r.latencyMs.p99?.toFixed(1)} ms, max ${r.latencyMs.max?.toFixed(0)} ms, worst second p99 ${worst?.latencyMs.p99?.toFixed(0)} ms, lost ${r.lost}, shards moved in ${(movedMs / 1000).toFixed(1)} s`);
    console.log(`    ${perSecond}`);
    report.add({ metric: 'p99 webhook → agent push during the hand-over @1k msg/s', subject, value: r.latencyMs.p99, unit: 'ms', better: 'lower', notes });
    report.add({ metric: 'max webhook → agent push during the hand-over @1k msg/s', subject, value: r.latencyMs.max, unit: 'ms', better: 'lower' });
    report.add({ metric: 'shards moved (s after the change)', subject, value: movedMs / 1000, unit: 's', better: 'lower' });
    report.add({ metric: 'acknowledged, never pushed (lost)', subject, value: r.lost, unit: 'messages', better: 'lower', target: '0', target_met: r.lost === 0 });
  }
  report.finish();
} finally {
  await agents.stop();
  await dropDatabases(services.mongoUrl, [`${db}_join`, `${db}_leave`]).catch(() => undefined);
  await services.stop();
}
