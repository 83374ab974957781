/** Pods as separate processes (`src/main.ts`), sharing one Redis and one MongoDB-compatible server. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { unwatchHttp, watchHttp } from './api-check.ts';
import { TEST_JWT_SECRET } from './app.ts';
import { freePort } from './ports.ts';
import { waitForPort } from './redis-server.ts';

const root = join(import.meta.dirname, '../..');

export interface Pod {
  id: string;
  url: string;
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGTERM, then wait for the exit code. */
  stop(): Promise<number | null>;
}

/** `startTimeoutMs`: how long the pod may take to listen (a loaded CI machine starts pods slowly: 90 s). */
export async function startPod(id: string, env: Record<string, string>, startTimeoutMs = 90_000): Promise<Pod> {
  // A given PORT lets a test restart a pod where its clients reconnect.
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      PORT: String(port),
      POD_ID: id,
      AGENT_JWT_SECRET: TEST_JWT_SECRET,
      COMMUNICATION_MASTER_URL: '',
      LOG_LEVEL: 'warn',
      SHUTDOWN_GRACE_MS: '5000',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const keep = (c: Buffer) => (out = (out + c.toString()).slice(-20_000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const kill = () => proc.kill('SIGKILL');
  process.once('exit', kill);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => (process.off('exit', kill), resolve(code))));
  await Promise.race([waitForPort(port, startTimeoutMs), exited.then((c) => Promise.reject(new Error(`pod ${id} exited (${c}) during start-up:\n${out}`)))]);
  const url = `http://127.0.0.1:${port}`;
  // Every response a test fetches from this pod is checked against the OpenAPI document; stop() fails on any it does not describe.
  const apiViolations = watchHttp(url);
  return {
    id,
    url,
    proc,
    output: () => out,
    exited,
    stop: async () => {
      proc.kill('SIGCONT');
      proc.kill('SIGTERM');
      const timer = setTimeout(kill, 20_000);
      const code = await exited;
      clearTimeout(timer);
      unwatchHttp(url);
      const seen = apiViolations.splice(0);
      if (seen.length > 0) throw new Error(`pod ${id}: responses not described by /api/openapi.json:\n${[...new Set(seen)].join('\n')}`);
      return code;
    },
  };
}

/** Waits until the pods together own every shard (rebalancing settled enough to route everywhere). */
export async function waitForShards(pods: Pod[], total = 64, timeoutMs = 20_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const owned = await Promise.all(pods.map(async (p) => {
      const text = await fetch(`${p.url}/metrics`).then((r) => r.text(), () => '');
      return Number(/^cluster_owned_shards\{[^}]*\} (\d+)/m.exec(text)?.[1] ?? 0);
    }));
    const fair = Math.ceil(total / pods.length);
    if (owned.reduce((a, b) => a + b, 0) === total && owned.every((n) => n > 0 && n <= fair)) return owned;
    if (Date.now() > deadline) throw new Error(`shards not spread within ${timeoutMs} ms: ${owned.join('/')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
