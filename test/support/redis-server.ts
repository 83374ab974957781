/**
 * A private Redis for integration tests: Debian's `redis-server` on a free
 * loopback port, no persistence, killed with the test process. Set
 * TEST_REDIS_URL to use a running server instead.
 */
import { spawn } from 'node:child_process';
import { createConnection } from 'node:net';
import { freePort } from './ports.ts';

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s). */
  stop(): Promise<void>;
  /** Pauses (SIGSTOP) or resumes (SIGCONT) the server, to test a Redis that stops answering. */
  pause(paused: boolean): void;
}

/** `private: true` always starts a new server (for tests that pause or stop it). */
export async function startRedisServer(opts: { private?: boolean } = {}): Promise<RedisServerHandle> {
  const external = opts.private ? undefined : process.env['TEST_REDIS_URL'];
  if (external) return { url: external, port: Number(new URL(external).port || 6379), stop: async () => {}, pause: () => {} };
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${e.message}`))));
  await Promise.race([waitForPort(port, 10_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${stderr}`))), spawnError]);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: (paused) => void child.kill(paused ? 'SIGSTOP' : 'SIGCONT'),
    stop: async () => {
      process.off('exit', kill);
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGTERM');
      const timer = setTimeout(kill, 3000);
      await new Promise((r) => child.once('exit', r));
      clearTimeout(timer);
    },
  };
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} after ${timeoutMs} ms`);
}
