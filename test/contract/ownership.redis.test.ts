import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { RedisOwnership } from '../../src/actors/cluster/ownership.redis.ts';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually } from '../support/webhooks.ts';
import { ownershipContract } from './ownership.contract.ts';

const log = pino({ level: 'silent' });

/** A pod's ownership on its own connection, sharing `prefix` with its peers. */
async function pod(id: string, prefix: string, timing = { leaseMs: 1200, heartbeatMs: 200 }) {
  const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
  const redis = await kv.connection();
  const ownership = new RedisOwnership({ redis, prefix, pod: id, log, ...timing });
  return { ownership, redis, close: async () => (redis.disconnect(), kv.close()) };
}

ownershipContract('redis', async (id) => pod(id, `${uniqueName('dir')}:`));

describe('redis shard ownership with several pods', () => {
  it('splits the shards fairly between pods that join, with growing fencing tokens', async () => {
    const prefix = `${uniqueName('dir')}:`;
    const a = await pod('a', prefix);
    await a.ownership.start();
    const before = a.ownership.fence(0)!;
    const b = await pod('b', prefix);
    await b.ownership.start();
    await eventually(async () => a.ownership.owned().size === 32 && b.ownership.owned().size === 32, 10_000, 'fair split');
    const moved = [...b.ownership.owned().keys()];
    for (const s of moved) assert.equal(a.ownership.fence(s), null, `shard ${s} has one owner`);
    if (moved.includes(0)) assert.ok(b.ownership.fence(0)! > before, 'a re-granted shard has a larger token');
    await b.ownership.stop();
    await eventually(async () => a.ownership.owned().size === 64, 10_000, 'a takes everything back');
    await a.ownership.stop();
    await Promise.all([a.close(), b.close()]);
  });

  it("moves a dead pod's shards to the living within a lease, and the dead pod's tokens stop working", async () => {
    const prefix = `${uniqueName('dir')}:`;
    const a = await pod('a', prefix);
    const b = await pod('b', prefix);
    await a.ownership.start();
    await b.ownership.start();
    await eventually(async () => a.ownership.owned().size + b.ownership.owned().size === 64 && b.ownership.owned().size > 0, 10_000, 'both own shards');
    const died = Date.now();
    b.redis.disconnect(); // b can no longer renew anything: as good as dead to the others
    await eventually(async () => a.ownership.owned().size === 64, 10_000, 'a owns everything');
    const took = Date.now() - died;
    assert.ok(took < 1200 + 2 * 200 + 1500, `took ${took} ms`);
    assert.equal(b.ownership.owned().size, 0, "b's own clock says its leases lapsed");
    await a.ownership.stop();
    await Promise.all([a.close(), b.close()]);
  });
});
