/** Readiness against real Redis and the MongoDB-compatible server, including each one failing. */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Client } from 'undici';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp } from '../support/app.ts';
import { startMongoServer } from '../support/mongo-server.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';

interface Ready {
  status: number;
  checks: Record<string, string>;
  error?: { code: string; message: string };
}

describe('readiness with real services', () => {
  it('reports ok for MongoDB and Redis, and stores through the real driver', async () => {
    const db = uniqueName('ready');
    const app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: db, REDIS_URL: testRedisUrl() });
    try {
      const res = await fetch(`${app.url}/api/health/ready`);
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), { status: 1, checks: { mongodb: 'ok', redis: 'ok' } });

      const token = signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET);
      const up = await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: JSON.stringify({ mobile: '9123456789', in_journey_status: true }) });
      assert.equal(up.status, 200);
      const direct = await MongoStore.connect({ url: testMongoUrl(), dbName: db });
      assert.equal((await direct.collection('users').findOne({ mobile: '9123456789' }))?.in_journey_status, true);
      await direct.dropAll();
      await direct.close();
    } finally {
      await app.stop();
    }
  });

  it('answers 503 naming redis while Redis does not answer, and recovers', async () => {
    const redis = await startRedisServer({ private: true });
    const app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('ready'), REDIS_URL: redis.url });
    try {
      redis.pause(true);
      const res = await fetch(`${app.url}/api/health/ready`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as Ready;
      assert.equal(body.checks.mongodb, 'ok');
      assert.match(body.checks.redis ?? '', /^error: /);
      assert.deepEqual(body.error, { code: 'NOT_READY', message: 'not ready: redis' });
      redis.pause(false);
      assert.equal((await fetch(`${app.url}/api/health/ready`)).status, 200);
    } finally {
      redis.pause(false);
      await app.stop();
      await redis.stop();
    }
  });

  it('answers a request whose store does not answer with 503 STORE_UNAVAILABLE (retry), never 500', async () => {
    const redis = await startRedisServer({ private: true });
    const mongo = await startMongoServer({ private: true });
    const app = await startTestApp({ MONGO_URL: mongo.url, MONGO_DB: uniqueName('down'), REDIS_URL: redis.url });
    const agent = `Bearer ${signToken({ sub: '9099039188' }, TEST_JWT_SECRET)}`;
    try {
      redis.pause(true);
      const stats = await fetch(`${app.url}/api/dashboard/stats`, { headers: { authorization: agent } });
      assert.equal(stats.status, 503);
      assert.equal(((await stats.json()) as Ready).error?.code, 'STORE_UNAVAILABLE');
      redis.pause(false);
      await mongo.stop();
      const ws = await AgentClient.connect(app.url, '9099039188');
      try {
        const list = await ws.request('fetch_all_chats', {});
        assert.deepEqual([list.event, list.error?.code], ['error', 'STORE_UNAVAILABLE']);
      } finally {
        await ws.close();
      }
    } finally {
      redis.pause(false);
      await app.stop();
      await redis.stop();
    }
  });

  it('answers 503 naming mongodb once MongoDB is gone', async () => {
    const mongo = await startMongoServer({ private: true });
    const app = await startTestApp({ MONGO_URL: mongo.url, REDIS_URL: testRedisUrl() });
    try {
      await mongo.stop();
      const res = await fetch(`${app.url}/api/health/ready`);
      assert.equal(res.status, 503);
      const body = (await res.json()) as Ready;
      assert.match(body.checks.mongodb ?? '', /^error: /);
      assert.equal(body.checks.redis, 'ok');
      assert.equal(body.error?.message, 'not ready: mongodb');
    } finally {
      await app.stop();
    }
  });

  it('answers 503 while draining, on a connection opened before, so the balancer stops sending work', async () => {
    const app = await startTestApp();
    const kept = new Client(app.url); // one keep-alive connection
    const inflight = new Client(app.url);
    try {
      assert.equal((await kept.request({ path: '/api/health', method: 'GET' }).then(async (r) => (await r.body.dump(), r.statusCode))), 200);
      // A body that is still arriving keeps the drain waiting.
      const body = new PassThrough();
      const pending = inflight.request({ path: '/api/webhook/user/update', method: 'POST', body });
      body.write('{"mobile":');
      await new Promise((r) => setTimeout(r, 100));
      const stopping = app.stop();
      const res = await kept.request({ path: '/api/health/ready', method: 'GET' });
      assert.equal(res.statusCode, 503);
      const ready = (await res.body.json()) as Ready;
      assert.deepEqual(ready.error, { code: 'NOT_READY', message: 'not ready: draining' });
      body.end('"9876543210"}');
      assert.equal((await pending).statusCode, 401, 'the in-flight request was still answered');
      await stopping;
    } finally {
      await Promise.allSettled([kept.destroy(), inflight.destroy()]);
      await app.stop();
    }
  });
});
