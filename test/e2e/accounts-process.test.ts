/**
 * Agent accounts and the real processes: the admin bootstrap of src/main.ts
 * (a password made up and printed once, never again on a restart; production
 * starts without one and says how to make one), and `npm run agents` against
 * the MongoDB test server, whose agents then log in to a server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startPod, type Pod } from '../support/pods.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const root = join(import.meta.dirname, '../..');

/** Runs `scripts/agents.ts` with `args`, `stdin` written to it, and exactly `env` (plus PATH). */
function agentsCli(args: string[], env: Record<string, string>, stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/agents.ts', ...args], { cwd: root, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

async function login(url: string, username: string, password: string): Promise<number> {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
  await res.arrayBuffer();
  return res.status;
}

describe('admin bootstrap (src/main.ts)', () => {
  const pods: Pod[] = [];
  after(() => Promise.all(pods.map((p) => p.stop())));

  it('creates the admin with a random password printed once in development, and not again on a restart', async () => {
    const env = { NODE_ENV: 'development', MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('bootstrap'), LOG_LEVEL: 'info' };
    const first = await startPod('boot-1', env);
    pods.push(first);
    const printed = [...first.output().matchAll(/Admin account created: username (\S+), password (\S+)/g)];
    assert.equal(printed.length, 1, first.output());
    const [, username, password] = printed[0]!;
    assert.equal(username, 'admin');
    assert.ok(password!.length >= 20, 'a long random password');
    assert.equal(await login(first.url, 'admin', password!), 200);
    assert.doesNotMatch(first.output().split('\n').filter((l) => l.startsWith('{')).join('\n'), new RegExp(password!), 'the password is never in a log line');
    assert.equal(await first.stop(), 0);
    pods.pop();

    const second = await startPod('boot-2', env);
    pods.push(second);
    assert.doesNotMatch(second.output(), /Admin account created/);
    assert.equal(await login(second.url, 'admin', password!), 200, 'the first password still works');
  });

  it('starts in production without ADMIN_PASSWORD, creating no admin and saying how to', async () => {
    const env = { NODE_ENV: 'production', AGENT_JWT_SECRET: 'p'.repeat(40), WEBHOOK_SECRET: 'hook-secret', MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('bootstrap'), LOG_LEVEL: 'info', UWS_ALLOW_FALLBACK: 'false' };
    const pod = await startPod('boot-prod', env);
    pods.push(pod);
    assert.match(pod.output(), /no admin account exists and ADMIN_PASSWORD is unset: create one with `npm run agents -- add admin/);
    assert.doesNotMatch(pod.output(), /Admin account created/);
    const health = await fetch(`${pod.url}/api/health`);
    assert.equal(health.status, 200);
    await health.arrayBuffer();
  });
});

describe('npm run agents', () => {
  let app: TestApp | undefined;
  after(() => app?.stop());

  it('refuses to run without MONGO_URL, with a message that says why', async () => {
    const res = await agentsCli(['list'], {});
    assert.equal(res.code, 2);
    assert.match(res.stderr, /MONGO_URL is unset/);
  });

  it('never takes a password from the command line', async () => {
    const res = await agentsCli(['add', 'someone', '--name', 'S', '--password', 'in-argv-password'], { MONGO_URL: testMongoUrl() });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /never an argument/);
  });

  it('adds an agent that then logs in to the server; list, disable, enable and passwd work on the same store', async () => {
    const env = { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('cli') };
    const added = await agentsCli(['add', 'cli.agent', '--name', 'CLI Agent', '--password-stdin'], env, 'cli-password-1\n');
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /added cli\.agent \(agent\)/);
    const again = await agentsCli(['add', 'cli.agent', '--name', 'Again'], env, 'cli-password-1\n');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /AGENT_EXISTS/);
    const short = await agentsCli(['add', 'short.pw', '--name', 'Short'], env, 'short\n');
    assert.equal(short.code, 2);
    assert.match(short.stderr, /at least 10 characters/);

    app = await startTestApp(env);
    assert.equal(await login(app.url, 'cli.agent', 'cli-password-1'), 200);

    const list = await agentsCli(['list'], env);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^username\s+name\s+role\s+disabled\s+last login\n/);
    assert.match(list.stdout, /cli\.agent\s+CLI Agent\s+agent\s+no\s+\d{4}-\d\d-\d\dT/);
    assert.doesNotMatch(list.stdout, /scrypt/);

    assert.equal((await agentsCli(['disable', 'cli.agent'], env)).code, 0);
    assert.equal(await login(app.url, 'cli.agent', 'cli-password-1'), 401);
    assert.equal((await agentsCli(['enable', 'cli.agent'], env)).code, 0);
    assert.equal((await agentsCli(['passwd', 'cli.agent', '--password-stdin'], env, 'new-cli-password\n')).code, 0);
    assert.equal(await login(app.url, 'cli.agent', 'cli-password-1'), 401);
    assert.equal(await login(app.url, 'cli.agent', 'new-cli-password'), 200);
    const missing = await agentsCli(['disable', 'nobody'], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /NOT_FOUND/);
  });
});
