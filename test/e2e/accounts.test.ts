/**
 * Agent accounts through the real HTTP server, in embedded mode and against
 * the MongoDB test server: login, the same answer (and about the same time)
 * for an unknown user as for a wrong password, the failure limit, and the
 * admin API.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { signToken, verifyToken } from '../../src/infra/jwt.ts';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.ts';
import { startPod, type Pod } from '../support/pods.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';

const EXTERNAL_ADMIN = `Bearer ${signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET)}`;
const ADMIN_PASSWORD = 'admin-password-1';

type Json = Record<string, any>;

async function call(app: { url: string }, method: string, path: string, body?: unknown, auth?: string): Promise<{ status: number; body: Json; headers: Headers }> {
  const res = await fetch(`${app.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: auth } : {}) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as Json, headers: res.headers };
}

const login = (app: { url: string }, username: string, password: string) => call(app, 'POST', '/api/auth/login', { username, password });

async function bearer(app: { url: string }, username: string, password: string): Promise<string> {
  const res = await login(app, username, password);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return `Bearer ${res.body.token as string}`;
}

/** An open agent WebSocket and how it closed, once it does. */
async function openSocket(baseUrl: string, token: string): Promise<{ ws: WebSocket; closed: Promise<{ code: number; reason: string }> }> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
  return { ws, closed };
}

