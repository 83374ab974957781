import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { KvError } from '../../src/infra/kv/kv.ts';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { freePort } from '../support/ports.ts';
import { startRedisServer } from '../support/redis-server.ts';
import { testRedisUrl, uniqueName } from '../support/services.ts';
import { kvContract } from './kv.contract.ts';

kvContract('redis', () => RedisKv.connect({ url: testRedisUrl(), prefix: `${uniqueName('kv')}:` }));

describe('redis key-value store when the server is gone', () => {
  it('fails to connect with an unavailable error, not a hang', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(RedisKv.connect({ url: `redis://127.0.0.1:${port}` }), (e: unknown) => e instanceof KvError && e.kind === 'unavailable');
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });

  it('answers a command with an unavailable error within its timeout when the server stops answering', async () => {
    const server = await startRedisServer({ private: true });
    const kv = await RedisKv.connect({ url: server.url, commandTimeoutMs: 300 });
    try {
      await kv.set('a', '1');
      server.pause(true);
      const started = Date.now();
      await assert.rejects(kv.get('a'), (e: unknown) => e instanceof KvError && e.kind === 'unavailable');
      await assert.rejects(kv.ping(300), (e: unknown) => e instanceof KvError && e.kind === 'unavailable');
      assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`);
      server.pause(false);
      assert.equal(await kv.get('a'), '1', 'works again once the server answers');
    } finally {
      server.pause(false);
      await kv.close();
      await server.stop();
    }
  });
});

describe('redis subscriptions', () => {
  it('call onResumed once the subscription is back after its connection was cut, and deliver again', async () => {
    const kv = await RedisKv.connect({ url: testRedisUrl(), prefix: `${uniqueName('kv-resume')}:` });
    const admin = new Redis(testRedisUrl());
    try {
      const got: string[] = [];
      let resumed = 0;
      await kv.subscribe('events', (m) => void got.push(m), () => void resumed++);
      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      const deadline = Date.now() + 3000;
      while (resumed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.equal(resumed, 1, 'told of the resumed subscription once');
      while (got.length === 0 && Date.now() < deadline) {
        await kv.publish('events', 'after');
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(got[0], 'after');
    } finally {
      admin.disconnect();
      await kv.close();
    }
  });
});
