/**
 * `npm run stress:handoff`: per-chat order across shard handoffs, run after run.
 *
 * Each run starts three pods (separate processes) on a private Redis and the
 * MongoDB test server (loopback only), sends customer messages one at a time
 * per chat while it does, in turn: a rolling restart (SIGTERM each pod, start
 * its replacement), a SIGKILL (and a replacement), and a SIGSTOP of a pod past
 * its lease (then SIGCONT). Then it checks what MongoDB stored against what was
 * acknowledged: lost, doubled, reordered. It prints each run's figures and a
 * summary and exits 1 on any anomaly (or a run over its time bound).
 *
 *   npm run stress:handoff -- --runs 20 --chats 40 --workers 10 --pause-ms 9000
 *
 * Not part of `npm test` (a run takes about a minute).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoStore } from '../src/infra/store/store.mongo.ts';
import { sendTraffic, storedFigures, type StoredFigures } from '../test/support/chat-traffic.ts';
import { startMongoServer } from '../test/support/mongo-server.ts';
import { startPod, waitForShards, type Pod } from '../test/support/pods.ts';
import { startRedisServer } from '../test/support/redis-server.ts';
import { uniqueName } from '../test/support/services.ts';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '20' },
    chats: { type: 'string', default: '40' },
    workers: { type: 'string', default: '10' },
    /** Messages per chat at least; traffic goes on (up to --max-per-chat) until the chaos is over. */
    'per-chat': { type: 'string', default: '15' },
    'max-per-chat': { type: 'string', default: '80' },
    /** How long the SIGSTOPped pod stays stopped: past the 6 s lease. */
    'pause-ms': { type: 'string', default: '9000' },
    /** Which disruptions each run makes: any of rolling,kill,stop. */
    chaos: { type: 'string', default: 'rolling,kill,stop' },
    'run-timeout-ms': { type: 'string', default: '240000' },
    'total-timeout-ms': { type: 'string', default: '3600000' },
    /** Keep going after a run with an anomaly (the exit status is still 1). */
    'keep-going': { type: 'boolean', default: false },
    /** Extra environment for the pods, KEY=VALUE,KEY=VALUE. */
    'pod-env': { type: 'string', default: '' },
  },
});