/** The upgrade's HTTP status when it is refused, else 101. */
function upgradeStatus(baseUrl: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?token=${encodeURIComponent(token)}`);
    ws.once('open', () => (ws.close(), resolve(101)));
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', reject);
  });
}

const within = <T>(ms: number, p: Promise<T>, what: string): Promise<T> =>
  Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref())]);

const tokenOf = (auth: string) => auth.slice('Bearer '.length);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const modes: [string, () => Record<string, string>][] = [
  ['embedded', () => ({})],
  ['MongoDB', () => ({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('accounts') })],
];

for (const [mode, env] of modes) {
  describe(`agent accounts (${mode})`, () => {
    let app: TestApp;
    before(async () => {
      app = await startTestApp({ ...env(), ADMIN_USERNAME: 'boss', ADMIN_PASSWORD });
    });
    after(() => app.stop());

    it('creates the configured admin at start-up, who logs in and gets a token for its account', async () => {
      const before = Date.now();
      const res = await login(app, 'boss', ADMIN_PASSWORD);
      assert.equal(res.status, 200);
      assert.equal(res.body.status, 1);
      assert.deepEqual(res.body.agent, { username: 'boss', name: 'Administrator', role: 'admin' });
      const identity = verifyToken(res.body.token, TEST_JWT_SECRET);
      assert.ok(identity);
      assert.equal(identity.sub, 'boss');
      assert.equal(identity.role, 'admin');
      assert.equal(identity.tv, 1);
      assert.equal(new Date(res.body.expires_at).getTime(), identity.exp * 1000);
      assert.ok(identity.exp * 1000 >= before + 12 * 3600_000 - 2000, 'the default lifetime is 12 h');
      const list = await call(app, 'GET', '/api/agents', undefined, `Bearer ${res.body.token as string}`);
      const boss = list.body.data.find((a: Json) => a.username === 'boss');
      assert.ok(boss.last_login_at && Date.parse(boss.last_login_at) >= before - 1000, 'last_login_at is recorded');
    });

    it('lets an admin create, list and edit agents, never showing a hash', async () => {
      const admin = await bearer(app, 'boss', ADMIN_PASSWORD);
      const created = await call(app, 'POST', '/api/agents', { username: 'priya.s', name: 'Priya S', password: 'priya-secret-1', role: 'agent' }, admin);
      assert.equal(created.status, 200, JSON.stringify(created.body));
      assert.equal(created.body.data.username, 'priya.s');
      assert.equal(created.body.data.disabled, false);
      assert.equal(created.body.data.last_login_at, null);

      const again = await call(app, 'POST', '/api/agents', { username: 'priya.s', name: 'Other', password: 'another-secret', role: 'agent' }, admin);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'AGENT_EXISTS');

      const list = await call(app, 'GET', '/api/agents', undefined, admin);
      assert.equal(list.status, 200);
      assert.deepEqual(list.body.data.map((a: Json) => a.username), ['boss', 'priya.s']);
      assert.doesNotMatch(JSON.stringify(list.body), /scrypt|hash|password/);

      const renamed = await call(app, 'PATCH', '/api/agents/priya.s', { name: 'Priya Shah' }, admin);
      assert.equal(renamed.status, 200);
      assert.equal(renamed.body.data.name, 'Priya Shah');
      const ok = await login(app, 'priya.s', 'priya-secret-1');
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.body.agent, { username: 'priya.s', name: 'Priya Shah', role: 'agent' });

      const missing = await call(app, 'PATCH', '/api/agents/nobody-here', { name: 'X' }, admin);
      assert.equal(missing.status, 404);
      assert.equal(missing.body.error.code, 'NOT_FOUND');
    });

    it('refuses short passwords, bad usernames and empty edits with VALIDATION_FAILED', async () => {
      const admin = EXTERNAL_ADMIN;
      for (const body of [
        { username: 'shorty', name: 'S', password: 'nine-char', role: 'agent' },
        { username: 'Upper.Case', name: 'U', password: 'long-enough-1', role: 'agent' },
        { username: 'ab', name: 'U', password: 'long-enough-1', role: 'agent' },
        { username: 'has space', name: 'U', password: 'long-enough-1', role: 'agent' },
        { username: 'okname', name: 'U', password: 'long-enough-1', role: 'root' },
        { username: 'okname', name: 'U', password: 'long-enough-1', role: 'agent', password_hash: 'x' },
      ]) {
        const res = await call(app, 'POST', '/api/agents', body, admin);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
      }
      for (const patch of [{}, { password: 'short' }, { disabled: 'yes' }]) {
        const res = await call(app, 'PATCH', '/api/agents/boss', patch, admin);
        assert.equal(res.status, 400, JSON.stringify(patch));
        assert.equal(res.body.error.code, 'VALIDATION_FAILED');
      }
      const noBody = await call(app, 'POST', '/api/auth/login', { username: 'boss' });
      assert.equal(noBody.status, 400);
      assert.equal(noBody.body.error.code, 'VALIDATION_FAILED');
    });

    it('keeps the admin API to admins: 401 without a token, 403 FORBIDDEN for an agent', async () => {
      const agent = await bearer(app, 'priya.s', 'priya-secret-1');
      for (const [method, path, body] of [['GET', '/api/agents', undefined], ['POST', '/api/agents', { username: 'sneaky', name: 'S', password: 'sneaky-pass-1', role: 'admin' }], ['PATCH', '/api/agents/priya.s', { role: 'admin' }]] as const) {
        const anon = await call(app, method, path, body);
        assert.equal(anon.status, 401, `${method} ${path}`);
        assert.equal(anon.body.error.code, 'UNAUTHORIZED');
        const res = await call(app, method, path, body, agent);
        assert.equal(res.status, 403, `${method} ${path}`);
        assert.equal(res.body.error.code, 'FORBIDDEN');
      }
      const list = await call(app, 'GET', '/api/agents', undefined, EXTERNAL_ADMIN);
      assert.deepEqual(list.body.data.map((a: Json) => [a.username, a.role]), [['boss', 'admin'], ['priya.s', 'agent']], 'nothing changed');
    });

    it('answers an unknown user, a wrong password and a disabled account with the same 401 BAD_CREDENTIALS', async () => {
      await call(app, 'POST', '/api/agents', { username: 'gone', name: 'Gone', password: 'gone-password', role: 'agent' }, EXTERNAL_ADMIN);
      await call(app, 'PATCH', '/api/agents/gone', { disabled: true }, EXTERNAL_ADMIN);
      const answers = [await login(app, 'nobody', 'whatever-pass'), await login(app, 'priya.s', 'wrong-password'), await login(app, 'gone', 'gone-password')];
      for (const res of answers) {
        assert.equal(res.status, 401);
        assert.deepEqual(res.body, { status: 0, error: { code: 'BAD_CREDENTIALS', message: 'Wrong username or password' } });
      }
    });

    it('revokes a disabled agent\'s tokens at once: HTTP 401, the WebSocket upgrade refused, its open socket closed with 4401', async () => {
      await call(app, 'POST', '/api/agents', { username: 'ravi', name: 'Ravi', password: 'ravi-password', role: 'agent' }, EXTERNAL_ADMIN);
      const token = await bearer(app, 'ravi', 'ravi-password');
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, token)).status, 200);
      const socket = await openSocket(app.url, tokenOf(token));
      const other = await openSocket(app.url, tokenOf(await bearer(app, 'priya.s', 'priya-secret-1')));

      assert.equal((await call(app, 'PATCH', '/api/agents/ravi', { disabled: true }, EXTERNAL_ADMIN)).status, 200);
      const stats = await call(app, 'GET', '/api/dashboard/stats', undefined, token);
      assert.equal(stats.status, 401);
      assert.equal(stats.body.error.code, 'UNAUTHORIZED');
      assert.match(stats.body.error.message, /revoked/);
      assert.deepEqual(await within(5000, socket.closed, 'the disabled agent\'s socket closes'), { code: 4401, reason: 'token revoked' });
      assert.equal(await upgradeStatus(app.url, tokenOf(token)), 401);
      assert.equal(other.ws.readyState, WebSocket.OPEN, 'another agent\'s socket stays open');
      other.ws.close();

      // Enabled again, the old token stays revoked; a new login works.
      assert.equal((await call(app, 'PATCH', '/api/agents/ravi', { disabled: false }, EXTERNAL_ADMIN)).status, 200);
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, token)).status, 401);
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, await bearer(app, 'ravi', 'ravi-password'))).status, 200);
    });

    it('revokes old tokens when the password or the role changes, not when the name does', async () => {
      const first = await bearer(app, 'ravi', 'ravi-password');
      await call(app, 'PATCH', '/api/agents/ravi', { name: 'Ravi K' }, EXTERNAL_ADMIN);
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, first)).status, 200, 'a new display name keeps tokens');

      assert.equal((await call(app, 'PATCH', '/api/agents/ravi', { password: 'ravi-password-2' }, EXTERNAL_ADMIN)).status, 200);
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, first)).status, 401);
      assert.equal((await login(app, 'ravi', 'ravi-password')).status, 401, 'the old password is gone');
      const second = await bearer(app, 'ravi', 'ravi-password-2');
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, second)).status, 200);

      assert.equal((await call(app, 'PATCH', '/api/agents/ravi', { role: 'admin' }, EXTERNAL_ADMIN)).status, 200);
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, second)).status, 401, 'a token with the old role is revoked');
      const promoted = await bearer(app, 'ravi', 'ravi-password-2');
      assert.equal((await call(app, 'GET', '/api/agents', undefined, promoted)).status, 200);
    });

    it('keeps honouring tokens minted elsewhere with the secret (no tv): they are not account tokens', async () => {
      const external = `Bearer ${signToken({ sub: 'someone-from-sso' }, TEST_JWT_SECRET)}`;
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, external)).status, 200);
      // Even with a disabled account's username as sub: only tokens with tv are checked against the accounts.
      const sameName = `Bearer ${signToken({ sub: 'gone' }, TEST_JWT_SECRET)}`;
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, sameName)).status, 200);
      const socket = await openSocket(app.url, signToken({ sub: 'gone' }, TEST_JWT_SECRET));
      socket.ws.close();
      // A tv token for a name that is no account, or with a version the account never had, is refused.
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, `Bearer ${signToken({ sub: 'no-such-account', tv: 1 }, TEST_JWT_SECRET)}`)).status, 401);
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, `Bearer ${signToken({ sub: 'priya.s', tv: 99 }, TEST_JWT_SECRET)}`)).status, 401);
    });

    it('takes the username case-insensitively and trims it', async () => {
      const res = await login(app, '  Priya.S ', 'priya-secret-1');
      assert.equal(res.status, 200);
      assert.equal(res.body.agent.username, 'priya.s');
    });
  });
}

describe('revocation without the change notice', () => {
  it('reaches tokens and open sockets once the cache expires (AGENT_CHECK_MS), even when the account is changed behind the server\'s back', async () => {
    const app = await startTestApp({ ADMIN_USERNAME: 'boss', ADMIN_PASSWORD, AGENT_CHECK_MS: '300' });
    try {
      await call(app, 'POST', '/api/agents', { username: 'quiet', name: 'Quiet', password: 'quiet-password', role: 'agent' }, EXTERNAL_ADMIN);
      const token = await bearer(app, 'quiet', 'quiet-password');
      const socket = await openSocket(app.url, tokenOf(token));
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, token)).status, 200, 'the account is now cached');
      // Straight into the store (as the CLI on another machine would, had its notice been lost): no notice at all.
      await app.store.collection('agents').updateOne({ username: 'quiet' }, { $set: { disabled: true }, $inc: { token_version: 1 } });
      const started = Date.now();
      assert.deepEqual(await within(5000, socket.closed, 'the socket closes within two check periods'), { code: 4401, reason: 'token revoked' });
      const took = Date.now() - started;
      assert.ok(took <= 2 * 300 + 500, `closed after ${took} ms`);
      assert.equal((await call(app, 'GET', '/api/dashboard/stats', undefined, token)).status, 401);
    } finally {
      await app.stop();
    }
  });
});

describe('login failures', () => {
  it('are counted per forwarded client address behind a trusted proxy (TRUST_PROXY_HOPS)', async () => {
    const app = await startTestApp({ ADMIN_USERNAME: 'boss', ADMIN_PASSWORD, TRUST_PROXY_HOPS: '1' });
    const from = (address: string, username: string, password: string) =>
      fetch(`${app.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-forwarded-for': `spoofed, ${address}` }, body: JSON.stringify({ username, password }) }).then(async (r) => (await r.arrayBuffer(), r.status));
    try {
      for (let i = 0; i < 5; i++) assert.equal(await from('198.51.100.1', `ghost${i}`, 'wrong-password'), 401);
      assert.equal(await from('198.51.100.1', 'ghost9', 'wrong-password'), 429, 'the attacker\'s address is limited');
      assert.equal(await from('198.51.100.2', 'boss', ADMIN_PASSWORD), 200, 'another client behind the same proxy is not');
    } finally {
      await app.stop();
    }
  });

  it('take about as long for an unknown user as for a wrong password (medians within 3x)', async () => {
    const app = await startTestApp({ ADMIN_USERNAME: 'boss', ADMIN_PASSWORD, LOGIN_FAILURE_LIMIT: '1000' });
    try {
      const unknown: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < 8; i++) {
        for (const [samples, username] of [[unknown, `ghost${i}`], [wrong, 'boss']] as const) {
          const t = performance.now();
          const res = await login(app, username, 'not-the-password');
          samples.push(performance.now() - t);
          assert.equal(res.status, 401);
        }
      }
      const [u, w] = [median(unknown), median(wrong)];
      assert.ok(u > w / 3 && u < w * 3, `unknown ${u.toFixed(0)} ms vs wrong password ${w.toFixed(0)} ms`);
      assert.ok(u > 20, `an unknown user costs a real hash (${u.toFixed(0)} ms)`);
    } finally {
      await app.stop();
    }
  });

  it('refuse the 6th attempt within a minute with 429 RATE_LIMITED and Retry-After, even with the right password', async () => {
    const app = await startTestApp({ ADMIN_USERNAME: 'boss', ADMIN_PASSWORD });
    try {
      for (let i = 0; i < 5; i++) assert.equal((await login(app, 'boss', 'wrong-password')).status, 401);
      for (const password of ['wrong-password', ADMIN_PASSWORD]) {
        const res = await login(app, 'boss', password);
        assert.equal(res.status, 429);
        assert.equal(res.body.error.code, 'RATE_LIMITED');
        const retry = Number(res.headers.get('retry-after'));
        assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
      }
      // The client address is limited too: another username from the same address is refused.
      const other = await login(app, 'someone-else', 'whatever-pass');
      assert.equal(other.status, 429);
    } finally {
      await app.stop();
    }
  });
});

