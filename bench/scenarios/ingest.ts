/**
 * Scenario 1 — webhook ingest: realistic Meta text webhooks POSTed to the
 * customer endpoint by the in-repo load client (its own process), 100
 * connections, with and without pipelining, and at a fixed 10,000 requests/s.
 * Baselines in the same run: a bare uWebSockets.js handler answering 200 (the
 * ceiling), Fastify 5 and node:http parsing the JSON and answering 200.
 * smart-chat runs embedded and on Redis + the MongoDB-compatible server; an
 * answer means the event is durable in the inbox (the actor applies it after).
 */
import type { HttpLoadResult, HttpLoadSpec } from '../lib/http-load.ts';
import { appEnv, type AppBackends } from '../lib/app-env.ts';
import { Report, type Measured } from '../lib/report.ts';
import { modeFromArgs, runTag, sleep, startLoadgen, startPod, within } from '../lib/scenario.ts';
import { dropDatabases, servicesFromEnv } from '../lib/services.ts';
import { WEBHOOK_PATH } from '../lib/webhook-body.ts';

const mode = modeFromArgs();
const quick = mode === 'quick';
const DURATION_MS = quick ? 800 : 6000;
const WARMUP_MS = quick ? 300 : 2000;
const CONNECTIONS = 100;
const CUSTOMERS = 1000;
const FIXED_RATE = 10_000;

interface Subject {
  name: string;
  pod: string;
  env: Record<string, string>;
  app?: AppBackends;
}

const services = await servicesFromEnv();
const tag = runTag();
const usedDbs: string[] = [];
const mongoBackends = (label: string): AppBackends => {
  const db = `bench_ingest_${tag}_${label}`;
  usedDbs.push(db);
  return { mongoUrl: services.mongoUrl, mongoDb: db, redisUrl: services.redisUrl, redisPrefix: `bench:${tag}:${label}:` };
};

const subjects = (label: string): Subject[] => {
  const mongo = mongoBackends(label);
  return [
    { name: 'bare uWS 200', pod: 'uws-bare', env: {} },
    { name: 'fastify JSON 200', pod: 'fastify', env: {} },
    { name: 'node:http JSON 200', pod: 'node-http', env: {} },
    { name: 'smart-chat embedded', pod: 'app', env: { BENCH_APP_ENV: JSON.stringify(appEnv()) }, app: {} },
    { name: 'smart-chat redis+mongo', pod: 'app', env: { BENCH_APP_ENV: JSON.stringify(appEnv(mongo)) }, app: mongo },
  ];
};

const report = new Report('ingest', mode);
const loadgen = await startLoadgen('http');

interface Run {
  subject: Subject;
  load: HttpLoadResult;
  /** smart-chat only: events applied by the actors, and how long after the load they all were. */
  applied?: { total: number; pending: number; drainS: number };
}

async function measure(subject: Subject, label: string, spec: Omit<HttpLoadSpec, 'port' | 'runTag'>): Promise<Run> {
  const { pod, port } = await startPod(subject.pod, subject.env);
  try {
    const load = await within(spec.durationMs + 30_000, `${subject.name} ${label}`, () =>
      loadgen.call<HttpLoadResult>('run', { spec: { ...spec, port, runTag: `${tag}${label}` } }, spec.durationMs + 30_000),
    );
    // NaN (no sample in the window) crosses IPC as null.
    for (const k of Object.keys(load.latencyMs) as (keyof typeof load.latencyMs)[]) load.latencyMs[k] ??= NaN;
    if (load.non2xx || load.socketErrors || load.closedEarly) console.warn(`  ${subject.name} ${label}: ${load.non2xx} non-2xx answers, ${load.socketErrors} socket errors, ${load.closedEarly} connections closed by the server`);
    let applied: Run['applied'];
    if (subject.app) {
      // Background application of what was acknowledged: wait (bounded) for the inbox to empty.
      const began = performance.now();
      const limit = quick ? 3000 : 10_000;
      let state = await pod.call<{ pending: number; total: number }>('inbox');
      while (state.pending > 0 && performance.now() - began < limit) {
        await sleep(250);
        state = await pod.call<{ pending: number; total: number }>('inbox');
      }
      applied = { ...state, drainS: (performance.now() - began) / 1000 };
    }
    console.log(`  ${subject.name.padEnd(24)} ${label.padEnd(16)} ${Math.round(load.rps).toString().padStart(7)} req/s  p50 ${load.latencyMs.p50.toFixed(3)} ms  p99 ${load.latencyMs.p99.toFixed(3)} ms${applied ? `  (applied ${applied.total - applied.pending}/${applied.total}, ${applied.drainS.toFixed(1)} s after the load)` : ''}`);
    return { subject, load, ...(applied ? { applied } : {}) };
  } finally {
    await pod.stop();
  }
}

const byName = (runs: Run[], name: string): Run => {
  const run = runs.find((r) => r.subject.name === name);
  if (!run) throw new Error(`no ${name} run`);
  return run;
};

