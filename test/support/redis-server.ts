/**
 * A private Redis for integration tests: Debian's `redis-server` on a free
 * loopback port, no persistence unless asked (then AOF in a temporary
 * directory, as docker-compose.yml runs it), killed with the test process.
 * Set TEST_REDIS_URL to use a running server instead.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';

export interface RedisServerHandle {
  url: string;
  port: number;
  /** Stops the server (SIGTERM, then SIGKILL after 3 s). */
  stop(): Promise<void>;
  /** Pauses (SIGSTOP) or resumes (SIGCONT) the server, to test a Redis that stops answering. */
  pause(paused: boolean): void;
  /**
   * Stops the server (SIGTERM: with AOF, Redis writes and syncs the file before it exits), waits `downMs`,
   * and starts it again on the same port and directory. Only for a private server.
   */
  restart(downMs?: number): Promise<void>;
}

export interface RedisServerOptions {
  /** Always start a new server (for tests that pause, stop or restart it). */
  private?: boolean;
  /** `aof`: append-only file as docker-compose.yml sets it (`appendonly yes`, Redis's default `appendfsync everysec`). Default none. */
  persistence?: 'none' | 'aof';
}

export async function startRedisServer(opts: RedisServerOptions = {}): Promise<RedisServerHandle> {
  const external = opts.private ? undefined : process.env['TEST_REDIS_URL'];
  if (external) {
    const refuse = async () => Promise.reject(new Error('restart() needs a private Redis'));
    return { url: external, port: Number(new URL(external).port || 6379), stop: async () => {}, pause: () => {}, restart: refuse };
  }
  const port = await freePort();
  const dir = opts.persistence === 'aof' ? mkdtempSync(join(tmpdir(), 'redis-aof-')) : undefined;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--protected-mode', 'no', ...(dir ? ['--appendonly', 'yes', '--dir', dir] : ['--appendonly', 'no'])];
  let child = await launch(port, args);
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const terminate = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    child.kill('SIGTERM');
    const timer = setTimeout(kill, 3000);
    await new Promise((r) => child.once('exit', r));
    clearTimeout(timer);
  };
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    pause: (paused) => void child.kill(paused ? 'SIGSTOP' : 'SIGCONT'),
    restart: async (downMs = 0) => {
      await terminate();
      await new Promise((r) => setTimeout(r, downMs));
      child = await launch(port, args);
    },
    stop: async () => {
      process.off('exit', kill);
      await terminate();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function launch(port: number, args: string[]): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const spawnError = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`cannot start redis-server (apt-get install redis-server): ${e.message}`))));
  await Promise.race([waitForPort(port, 10_000).catch((e: Error) => Promise.reject(new Error(`${e.message}\n${stderr}`))), spawnError]);
  return child;
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