const num = (k: keyof typeof args) => {
  const n = Number(args[k]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${k} must be a whole number, got ${String(args[k])}`);
  return n;
};
const RUNS = Math.min(num('runs'), 200);
const CHATS = num('chats');
const WORKERS = Math.max(1, num('workers'));
const PER_CHAT = num('per-chat');
const MAX_PER_CHAT = Math.max(PER_CHAT, num('max-per-chat'));
const PAUSE_MS = num('pause-ms');
const RUN_TIMEOUT_MS = num('run-timeout-ms');
const TOTAL_TIMEOUT_MS = num('total-timeout-ms');
const CHAOS = new Set(String(args.chaos).split(',').filter(Boolean));
const POD_ENV = Object.fromEntries(String(args['pod-env']).split(',').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));

interface RunResult extends StoredFigures {
  run: number;
  seconds: number;
  error?: string;
  unapplied: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function oneRun(run: number, redisUrl: string, mongoUrl: string): Promise<RunResult> {
  const started = Date.now();
  const env = { MONGO_URL: mongoUrl, MONGO_DB: uniqueName(`stress${run}`), REDIS_URL: redisUrl, REDIS_PREFIX: `${uniqueName(`stress${run}`)}:`, ...POD_ENV };
  const all: Pod[] = [];
  const ring: Pod[] = [];
  const store = await MongoStore.connect({ url: env.MONGO_URL, dbName: env.MONGO_DB });
  const tag = `s${run}`;
  let acked = new Map<string, number>();
  try {
    for (const p of await Promise.all(['a', 'b', 'c'].map((id) => startPod(`${tag}-${id}`, env, 120_000)))) all.push(p), ring.push(p);
    await waitForShards(ring, 64, 30_000);
    const live = () => ring.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null);
    const customers = Array.from({ length: CHATS }, (_, i) => String(9730000000 + run * 1000 + i));
    let chaosDone = false;
    let chaos: Promise<void> | undefined;
    const replace = async (i: number, name: string) => {
      const fresh = await startPod(`${tag}-${name}`, env, 120_000);
      all.push(fresh);
      ring[i] = fresh;
    };
    const traffic = sendTraffic({
      pods: live,
      customers: customers,
      tag,
      workers: WORKERS,
      perChat: PER_CHAT,
      maxPerChat: MAX_PER_CHAT,
      more: () => !chaosDone,
      onSent: (n) => {
        if (n !== 50) return;
        chaos = (async () => {
          if (CHAOS.has('rolling')) {
            for (let i = 0; i < 3; i++) {
              const old = ring[i]!;
              const code = await old.stop();
              if (code !== 0) throw new Error(`${old.id} exited ${code} on SIGTERM:\n${old.output().slice(-2000)}`);
              await replace(i, `${i}r`);
            }
          }
          if (CHAOS.has('kill')) {
            ring[0]!.proc.kill('SIGKILL'); // mid-stream, no goodbye
            await replace(0, 'k');
          }
          if (CHAOS.has('stop')) {
            const p = ring[1]!;
            p.proc.kill('SIGSTOP');
            await sleep(PAUSE_MS);
            p.proc.kill('SIGCONT');
          }
        })().finally(() => (chaosDone = true));
        chaos.catch(() => undefined); // awaited after the traffic; not an unhandled rejection meanwhile
      },
    });
    acked = await traffic;
    await chaos;
    const total = [...acked.values()].reduce((a, b) => a + b, 0);
    // Everything acknowledged is applied within a bound (recovery passes included), or the run reports what is missing.
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && (await store.collection('messages').countDocuments({ message: { $regex: `^${tag} ` } })) < total) await sleep(500);
    await sleep(1000); // a late duplicate would show now
    const figures = await storedFigures(store, acked, tag);
    const unapplied = await store.collection('inbox').countDocuments({ state: { $ne: 'applied' } });
    return { run, seconds: (Date.now() - started) / 1000, unapplied, ...figures };
  } catch (err) {
    const figures = await storedFigures(store, acked, tag).catch(() => ({ sent: 0, applied: 0, lost: 0, doubled: 0, reordered: 0, reorderedChats: [] }));
    return { run, seconds: (Date.now() - started) / 1000, unapplied: -1, ...figures, error: (err as Error).message };
  } finally {
    await Promise.all(all.map((p) => p.stop().catch(() => null)));
    await store.dropAll().catch(() => undefined);
    await store.close();
  }
}

function bounded<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** The messages stored after a later one, e.g. `47 after 62`. */
function outOfPlace(texts: readonly string[]): string {
  const n = texts.map((t) => Number(t.slice(t.indexOf(' ') + 1)));
  return n.flatMap((x, i) => (i > 0 && x < Math.max(...n.slice(0, i)) ? [`${x} after ${Math.max(...n.slice(0, i))}`] : [])).join(', ');
}

const anomalous = (r: RunResult) => Boolean(r.error) || r.lost > 0 || r.doubled > 0 || r.reordered > 0;

async function main(): Promise<number> {
  const root = join(import.meta.dirname, '..');
  if (!process.env.TEST_MONGO_URL && spawnSync('bash', [join(root, 'test/mongo-server/build.sh')], { stdio: 'inherit' }).status !== 0) {
    console.error('building the MongoDB test server failed (needs Java 17 and Maven)');
    return 2;
  }
  const [redis, mongo] = await Promise.all([startRedisServer(), startMongoServer()]);
  const endBy = Date.now() + TOTAL_TIMEOUT_MS;
  const results: RunResult[] = [];
  console.log(`stress:handoff: ${RUNS} runs, ${CHATS} chats, ${WORKERS} at once, >= ${PER_CHAT} messages each, chaos ${[...CHAOS].join('+')}, pause ${PAUSE_MS} ms`);
  try {
    for (let run = 1; run <= RUNS; run++) {
      if (Date.now() > endBy) {
        console.log(`stopping: the whole stress is over its ${TOTAL_TIMEOUT_MS} ms bound`);
        break;
      }
      const r = await bounded(oneRun(run, redis.url, mongo.url), RUN_TIMEOUT_MS, `run ${run}`).catch(
        (err: Error): RunResult => ({ run, seconds: RUN_TIMEOUT_MS / 1000, sent: 0, applied: 0, lost: 0, doubled: 0, reordered: 0, reorderedChats: [], unapplied: -1, error: err.message }),
      );
      results.push(r);
      console.log(
        `run ${String(run).padStart(2)}: sent ${r.sent}, applied ${r.applied}, lost ${r.lost}, doubled ${r.doubled}, reordered ${r.reordered} chats, inbox unapplied ${r.unapplied}, ${r.seconds.toFixed(1)} s${r.error ? `, ERROR ${r.error.split('\n')[0]}` : ''}`,
      );
      for (const c of r.reorderedChats.slice(0, 5)) console.log(`    reordered ${c.customer}: ${outOfPlace(c.texts)}`);
      if (anomalous(r) && !args['keep-going']) break;
    }
  } finally {
    await Promise.allSettled([redis.stop(), mongo.stop()]);
  }
  const sum = (k: 'sent' | 'applied' | 'lost' | 'doubled' | 'reordered') => results.reduce((a, r) => a + r[k], 0);
  const bad = results.filter(anomalous).length;
  console.log(
    `summary: ${results.length} runs, ${results.length - bad} clean; sent ${sum('sent')}, applied ${sum('applied')}, lost ${sum('lost')}, doubled ${sum('doubled')}, reordered ${sum('reordered')} chats; ` +
      `run time ${Math.min(...results.map((r) => r.seconds)).toFixed(0)}-${Math.max(...results.map((r) => r.seconds)).toFixed(0)} s`,
  );
  return bad === 0 && results.length === RUNS ? 0 : 1;
}

process.exitCode = await main();
