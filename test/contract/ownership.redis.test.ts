import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { RedisDirectory } from '../../src/actors/cluster/directory.redis.ts';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually } from '../support/webhooks.ts';
import { directoryContract } from './directory.contract.ts';

const log = pino({ level: 'silent' });

/** A pod's directory on its own connection, sharing `prefix` with its peers. */
async function pod(id: string, prefix: string, timing = { leaseMs: 1200, heartbeatMs: 200 }) {
  const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
  const redis = await kv.connection();
  const directory = new RedisDirectory({ redis, prefix, pod: id, log, ...timing });
  return { directory, redis, close: async () => (redis.disconnect(), kv.close()) };
}

directoryContract('redis', async (id) => pod(id, `${uniqueName('dir')}:`));

describe('redis shard directory with several pods', () => {
  it('splits the shards fairly between pods that join, with growing fencing tokens', async () => {
    const prefix = `${uniqueName('dir')}:`;
    const a = await pod('a', prefix);
    await a.directory.start();
    const before = a.directory.fence(0)!;
    const b = await pod('b', prefix);
    await b.directory.start();
    await eventually(async () => a.directory.owned().size === 32 && b.directory.owned().size === 32, 10_000, 'fair split');
    const moved = [...b.directory.owned().keys()];
    for (const s of moved) assert.equal(a.directory.fence(s), null, `shard ${s} has one owner`);
    if (moved.includes(0)) assert.ok(b.directory.fence(0)! > before, 'a re-granted shard has a larger token');
    await b.directory.stop();
    await eventually(async () => a.directory.owned().size === 64, 10_000, 'a takes everything back');
    await a.directory.stop();
    await Promise.all([a.close(), b.close()]);
  });

  it("moves a dead pod's shards to the living within a lease, and the dead pod's tokens stop working", async () => {
    const prefix = `${uniqueName('dir')}:`;
    const a = await pod('a', prefix);
    const b = await pod('b', prefix);
    await a.directory.start();
    await b.directory.start();
    await eventually(async () => a.directory.owned().size + b.directory.owned().size === 64 && b.directory.owned().size > 0, 10_000, 'both own shards');
    const died = Date.now();
    b.redis.disconnect(); // b can no longer renew anything: as good as dead to the others
    await eventually(async () => a.directory.owned().size === 64, 10_000, 'a owns everything');
    const took = Date.now() - died;
    assert.ok(took < 1200 + 2 * 200 + 1500, `took ${took} ms`);
    assert.equal(b.directory.owned().size, 0, "b's own clock says its leases lapsed");
    await a.directory.stop();
    await Promise.all([a.close(), b.close()]);
  });
});
