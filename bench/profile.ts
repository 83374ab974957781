/**
 * CPU profiles of the servers under the loads where targets are missed, each
 * summarised (self time by area, time by the innermost src/ caller, top
 * functions). `node --import tsx bench/profile.ts <target> [seconds]`:
 *
 * - `ingest-embedded`, `ingest-mongo`: 100 connections of webhooks, closed loop;
 * - `fanout`: 1,000 sockets, one push per 50 ms;
 * - `history-embedded`: fetch_all_chats / fetch_chats_by_user over 20k chats / 200k messages
 *   (the pod in this process, profiled with the inspector).
 *
 * Profiles are written to bench/profiles/ (not committed).
 */
import { readdirSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { openSockets, smartChatUrl } from './lib/agent-sockets.ts';
import { appEnv, BENCH_JWT_SECRET } from './lib/app-env.ts';
import { topOfProfile } from './lib/cpuprofile-top.ts';
import { BENCH_DIR } from './lib/proc.ts';
import { runTag, startLoadgen, startPod } from './lib/scenario.ts';
import { startServices, type Services } from './lib/services.ts';
import { WEBHOOK_PATH } from './lib/webhook-body.ts';
import { signToken } from '../src/infra/jwt.ts';

const target = process.argv[2] ?? '';
const seconds = Number(process.argv[3] ?? 5);
const root = join(BENCH_DIR, 'profiles');
mkdirSync(root, { recursive: true });
process.env.BENCH_CPU_PROF = root;

/** The largest profile written since `since` (the main thread's; the loader thread writes a small one). */
function newestProfile(since: number): string {
  const files = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile() && d.name.endsWith('.cpuprofile'))
    .map((d) => join(d.parentPath, d.name))
    .filter((f) => statSync(f).mtimeMs >= since);
  const biggest = files.sort((a, b) => statSync(b).size - statSync(a).size)[0];
  if (!biggest) throw new Error('no profile was written');
  return biggest;
}

function print(file: string): void {
  const { areas, callers, functions, owners, totalMs } = topOfProfile(file, 15);
  console.log(`\n${file}: ${totalMs} ms sampled`);
  console.log('self time by area:');
  for (const a of areas) console.log(`  ${a.share.toFixed(1).padStart(5)}%  ${a.name}`);
  console.log('time by innermost package or src/ file (native and node internals charged to it):');
  for (const o of owners) console.log(`  ${o.share.toFixed(1).padStart(5)}%  ${o.name}`);
  console.log('time by innermost src/ caller (outside the store):');
  for (const c of callers) console.log(`  ${c.share.toFixed(1).padStart(5)}%  ${c.name}`);
  console.log('self time by function:');
  for (const f of functions) console.log(`  ${f.share.toFixed(1).padStart(5)}%  ${f.name}`);
}

let services: Services | undefined;
const since = Date.now();
try {
  switch (target) {
    case 'ingest-embedded':
    case 'ingest-mongo': {
      if (target === 'ingest-mongo') services = await startServices();
      const backends = services ? { mongoUrl: services.mongoUrl, mongoDb: `bench_prof_${runTag()}`, redisUrl: services.redisUrl, redisPrefix: `prof:${runTag()}:` } : {};
      const loadgen = await startLoadgen('http');
      const { pod, port } = await startPod('app', { BENCH_APP_ENV: JSON.stringify(appEnv(backends)) });
      const r = await loadgen.call<{ rps: number }>('run', { spec: { port, path: WEBHOOK_PATH, connections: 100, pipelining: 1, durationMs: seconds * 1000, warmupMs: 500, customers: 1000, maxRequests: 1e7, runTag: runTag() } }, seconds * 1000 + 30_000);
      console.log(`${target}: ${Math.round(r.rps)} req/s while profiled`);
      await pod.stop();
      await loadgen.stop();
      print(newestProfile(since));
      break;
    }
    case 'fanout': {
      const { pod, port } = await startPod('app', { BENCH_APP_ENV: JSON.stringify(appEnv()) });
      const token = signToken({ sub: 'bench-agent' }, BENCH_JWT_SECRET);
      const agents = await openSockets([smartChatUrl(port, token, 'prof-room')], 1000, 'smart-chat');
      let frames = 0;
      agents.onFrame = () => void frames++;
      const until = Date.now() + seconds * 1000;
      let pushes = 0;
      while (Date.now() < until) {
        await pod.call('publish', { room: 'prof-room', event: 'new_message', data: { message: 'x'.repeat(300), seq: pushes++ } });
        await new Promise((r) => setTimeout(r, 50));
      }
      console.log(`fanout: ${pushes} pushes, ${frames} frames received`);
      await agents.close();
      await pod.stop();
      print(newestProfile(since));
      break;
    }
    case 'history-embedded': {
      // The history scenario's data and queries, smaller, with the pod in this process under the inspector.
      const session = new Session();
      session.connect();
      await session.post('Profiler.enable');
      await session.post('Profiler.start');
      const { runHistoryProfileLoad } = await import('./lib/history-data.ts');
      await runHistoryProfileLoad(20_000, seconds * 1000);
      const { profile } = await session.post('Profiler.stop');
      const file = join(root, `history-embedded-${Date.now()}.cpuprofile`);
      writeFileSync(file, JSON.stringify(profile));
      print(file);
      break;
    }
    default:
      throw new Error('usage: bench/profile.ts ingest-embedded|ingest-mongo|fanout|history-embedded [seconds]');
  }
} finally {
  await services?.stop();
}
