import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
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
