/**
 * Soak — two pods on Redis + the MongoDB-compatible server, customer webhooks
 * POSTed to pod 1 at 500 messages/s for 10 minutes (quick: 1 minute) while an
 * agent's dashboard socket on pod 2 times each message to its push. Every
 * 5 s: both pods' RSS and Redis's `used_memory`. Reported: the last
 * minute's p99 against the first's, RSS and Redis memory growth after the
 * warm-up (the least-squares line through every sample from minute 2 on, its
 * end against its start: a pod's RSS swings ±25 % with its collector, so two
 * single samples cannot show a 10 % trend, while a leak tilts the line), and
 * messages acknowledged but never pushed ("lost"). Opt-in:
 * `npm run bench -- --only=soak` (not in a plain full run).
 */
import { Redis } from 'ioredis';
import { appEnv, BENCH_JWT_SECRET, type AppBackends } from '../lib/app-env.ts';
import { smartChatUrl } from '../lib/agent-sockets.ts';
import { Report } from '../lib/report.ts';
import { modeFromArgs, runTag, sleep, startLoadgen, startPod } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import type { Summary } from '../lib/stats.ts';
import type { M2aResult } from '../lib/m2a-result.ts';
import { signToken } from '../../src/infra/jwt.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const RATE = 500;
const DURATION_MS = quick ? 60_000 : 600_000;
const WINDOW_MS = quick ? 10_000 : 60_000;
/** Memory is sampled this often; each window reports its lowest and highest sample. */
const SAMPLE_MS = quick ? 2_000 : 5_000;
/** Not timed: the pods' and the test server's JIT warm-up and the first message of each of the 1,000 chats. */
const WARMUP_MS = quick ? 10_000 : 30_000;

const services = await servicesFromEnv();
const tag = runTag();
const db = `bench_soak_${tag}`;
const report = new Report('soak', mode);
const agents = await startLoadgen('agents', DURATION_MS + 5 * 60_000);
const token = signToken({ sub: 'bench-agent' }, BENCH_JWT_SECRET);
const redis = new Redis(services.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });


async function redisMemory(): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
}

const mib = (b: number) => b / 1024 / 1024;

interface MemorySample {
  atS: number;
  rssMiB: number[];
  redisMiB: number;
}
interface MemoryWindow {
  fromS: number;
  samples: number;
  /** Per pod, the window's lowest RSS (what a leak raises) and highest (the collector's swing). */
  rssMiB: number[];
  rssHighMiB: number[];
  redisMiB: number;
}

/** Growth along the least-squares line through `points`: its value at the last point's time over its value at the first's, minus one. */
function fittedGrowth(points: readonly { t: number; v: number }[]): number {
  const n = points.length;
  if (n < 2) return NaN;
  const mt = points.reduce((a, p) => a + p.t, 0) / n;
  const mv = points.reduce((a, p) => a + p.v, 0) / n;
  const slope = points.reduce((a, p) => a + (p.t - mt) * (p.v - mv), 0) / points.reduce((a, p) => a + (p.t - mt) ** 2, 0);
  const at = (t: number) => mv + slope * (t - mt);
  return at(points[n - 1]!.t) / at(points[0]!.t) - 1;
}

/** The samples grouped by window; a last window with under half its samples (the run's tail) is left out. */
function memoryWindows(samples: readonly MemorySample[]): MemoryWindow[] {
  const groups = new Map<number, MemorySample[]>();
  for (const s of samples) {
    const i = Math.floor(s.atS / (WINDOW_MS / 1000));
    const group = groups.get(i);
    if (group) group.push(s);
    else groups.set(i, [s]);
  }
  const full = WINDOW_MS / SAMPLE_MS;
  return [...groups]
    .filter(([, g]) => g.length >= full / 2)
    .map(([i, g]) => ({
      fromS: (i * WINDOW_MS) / 1000,
      samples: g.length,
      rssMiB: g[0]!.rssMiB.map((_, pod) => Math.min(...g.map((s) => s.rssMiB[pod]!))),
      rssHighMiB: g[0]!.rssMiB.map((_, pod) => Math.max(...g.map((s) => s.rssMiB[pod]!))),
      redisMiB: Math.min(...g.map((s) => s.redisMiB)),
    }));
}