/** Rows for one configuration: every subject's numbers, smart-chat's against each baseline. */
function rows(label: string, runs: Run[], targets: { rps?: boolean; p99At10k?: boolean }): void {
  const ceiling = byName(runs, 'bare uWS 200');
  const fastify = byName(runs, 'fastify JSON 200');
  const nodeHttp = runs.find((r) => r.subject.name === 'node:http JSON 200');
  for (const run of runs) {
    const isApp = !!run.subject.app;
    const embedded = run.subject.name === 'smart-chat embedded';
    const trouble = run.load.non2xx || run.load.socketErrors || run.load.closedEarly ? `; ${run.load.non2xx} non-2xx, ${run.load.socketErrors} socket errors, ${run.load.closedEarly} connections closed by the server` : '';
    const openLoop = label.includes('req/s')
      ? `; latency from when each request was due${run.load.unanswered ? ` (${run.load.unanswered} due in the window had no answer at the end: counted with a lower bound)` : ''}; service time (from its write) p99 ${run.load.serviceMs.p99?.toFixed(2)} ms, generator lag p99 ${run.load.scheduleLagMsP99.toFixed(2)} ms`
      : '';
    const metrics: Measured[] = [
      { metric: `req/s ${label}`, subject: run.subject.name, value: run.load.rps, unit: 'req/s', better: 'higher', ...(trouble || openLoop ? { notes: `${run.load.measured} answers in ${run.load.windowS.toFixed(1)} s${trouble}${openLoop}` } : {}) },
      { metric: `p50 ack ${label}`, subject: run.subject.name, value: run.load.latencyMs.p50, unit: 'ms', better: 'lower' },
      { metric: `p99 ack ${label}`, subject: run.subject.name, value: run.load.latencyMs.p99, unit: 'ms', better: 'lower' },
      { metric: `p99.9 ack ${label}`, subject: run.subject.name, value: run.load.latencyMs.p999, unit: 'ms', better: 'lower' },
    ];
    for (const m of metrics) {
      if (!isApp) {
        report.add(m);
        continue;
      }
      const isRps = m.unit === 'req/s';
      const vsFastify = { ...m };
      const vsCeiling = { ...m };
      if (embedded && targets.rps && isRps) {
        Object.assign(vsFastify, { target: '≥ 3× fastify', target_met: m.value >= 3 * fastify.load.rps });
        Object.assign(vsCeiling, { target: '≥ 0.5× bare uWS', target_met: m.value >= 0.5 * ceiling.load.rps });
      }
      if (embedded && targets.p99At10k && m.metric.startsWith('p99 ack')) Object.assign(vsFastify, { target: '< 5 ms', target_met: m.value < 5 });
      report.compare(vsFastify, { subject: fastify.subject.name, value: metricOf(fastify, m.metric), unit: m.unit });
      report.compare(vsCeiling, { subject: ceiling.subject.name, value: metricOf(ceiling, m.metric), unit: m.unit });
      if (isRps && nodeHttp) report.compare({ ...m }, { subject: nodeHttp.subject.name, value: nodeHttp.load.rps, unit: m.unit });
    }
    if (run.applied) {
      const windowS = DURATION_MS / 1000 + WARMUP_MS / 1000 + run.applied.drainS;
      report.add({
        metric: `events applied/s ${label}`,
        subject: run.subject.name,
        value: (run.applied.total - run.applied.pending) / windowS,
        unit: 'events/s',
        better: 'higher',
        notes: `${run.applied.total - run.applied.pending} of ${run.applied.total} acknowledged events applied by their actors, the last ${run.applied.drainS.toFixed(1)} s after the load stopped`,
      });
    }
  }
}

function metricOf(run: Run, metric: string): number {
  if (metric.startsWith('req/s')) return run.load.rps;
  if (metric.startsWith('p50')) return run.load.latencyMs.p50;
  if (metric.startsWith('p99.9')) return run.load.latencyMs.p999;
  return run.load.latencyMs.p99;
}

const base = { path: WEBHOOK_PATH, connections: CONNECTIONS, durationMs: DURATION_MS, warmupMs: WARMUP_MS, customers: CUSTOMERS, maxRequests: 5_000_000, drainMs: quick ? 2000 : 5000 };
try {
  console.log(`ingest (${mode}): ${CONNECTIONS} connections, ${DURATION_MS / 1000} s measured after ${WARMUP_MS / 1000} s warm-up, load client in its own process`);
  // Quick runs leave out the slowest subjects where no target depends on them.
  const all = (s: Subject) => !!s;
  const configs: { label: string; spec: Omit<HttpLoadSpec, 'port' | 'runTag'>; targets: { rps?: boolean; p99At10k?: boolean }; include: (s: Subject) => boolean }[] = [
    { label: '(no pipelining)', spec: { ...base, pipelining: 1 }, targets: { rps: true }, include: all },
    { label: '(pipelining 10)', spec: { ...base, pipelining: 10 }, targets: {}, include: quick ? (s) => !s.name.includes('node:http') && s.name !== 'smart-chat redis+mongo' : all },
    { label: `(at ${FIXED_RATE / 1000}k req/s)`, spec: { ...base, pipelining: 1, rate: FIXED_RATE }, targets: { p99At10k: true }, include: quick ? (s) => !s.name.includes('node:http') && s.name !== 'smart-chat redis+mongo' : all },
  ];
  for (const [i, c] of configs.entries()) {
    const runs: Run[] = [];
    for (const s of subjects(`c${i}`).filter(c.include)) runs.push(await measure(s, c.label, c.spec));
    rows(c.label, runs, c.targets);
  }
  report.finish();
} finally {
  await loadgen.stop();
  await dropDatabases(services.mongoUrl, usedDbs).catch(() => undefined);
  await services.stop();
}
