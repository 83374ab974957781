/**
 * The profile-driven loop's probe: one smart-chat pod under closed-loop
 * webhooks (100 connections, 1,000 customers) for a few seconds, then waits
 * for its inbox to drain, and prints what one applied event cost it — pod CPU
 * (user + system) per applied event, acknowledged req/s, events applied/s —
 * with the load average. `node --import tsx bench/event-cost.ts [mongo|embedded] [seconds] [runs]`.
 * Numbers go to stdout only (the notes in bench/notes.md quote them).
 */
import { loadavg } from 'node:os';
import type { HttpLoadResult } from './lib/http-load.ts';
import { appEnv } from './lib/app-env.ts';
import { runTag, sleep, startLoadgen, startPod } from './lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from './lib/services.ts';
import { WEBHOOK_PATH } from './lib/webhook-body.ts';

const backend = process.argv[2] === 'embedded' ? 'embedded' : 'mongo';
const seconds = Number(process.argv[3] ?? 8);
const runs = Number(process.argv[4] ?? 1);
const services = backend === 'mongo' ? await servicesFromEnv() : undefined;
const loadgen = await startLoadgen('http');
const dbs: string[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const tag = runTag();
    const db = `bench_cost_${tag}`;
    dbs.push(db);
    const env = appEnv(services ? { mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `cost:${tag}:` } : {});
    const { pod, port } = await startPod('app', { BENCH_APP_ENV: JSON.stringify(env) });
    try {
      const cpu0 = await pod.call<{ user: number; system: number }>('cpu');
      const t0 = performance.now();
      const load = await loadgen.call<HttpLoadResult>('run', { spec: { port, path: WEBHOOK_PATH, connections: 100, pipelining: 1, durationMs: seconds * 1000, warmupMs: 0, customers: 1000, maxRequests: 1e7, runTag: tag } }, seconds * 1000 + 30_000);
      let state = await pod.call<{ pending: number; total: number }>('inbox');
      while (state.pending > 0 && performance.now() - t0 < seconds * 1000 + 20_000) {
        await sleep(100);
        state = await pod.call<{ pending: number; total: number }>('inbox');
      }
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = await pod.call<{ user: number; system: number }>('cpu');
      const applied = state.total - state.pending;
      const cpuUs = cpu1.user - cpu0.user + (cpu1.system - cpu0.system);
      console.log(
        `${backend}: ${Math.round(load.rps)} req/s acked (p99 ${load.latencyMs.p99?.toFixed(1)} ms, ${load.non2xx} non-2xx), ${applied}/${state.total} applied in ${wall.toFixed(1)} s = ${Math.round(applied / wall)} events/s, pod CPU ${Math.round(cpuUs / Math.max(1, applied))} µs/event (${((cpuUs / 1e6 / wall) * 100).toFixed(0)}% of a core); load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      );
    } finally {
      await pod.stop();
    }
  }
} finally {
  await loadgen.stop();
  if (services) {
    await dropDatabases(services.mongoUrl, dbs).catch(() => undefined);
    await services.stop();
  }
}
