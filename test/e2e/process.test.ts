/** The real entry point as a separate process: start-up failures, the uWS check, and SIGTERM drain. */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { freePort } from '../support/ports.ts';
import { waitForPort } from '../support/redis-server.ts';
import { testMongoUrl } from '../support/services.ts';

const root = join(import.meta.dirname, '../..');

interface Run {
  child: ChildProcess;
  output: () => { stdout: string; stderr: string };
  exit: Promise<{ code: number | null; ms: number }>;
}

/** Runs src/main.ts with exactly the given environment (plus PATH), never inheriting test settings. */
function runMain(env: Record<string, string>): Run {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exit = new Promise<{ code: number | null; ms: number }>((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, ms: Date.now() - started });
    }),
  );
  return { child, output: () => ({ stdout, stderr }), exit };
}

describe('process start-up', () => {
  it('exits 1 with a one-line reason naming the bad variable', async () => {
    const run = runMain({ PORT: 'not-a-port' });
    const { code } = await run.exit;
    assert.equal(code, 1);
    assert.equal(run.output().stderr, 'invalid configuration: PORT: expected an integer from 0 to 65535, got "not-a-port"\n');
  });

  it('refuses production without AGENT_JWT_SECRET', async () => {
    const run = runMain({ NODE_ENV: 'production' });
    assert.equal((await run.exit).code, 1);
    assert.match(run.output().stderr, /^invalid configuration: AGENT_JWT_SECRET: required when NODE_ENV=production\n$/);
  });

  it('gives up on an unreachable MongoDB after its bounded attempts, with a clear reason', async () => {
    const port = await freePort();
    const run = runMain({ PORT: '0', MONGO_URL: `mongodb://127.0.0.1:${port}`, STARTUP_CONNECT_ATTEMPTS: '2' });
    const { code, ms } = await run.exit;
    assert.equal(code, 1);
    assert.match(run.output().stderr, /^startup failed: MongoDB unreachable after 2 attempts: mongodb unavailable/);
    assert.ok(ms < 15_000, `took ${ms} ms`);
  });

  it('gives up on an unreachable Redis the same way', async () => {
    const port = await freePort();
    const run = runMain({ PORT: '0', MONGO_URL: testMongoUrl(), REDIS_URL: `redis://127.0.0.1:${port}`, STARTUP_CONNECT_ATTEMPTS: '2' });
    const { code } = await run.exit;
    assert.equal(code, 1);
    assert.match(run.output().stderr, /^startup failed: Redis unreachable after 2 attempts: redis unavailable/);
  });

  it('refuses to run on the uWebSockets.js JS fallback unless allowed, and warns when allowed', async () => {
    const refused = runMain({ PORT: '0', UWS_USE_FALLBACK: '1' });
    assert.equal((await refused.exit).code, 1);
    assert.match(refused.output().stderr, /native binary did not load/);

    const port = await freePort();
    const allowed = runMain({ PORT: String(port), UWS_USE_FALLBACK: '1', UWS_ALLOW_FALLBACK: 'true' });
    await waitForPort(port, 20_000);
    allowed.child.kill('SIGTERM');
    assert.equal((await allowed.exit).code, 0);
    assert.match(allowed.output().stdout, /running its pure-JS fallback/);
  });
});

describe('process shutdown', () => {
  it('on SIGTERM stops accepting, finishes the request in flight, and exits 0', async () => {
    const port = await freePort();
    const run = runMain({ PORT: String(port) });
    await waitForPort(port, 20_000);

    // A request whose body is still arriving is in flight when the signal lands.
    const response = new Promise<number>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path: '/api/webhook/user/update', method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.write('{"mobile":');
      setTimeout(() => {
        run.child.kill('SIGTERM');
        setTimeout(() => req.end('"9876543210"}'), 300);
      }, 200);
    });
    assert.equal(await response, 401, 'the in-flight request got its answer (no token → 401)');
    const { code } = await run.exit;
    assert.equal(code, 0);
    const lines = run.output().stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string });
    const msgs = lines.map((l) => l.msg);
    assert.ok(msgs.indexOf('draining: refusing new connections') < msgs.indexOf('stopped'));
    await assert.rejects(fetch(`http://127.0.0.1:${port}/api/health`), 'nothing listens after exit');
  });
});