describe('revocation across pods', () => {
  const pods: Pod[] = [];
  after(() => Promise.all(pods.map((p) => p.stop())));

  it('closes a disabled agent\'s socket on the other pod at once (the Redis change notice, not the 30 s check)', async () => {
    const env = { MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('accounts'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('accounts')}:`, ADMIN_USERNAME: 'boss', ADMIN_PASSWORD };
    pods.push(...(await Promise.all(['pod-a', 'pod-b'].map((id) => startPod(id, env)))));
    const [a, b] = pods as [Pod, Pod];
    const admin = await bearer(a, 'boss', ADMIN_PASSWORD);
    assert.equal((await call(a, 'POST', '/api/agents', { username: 'nina', name: 'Nina', password: 'nina-password', role: 'agent' }, admin)).status, 200);
    const token = await bearer(b, 'nina', 'nina-password');
    assert.equal((await call(b, 'GET', '/api/dashboard/stats', undefined, token)).status, 200, 'pod b has the account cached');
    const socket = await openSocket(b.url, tokenOf(token));

    const started = Date.now();
    assert.equal((await call(a, 'PATCH', '/api/agents/nina', { disabled: true }, admin)).status, 200);
    assert.deepEqual(await within(5000, socket.closed, 'the socket on the other pod closes'), { code: 4401, reason: 'token revoked' });
    assert.ok(Date.now() - started < 5000);
    assert.equal((await call(b, 'GET', '/api/dashboard/stats', undefined, token)).status, 401);
    assert.equal((await login(b, 'nina', 'nina-password')).status, 401);
  });
});