try {
  await redis.connect();
  const backends: AppBackends = { mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `bench:soak:${tag}:` };
  const pods = await Promise.all([0, 1].map(() => startPod('app', { BENCH_APP_ENV: JSON.stringify(appEnv(backends)) }, DURATION_MS + 5 * 60_000)));
  console.log(`soak (${mode}): ${RATE} webhooks/s for ${DURATION_MS / 60_000} min to pod 1, agent on pod 2; memory sampled every ${SAMPLE_MS / 1000} s`);
  const memory: MemorySample[] = [];
  let sampling = true;
  const t0 = performance.now();
  const sampler = (async () => {
    while (sampling) {
      const rss = await Promise.all(pods.map((p) => p.pod.call<NodeJS.MemoryUsage>('memory').then((m) => mib(m.rss))));
      const sample = { atS: (performance.now() - t0) / 1000, rssMiB: rss, redisMiB: mib(await redisMemory()) };
      memory.push(sample);
      // One progress line per window: its first sample.
      if ((memory.length - 1) % (WINDOW_MS / SAMPLE_MS) === 0) {
        console.log(`  ${sample.atS.toFixed(0).padStart(4)} s  RSS ${rss.map((r) => r.toFixed(0)).join(' / ')} MiB  redis ${sample.redisMiB.toFixed(1)} MiB`);
      }
      const next = t0 + memory.length * SAMPLE_MS;
      while (sampling && performance.now() < next) await sleep(Math.min(500, next - performance.now()));
    }
  })();
  let r: M2aResult;
  try {
    r = await agents.call<M2aResult>(
      'm2a',
      {
        wsUrl: smartChatUrl(pods[1]!.port, token),
        drainMs: 10_000,
        windowMs: WINDOW_MS,
        spec: { port: pods[0]!.port, connections: 100, pipelining: 1, drainMs: 10_000, rate: RATE, durationMs: DURATION_MS, warmupMs: WARMUP_MS, customers: 1000, maxRequests: 10_000_000, runTag: tag },
      },
      DURATION_MS + 120_000,
    );
  } finally {
    sampling = false;
    await sampler;
    await Promise.all(pods.map((p) => p.pod.stop()));
  }
  for (const w of r.windows) console.log(`  window from ${w.fromS.toFixed(0).padStart(4)} s: ${w.count} messages, p50 ${w.latencyMs.p50?.toFixed(2)} ms, p99 ${w.latencyMs.p99?.toFixed(2)} ms, ${w.missing} acknowledged and not pushed, ${w.refused} refused (not timed)`);
  console.log(`  sent ${r.sent}, acknowledged ${r.acked}, refused ${r.non2xx}, lost ${r.lost}`);

  // Full windows only (the last may be a partial one).
  const windows = r.windows.filter((w) => w.count + w.refused >= ((RATE * WINDOW_MS) / 1000) * 0.9);
  const first = windows[0];
  const last = windows.at(-1);
  // After the warm-up: the trend through every sample from the second window on.
  const byWindow = memoryWindows(memory);
  for (const w of byWindow) console.log(`  memory ${w.fromS.toFixed(0).padStart(4)} s: RSS low ${w.rssMiB.map((v) => v.toFixed(0)).join(' / ')} MiB, high ${w.rssHighMiB.map((v) => v.toFixed(0)).join(' / ')} MiB; redis low ${w.redisMiB.toFixed(2)} MiB (${w.samples} samples)`);
  const warm = byWindow[Math.min(1, byWindow.length - 1)];
  const end = byWindow.at(-1);
  const subject = 'smart-chat redis+mongo, 2 pods, POST to pod 1, agent on pod 2';
  const notes = `${RATE} msg/s for ${DURATION_MS / 1000} s; ${r.sent} POSTs, ${r.acked} acknowledged, ${r.non2xx} refused; windows of ${WINDOW_MS / 1000} s by when each message was due, from ${WARMUP_MS / 1000} s on (before: warm-up, not timed); refused messages (503, which a sender retries) are counted, not timed`;
  if (first && last) {
    report.add({ metric: 'p99 webhook → agent push, first window', subject, value: first.latencyMs.p99, unit: 'ms', better: 'lower', notes });
    const growth = last.latencyMs.p99 / first.latencyMs.p99;
    report.add({ metric: 'p99 webhook → agent push, last window', subject, value: last.latencyMs.p99, unit: 'ms', better: 'lower' });
    report.add({ metric: 'p99 last window / first window', subject, value: growth, unit: '×', better: 'lower', target: '≤ 1.2', target_met: growth <= 1.2 });
  }
  if (warm && end) {
    const after = memory.filter((m) => m.atS >= warm.fromS);
    const rssGrowth = Math.max(...warm.rssMiB.map((_, pod) => fittedGrowth(after.map((m) => ({ t: m.atS, v: m.rssMiB[pod]! })))));
    const redisGrowth = fittedGrowth(after.map((m) => ({ t: m.atS, v: m.redisMiB })));
    const window = (w: MemoryWindow) => `${w.rssMiB.map((v) => v.toFixed(0)).join(' / ')} MiB (high ${w.rssHighMiB.map((v) => v.toFixed(0)).join(' / ')}) in the window from ${w.fromS.toFixed(0)} s`;
    report.add({ metric: 'RSS after warm-up → end (larger pod)', subject, value: Math.max(...end.rssMiB), unit: 'MiB', better: 'lower', notes: `each window's lowest RSS of its samples every ${SAMPLE_MS / 1000} s: ${window(warm)}, ${window(end)}` });
    report.add({ metric: 'RSS growth after warm-up', subject, value: rssGrowth * 100, unit: '%', better: 'lower', target: '≤ 10 %', target_met: rssGrowth <= 0.1, notes: `the larger pod's: the least-squares line through its ${after.length} samples from ${warm.fromS.toFixed(0)} s on, end against start` });
    report.add({ metric: 'Redis used_memory growth after warm-up', subject, value: redisGrowth * 100, unit: '%', better: 'lower', target: '≤ 10 %', target_met: redisGrowth <= 0.1, notes: `the least-squares line through the samples from ${warm.fromS.toFixed(0)} s on, end against start; lowest of each window ${warm.redisMiB.toFixed(1)} MiB from ${warm.fromS.toFixed(0)} s, ${end.redisMiB.toFixed(1)} MiB from ${end.fromS.toFixed(0)} s` });
  }
  report.add({ metric: 'acknowledged, never pushed (lost)', subject, value: r.lost, unit: 'messages', better: 'lower', target: '0', target_met: r.lost === 0, notes: `${r.missing} of the timed messages had not reached the agent at the end (refused ones included)` });
  report.finish();
} finally {
  await agents.stop();
  redis.disconnect();
  await dropDatabases(services.mongoUrl, [db]).catch(() => undefined);
  await services.stop();
}
