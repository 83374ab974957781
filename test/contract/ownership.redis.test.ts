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
async function pod(id: string, prefix: string, timing = { leaseMs: 1200, heartbeatMs: 200 }, withNotices = false) {
  const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
  const redis = await kv.connection();
  const ownership = new RedisOwnership({ redis, prefix, pod: id, log, ...timing, ...(withNotices ? { notices: kv } : {}) });
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

  it('keeps renewing every lease, those being drained included, while a slow drain runs', async () => {
    const prefix = `${uniqueName('dir')}:`;
    const a = await pod('a', prefix);
    const b = await pod('b', prefix);
    const drained: number[] = [];
    const lapsed = new Set<number>();
    // A drain three times longer than the lease: a round that waited for it would let every lease of `a` lapse.
    await a.ownership.start(async (shard) => {
      await new Promise((r) => setTimeout(r, 3600));
      drained.push(shard);
    });
    await b.ownership.start();
    const held = new Set(a.ownership.owned().keys());
    const watch = setInterval(() => {
      for (const s of held) if (a.ownership.fence(s) === null && !drained.includes(s)) lapsed.add(s);
    }, 50);
    try {
      await eventually(async () => drained.length > 0, 10_000, 'a first shard drained and given up');
      // Every shard `a` held is either still its own with a valid token, or was given up after its drain.
      for (const s of held) assert.ok(a.ownership.fence(s) !== null || drained.includes(s), `shard ${s}: lease lapsed during another shard's drain`);
      assert.deepEqual([...lapsed], [], 'no token of `a` was ever invalid before its shard was given up');
    } finally {
      clearInterval(watch);
      await b.ownership.stop();
      await a.ownership.stop(async () => undefined);
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('grants larger fencing tokens than any before after Redis lost its keys (a restart without persistence)', async () => {
    const prefix = `${uniqueName('dir')}:`;
    const a = await pod('a', prefix);
    await a.ownership.start();
    const before = a.ownership.fence(0)!;
    // What a restart without persistence leaves: no lease, no epoch, no pod list.
    await a.redis.del(...Array.from({ length: 64 }, (_, s) => [`${prefix}shard:${s}:owner`, `${prefix}shard:${s}:epoch`]).flat(), `${prefix}pods`);
    await eventually(async () => (await a.redis.get(`${prefix}shard:0:owner`)) === 'a', 5000, 'the lease taken again');
    await eventually(async () => (a.ownership.fence(0) ?? 0) > 0, 5000, 'a owns shard 0 again');
    assert.ok(a.ownership.fence(0)! > before, `token ${a.ownership.fence(0)} after the loss, ${before} before: an actor stored under the old one must still accept writes`);
    await a.ownership.stop();
    await a.close();
  });

  it('with notices, moves shards a pod frees, joining or stopping, at once rather than at the next heartbeat', async () => {
    const prefix = `${uniqueName('dir')}:`;
    // Heartbeats 4 s apart: without the notices, each step below would wait for one.
    const slow = { leaseMs: 12_000, heartbeatMs: 4000 };
    const a = await pod('a', prefix, slow, true);
    await a.ownership.start();
    assert.equal(a.ownership.owned().size, 64);
    const b = await pod('b', prefix, slow, true);
    const joined = Date.now();
    await b.ownership.start(); // its first round finds nothing free; its notice makes `a` shed an eighth, which `b` takes
    await eventually(async () => b.ownership.owned().size === 8, 3000, "b gets the first eighth of a's shards");
    assert.ok(Date.now() - joined < 2000, `the first eighth moved in ${Date.now() - joined} ms`);
    assert.equal(a.ownership.owned().size, 56);
    const left = Date.now();
    await b.ownership.stop(); // leaving: `a` takes each shard as soon as `b` frees it
    await eventually(async () => a.ownership.owned().size === 64, 3000, 'a owns everything again');
    assert.ok(Date.now() - left < 2000, `b's shards came back in ${Date.now() - left} ms`);
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
