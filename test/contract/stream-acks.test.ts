import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { StreamAcks } from '../../src/actors/cluster/stream-acks.ts';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { testRedisUrl, uniqueName } from '../support/services.ts';

describe('stream acknowledgements (redis)', () => {
  it('acknowledges and deletes entries of several streams applied in one turn, leaving others pending', async () => {
    const prefix = `${uniqueName('acks')}:`;
    const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
    const redis = await kv.connection();
    try {
      const streams = [`${prefix}s:1`, `${prefix}s:2`];
      for (const s of streams) await redis.xgroup('CREATE', s, 'owners', '0', 'MKSTREAM');
      for (const s of streams) for (let i = 0; i < 3; i++) await redis.xadd(s, '*', 'n', String(i));
      const read = (await redis.xreadgroup('GROUP', 'owners', 'pod', 'COUNT', 10, 'STREAMS', ...streams, '>', '>')) as [string, [string, string[]][]][];
      const ids = new Map(read.map(([s, entries]) => [s, entries.map(([id]) => id)]));
      const acks = new StreamAcks(redis, 'owners');
      const kept = ids.get(streams[1]!)!.at(-1)!;
      await Promise.all([...ids].flatMap(([s, list]) => list.filter((id) => id !== kept).map((id) => acks.ack(s, id))));
      assert.equal(await redis.xlen(streams[0]!), 0);
      assert.deepEqual((await redis.xrange(streams[1]!, '-', '+')).map(([id]) => id), [kept], 'the entry not acknowledged stays');
      const [pendingCount] = (await redis.xpending(streams[1]!, 'owners')) as [number];
      assert.equal(pendingCount, 1, 'and stays pending for a retry or the next owner');
    } finally {
      redis.disconnect();
      await kv.close();
    }
  });
});
