/**
 * `npm run bench` / `npm run bench:quick`: starts Redis and the MongoDB
 * wire-protocol test server (building its jar if needed, as `npm test` does),
 * runs every scenario in its own Node process with a hard time limit, prints
 * each scenario's table, and — for full runs — regenerates BENCHMARKS.md from
 * the results. `--only=ingest,fanout` runs a subset; `--only=soak` runs the
 * 10-minute soak, which a plain run leaves out. Exits 1 if a scenario
 * failed or overran (a missed target is reported, not a failure).
 */
import { execSync, spawn } from 'node:child_process';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderBenchmarks, type RunInfo } from './render.ts';
import { BENCH_DIR } from './lib/proc.ts';
import { formatTable, machine, RESULTS_DIR, type Mode, type Row } from './lib/report.ts';
import { readResults } from './lib/results.ts';
import { startServices, type Services } from './lib/services.ts';

interface Scenario {
  name: string;
  nodeFlags: string[];
  /** Hard limits: the scenario process is killed past them. */
  quickMs: number;
  fullMs: number;
  /** Run only when named in --only (too long for every full run). */
  optIn?: boolean;
}

const SCENARIOS: Scenario[] = [
  { name: 'ingest', nodeFlags: [], quickMs: 60_000, fullMs: 420_000 },
  { name: 'message-to-agent', nodeFlags: [], quickMs: 45_000, fullMs: 240_000 },
  { name: 'fanout', nodeFlags: [], quickMs: 45_000, fullMs: 240_000 },
  { name: 'density', nodeFlags: ['--expose-gc', '--max-old-space-size=4096'], quickMs: 60_000, fullMs: 300_000 },
  { name: 'history', nodeFlags: ['--max-old-space-size=8192'], quickMs: 60_000, fullMs: 480_000 },
  { name: 'reports', nodeFlags: ['--max-old-space-size=4096'], quickMs: 90_000, fullMs: 600_000 },
  { name: 'handover', nodeFlags: [], quickMs: 90_000, fullMs: 240_000 },
  { name: 'soak', nodeFlags: [], quickMs: 180_000, fullMs: 900_000, optIn: true },
];

const mode: Mode = process.argv.includes('--quick') ? 'quick' : 'full';
const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length).split(',');
const chosen = SCENARIOS.filter((s) => (only ? only.includes(s.name) : !s.optIn));
if (chosen.length === 0) {
  console.error(`no scenario matches ${only?.join(',')}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
  process.exit(1);
}

const began = performance.now();
console.log(`smart-chat benchmarks (${mode}): ${chosen.map((s) => s.name).join(', ')}`);
/**
 * Each scenario gets its own Redis and MongoDB test server: the test server's JVM keeps what an earlier scenario
 * wrote (ingest stores ~100,000 documents) in a heap whose collections then stall the next one — message-to-agent's
 * one-pod p99 was 140–170 ms after ingest in the same JVM, 34–48 ms in seven of eight runs on a fresh one. Each scenario warms its JVM itself.
 */
function runScenario(s: Scenario, services: Services): Promise<{ ok: boolean; seconds: number; why?: string }> {
  const limit = mode === 'quick' ? s.quickMs : s.fullMs;
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...s.nodeFlags, '--import', 'tsx', join(BENCH_DIR, 'scenarios', `${s.name}.ts`), ...(mode === 'quick' ? ['--quick'] : [])], {
      stdio: ['ignore', 'inherit', 'inherit'],
      env: { ...process.env, BENCH_REDIS_URL: services.redisUrl, BENCH_MONGO_URL: services.mongoUrl },
    });
    let overran = false;
    const timer = setTimeout(() => {
      overran = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    }, limit);
    const forward = () => child.kill('SIGTERM');
    process.once('SIGINT', forward);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      process.off('SIGINT', forward);
      const seconds = (performance.now() - t0) / 1000;
      if (overran) resolve({ ok: false, seconds, why: `overran its ${limit / 1000} s limit` });
      else if (code !== 0) resolve({ ok: false, seconds, why: `exited with ${code ?? signal}` });
      else resolve({ ok: true, seconds });
    });
  });
}

const outcomes: { name: string; ok: boolean; seconds: number; why?: string }[] = [];
for (const s of chosen) {
  console.log(`\n--- ${s.name}`);
  const services = await startServices();
  console.log(`services: redis ${services.redisUrl}, mongodb ${services.mongoUrl}`);
  try {
    outcomes.push({ name: s.name, ...(await runScenario(s, services)) });
  } finally {
    await services.stop();
  }
}

// Every target in one table, from the files just written.
const rows: Row[] = chosen.flatMap((s) => readResults(mode, s.name)).filter((r) => r.target);
console.log(`\n${formatTable(`targets (${mode} run)`, rows)}`);
if (mode === 'full') {
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'machine.json'), `${JSON.stringify(runInfo((performance.now() - began) / 1000), null, 2)}\n`);
  renderBenchmarks();
  console.log('\nBENCHMARKS.md regenerated from bench/results/');
}
console.log(`\n${outcomes.map((o) => `${o.name}: ${o.ok ? 'ok' : `FAILED (${o.why})`} in ${o.seconds.toFixed(1)} s`).join('\n')}`);
console.log(`total ${((performance.now() - began) / 1000).toFixed(1)} s`);
process.exit(outcomes.every((o) => o.ok) ? 0 : 1);

function runInfo(seconds: number): RunInfo {
  const git = (cmd: string) => {
    try {
      return execSync(cmd, { cwd: BENCH_DIR, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    } catch {
      return '';
    }
  };
  const dirty = git('git status --porcelain -- ../src') ? ' (src/ had uncommitted changes)' : '';
  const pkg = JSON.parse(readFileSync(join(BENCH_DIR, '..', 'node_modules', 'uWebSockets.js', 'package.json'), 'utf8')) as { name: string; version: string };
  return { ...machine(), date: new Date().toISOString(), commit: `${git('git rev-parse --short HEAD') || 'unknown'}${dirty}`, uws: `${pkg.name}@${pkg.version} (native binary)`, seconds };
}
