/**
 * The profile-driven loop's probe: one smart-chat pod under closed-loop
 * webhooks (100 connections, 1,000 customers) for a few seconds, then waits
 * for its inbox to drain, and prints what one applied event cost it — pod CPU
 * (user + system) per applied event, acknowledged req/s, events applied/s —
 * with the load average; in Redis + MongoDB mode also the MongoDB messages
 * (through a counting proxy) and Redis commands (INFO stats) per applied
 * event, which the machine's load does not blur; and what the pod's collector did (young and full
 * collections, bytes promoted to the old generation per event: what full collections must later mark).
 * `node --import tsx bench/event-cost.ts [mongo|embedded] [seconds] [runs]`.
 * Numbers go to stdout only (the notes in bench/notes.md quote them).
 */
import { createServer, connect, type Socket } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { Redis } from 'ioredis';
import type { HttpLoadResult } from './lib/http-load.ts';
import { appEnv } from './lib/app-env.ts';
import { runTag, sleep, startLoadgen, startPod } from './lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from './lib/services.ts';
import { WEBHOOK_PATH } from './lib/webhook-body.ts';

const backend = process.argv[2] === 'embedded' ? 'embedded' : 'mongo';
const seconds = Number(process.argv[3] ?? 8);
const runs = Number(process.argv[4] ?? 1);
const services = backend === 'mongo' ? await servicesFromEnv() : undefined;

/** A TCP proxy in front of MongoDB counting the wire-protocol messages and bytes the pod sends. */
function countingProxy(target: URL): Promise<{ url: string; counts: { messages: number; bytes: number }; close(): void }> {
  const counts = { messages: 0, bytes: 0 };
  const sockets = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connect({ host: target.hostname, port: Number(target.port) });
    sockets.add(client).add(upstream);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (d: Buffer) => {
      counts.bytes += d.length;
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        counts.messages++;
        pending = pending.subarray(pending.readInt32LE(0));
      }
      upstream.write(d);
    });
    upstream.on('data', (d) => client.write(d));
    const end = () => (client.destroy(), upstream.destroy());
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      resolve({ url: `mongodb://127.0.0.1:${port}/?directConnection=true`, counts, close: () => (server.close(), sockets.forEach((x) => x.destroy())) });
    }),
  );
}
/** CPU time (µs) of this process's children with this command name (the JVM test server, redis-server), from /proc. */
function childCpuUs(comm: string): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const name = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      if (Number(f[1]) !== process.pid || !name.startsWith(comm)) continue;
      total += ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime + stime, in clock ticks of 10 ms
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

const proxy = services ? await countingProxy(new URL(services.mongoUrl)) : undefined;
const redis = services ? new Redis(services.redisUrl) : undefined;
const redisCommands = async () => Number(/total_commands_processed:(\d+)/.exec((await redis?.info('stats')) ?? '')?.[1] ?? 0);
/** Calls per Redis command name (INFO commandstats). */
async function commandStats(): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const m of ((await redis?.info('commandstats')) ?? '').matchAll(/cmdstat_([^:]+):calls=(\d+)/g)) out.set(m[1]!, Number(m[2]));
  return out;
}
const loadgen = await startLoadgen('http');
const dbs: string[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const tag = runTag();
    const db = `bench_cost_${tag}`;
    dbs.push(db);
    const env = appEnv(services && proxy ? { mongoUrl: proxy.url, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `cost:${tag}:` } : {});
    const { pod, port } = await startPod('app', { BENCH_APP_ENV: JSON.stringify(env) });
    try {
      const cpu0 = await pod.call<{ user: number; system: number }>('cpu');
      await pod.call('gc-start');
      const mongo0 = { ...proxy?.counts };
      const redis0 = await redisCommands();
      const stats0 = await commandStats();
      const jvm0 = childCpuUs('java');
      const redisCpu0 = childCpuUs('redis-server');
      const t0 = performance.now();
      const load = await loadgen.call<HttpLoadResult>('run', { spec: { port, path: WEBHOOK_PATH, connections: 100, pipelining: 1, durationMs: seconds * 1000, warmupMs: 0, customers: 1000, maxRequests: 1e7, runTag: tag } }, seconds * 1000 + 30_000);
      let state = await pod.call<{ pending: number; total: number }>('inbox');
      while (state.pending > 0 && performance.now() - t0 < seconds * 1000 + 20_000) {
        await sleep(100);
        state = await pod.call<{ pending: number; total: number }>('inbox');
      }
      const wall = (performance.now() - t0) / 1000;
      const cpu1 = await pod.call<{ user: number; system: number }>('cpu');
      const gc = await pod.call<{ scavenges: number; scavengeMs: number; fullGcs: number; fullGcMs: number; promotedBytes: number }>('gc-stop');
      const stats1 = await commandStats();
      const others = services ? `; JVM test server ${Math.round((childCpuUs('java') - jvm0) / Math.max(1, state.total - state.pending))} µs/event, redis-server ${Math.round((childCpuUs('redis-server') - redisCpu0) / Math.max(1, state.total - state.pending))} µs/event` : '';
      const appliedN = Math.max(1, state.total - state.pending);
      const byCommand = [...stats1].map(([k, v]) => [k, (v - (stats0.get(k) ?? 0)) / appliedN] as const).filter(([, v]) => v >= 0.01).sort((a, b) => b[1] - a[1]);
      if (services) console.log(`  Redis commands per event: ${byCommand.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
      const wire = proxy
        ? `; per event: ${((proxy.counts.messages - mongo0.messages!) / Math.max(1, state.total - state.pending)).toFixed(2)} MongoDB messages (${Math.round((proxy.counts.bytes - mongo0.bytes!) / Math.max(1, state.total - state.pending))} bytes), ${((await redisCommands()) - redis0) / Math.max(1, state.total - state.pending) > 0 ? (((await redisCommands()) - redis0) / Math.max(1, state.total - state.pending)).toFixed(2) : '?'} Redis commands`
        : '';
      const applied = state.total - state.pending;
      const cpuUs = cpu1.user - cpu0.user + (cpu1.system - cpu0.system);
      console.log(
        `  collector: ${gc.scavenges} young collections (${Math.round(gc.scavengeMs)} ms), ${gc.fullGcs} full (${Math.round(gc.fullGcMs)} ms on the main thread); promoted to the old generation ${(gc.promotedBytes / Math.max(1, state.total - state.pending) / 1024).toFixed(1)} KB per event`,
      );
      console.log(
        `${backend}: ${Math.round(load.rps)} req/s acked (p99 ${load.latencyMs.p99?.toFixed(1)} ms, ${load.non2xx} non-2xx), ${applied}/${state.total} applied in ${wall.toFixed(1)} s = ${Math.round(applied / wall)} events/s, pod CPU ${Math.round(cpuUs / Math.max(1, applied))} µs/event (${((cpuUs / 1e6 / wall) * 100).toFixed(0)}% of a core)${others}${wire}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
      );
    } finally {
      await pod.stop();
    }
  }
} finally {
  await loadgen.stop();
  proxy?.close();
  redis?.disconnect();
  if (services) {
    await dropDatabases(services.mongoUrl, dbs).catch(() => undefined);
    await services.stop();
  }
}
