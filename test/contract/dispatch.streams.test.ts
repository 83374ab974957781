import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { StreamDispatcher } from '../../src/actors/cluster/dispatch.streams.ts';
import type { ShardOwnership } from '../../src/actors/cluster/ownership.ts';
import { RedisOwnership } from '../../src/actors/cluster/ownership.redis.ts';
import type { Delivery } from '../../src/actors/runtime/actor-host.ts';
import { toAppError } from '../../src/infra/errors.ts';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually } from '../support/webhooks.ts';
import { dispatchContract } from './dispatch.contract.ts';
import { KIND, TallyStore, add, keysInShard, sleep, startPod, type DispatchPod, type TallyContext } from './dispatch.fixtures.ts';

const log = pino({ level: 'silent' });

/** A pod on the real Redis, with the connections `app.ts` gives one (commands, blocking reads, pub/sub), sharing `prefix` with its peers. */
async function redisPod(pod: string, prefix: string, store: TallyStore, replyTimeoutMs?: number, wrap = (o: ShardOwnership) => o): Promise<DispatchPod> {
  const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
  const redis = await kv.connection();
  const blocking = await kv.connection({ commandTimeoutMs: 0 });
  const ownership = wrap(new RedisOwnership({ redis, prefix, pod, log, leaseMs: 2000, heartbeatMs: 200 }));
  return startPod({
    pod,
    store,
    ownership,
    dispatcher: (host) => new StreamDispatcher({ host, ownership, kv, redis, blocking, prefix, pod, log, ...(replyTimeoutMs ? { replyTimeoutMs } : {}) }),
    close: async () => {
      redis.disconnect();
      blocking.disconnect();
      await kv.close();
    },
  });
}

dispatchContract('redis streams', (store) => redisPod('solo', `${uniqueName('dispatch')}:`, store));

describe('redis stream dispatcher', () => {
  it('re-applies an event that failed once before the later events of its actor, and holds the rest of its shard back until then', async () => {
    const store = new TallyStore();
    const pod = await redisPod('solo', `${uniqueName('dispatch')}:`, store);
    try {
      const [flaky, other] = keysInShard(pod, pod.shardOf('flaky'), 2, 'flaky');
      const { dispatcher } = pod;
      store.fail(`${flaky}#1`, 1);
      const failed = store.failed(`${flaky}#1`);
      const first = [1, 2, 3].map((n) => dispatcher.dispatch(KIND, flaky!, add(flaky!, n)).done);
      await failed;
      const behind = dispatcher.dispatch(KIND, other!, add(other!, 1)).done;
      const answers = await Promise.all([...first, behind]);
      assert.deepEqual(
        answers.map((d) => (d.context as TallyContext).log),
        [[1], [1, 2], [1, 2, 3], [1]],
        'the failed event answered its caller once retried',
      );
      assert.deepEqual(store.appliedIds(flaky!), [1, 2, 3].map((n) => `${flaky}#${n}`));
      assert.ok(store.indexOf('load', flaky!, 2) < store.indexOf('load', other!, 1), 'the shard entry dispatched after the failure was handed on after the retry');
    } finally {
      await pod.stop();
    }
  });

  it('applies the entries of a read whose answer was lost (Redis served it, the pod never saw it) before anything read after it', async () => {
    // A Redis shutting down (or a dropped connection) can serve XREADGROUP, putting the entries in this pod's
    // pending list, and close before the answer arrives: a next read of new entries must not overtake them.
    const store = new TallyStore();
    const pod = await redisPod('solo', `${uniqueName('dispatch')}:`, store);
    try {
      const { dispatcher } = pod;
      const streams = (dispatcher as unknown as { streams: { read: (...args: unknown[]) => Promise<{ entries: unknown[] }[]> } }).streams;
      const read = streams.read.bind(streams);
      let armed = false;
      let lost = false;
      streams.read = async (...args: unknown[]) => {
        const batches = await read(...args);
        if (armed && !lost && batches.some((b) => b.entries.length > 0)) {
          lost = true;
          throw new Error('Connection is closed.');
        }
        return batches;
      };
      // Answered once a read begun before the wrapper was in place has returned: every read after it is wrapped.
      await dispatcher.dispatch(KIND, 'warm', add('warm', 1)).done;
      armed = true;
      const first = [1, 2].map((n) => dispatcher.dispatch(KIND, 'lost', add('lost', n)).done);
      await eventually(async () => lost, 5000, 'a read lost its answer');
      const later = dispatcher.dispatch(KIND, 'lost', add('lost', 3)).done;
      const answers = await Promise.all([...first, later]);
      assert.deepEqual(answers.map((d) => (d.context as TallyContext).log), [[1], [1, 2], [1, 2, 3]]);
      assert.deepEqual(store.appliedIds('lost'), ['lost#1', 'lost#2', 'lost#3']);
    } finally {
      await pod.stop();
    }
  });

  it('drops an event that fails five times, answers its caller with the error, and still applies the later events of its actor', async () => {
    const store = new TallyStore();
    const pod = await redisPod('solo', `${uniqueName('dispatch')}:`, store);
    try {
      const { dispatcher } = pod;
      store.fail('doomed#1');
      const gate = store.hold('doomed#1');
      const doomed = dispatcher.dispatch(KIND, 'doomed', add('doomed', 1)).done;
      await gate.entered;
      const later = [2, 3].map((n) => dispatcher.dispatch(KIND, 'doomed', add('doomed', n)).done);
      // Read, so handed to the actor behind the failing one: each failure of it also fails them.
      await eventually(async () => (await dispatcher.backlog()) === 3, 5000, 'the later events read');
      gate.open();
      await assert.rejects(doomed, /store refused doomed#1/);
      assert.equal(store.attempts('doomed#1'), 5);
      const answers = await Promise.all(later);
      assert.deepEqual(answers.map((d) => (d.context as TallyContext).log), [[2], [2, 3]]);
      assert.deepEqual(store.appliedIds('doomed'), ['doomed#2', 'doomed#3']);
      await eventually(async () => (await dispatcher.backlog()) === 0, 5000, 'nothing left pending');
    } finally {
      await pod.stop();
    }
  });

  it('sets aside an entry whose event is not JSON, without stalling its shard', async () => {
    const prefix = `${uniqueName('dispatch')}:`;
    const store = new TallyStore();
    const pod = await redisPod('solo', prefix, store);
    const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
    const redis = await kv.connection();
    try {
      const shard = pod.shardOf('after');
      const stream = `${prefix}stream:shard:${shard}`;
      await redis.xadd(stream, '*', 'k', KIND, 'key', 'garbled', 'e', '{not json', 'r', 'solo', 'c', 'nobody');
      const answer = await pod.dispatcher.ask(KIND, 'after', add('after', 1));
      assert.deepEqual(answer.context, { log: [1] }, 'the event behind it applied');
      await eventually(async () => (await redis.xlen(stream)) === 0, 10_000, 'the unreadable entry dropped, the other acknowledged');
      const started = Date.now();
      await pod.dispatcher.release(shard);
      assert.ok(Date.now() - started < 2000, `release took ${Date.now() - started} ms: nothing of the shard is left in flight`);
    } finally {
      redis.disconnect();
      await kv.close();
      await pod.stop();
    }
  });

  it('answers a caller whose event the owning pod does not answer in time with OWNER_TIMEOUT (503, retry), not a bare error', async () => {
    const prefix = `${uniqueName('dispatch')}:`;
    const store = new TallyStore();
    const a = await redisPod('a', prefix, store, 300);
    const b = await redisPod('b', prefix, store, 300);
    try {
      await eventually(async () => a.ownership.owned().size === 32 && b.ownership.owned().size === 32, 15_000, 'the shards split between the two pods');
      const key = Array.from({ length: 50 }, (_, i) => `t${i}`).find((k) => b.ownership.fence(b.shardOf(k)) !== null)!;
      const gate = store.hold(`${key}#1`);
      const err = await a.dispatcher.dispatch(KIND, key, add(key, 1)).done.then(() => undefined, (e: unknown) => e);
      const e = toAppError(err);
      assert.deepEqual([e.code, e.status, e.retryAfterS], ['OWNER_TIMEOUT', 503, 1]);
      gate.open();
      await eventually(async () => store.appliedIds(key).length === 1, 5000, 'still applied by its owner, once');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });

  it('applies an entry it had to leave pending while its lease looked lapsed before the newer ones it reads once the lease is renewed', async () => {
    const store = new TallyStore();
    let lapsing = -1; // the shard whose next fence() answers null, once: a renewal late by the local clock
    const pod = await redisPod('solo', `${uniqueName('dispatch')}:`, store, undefined, (o) => ({
      shards: o.shards,
      start: (drain) => o.start(drain),
      fence: (s) => (s === lapsing ? ((lapsing = -1), null) : o.fence(s)),
      owned: () => o.owned(),
      livePods: () => o.livePods(),
      onChange: (l) => o.onChange(l),
      stop: (drain) => o.stop(drain),
    }));
    try {
      const key = 'lapse';
      await pod.dispatcher.ask(KIND, key, add(key, 1));
      await sleep(200); // the consumer is back in its blocking read
      const second = pod.dispatcher.dispatch(KIND, key, add(key, 2));
      lapsing = pod.shardOf(key); // the next fence() asked is the one before applying what that read returns
      await second.queued;
      await eventually(async () => lapsing === -1, 5000, 'the entry read while the lease looked lapsed');
      const third = await pod.dispatcher.ask(KIND, key, add(key, 3));
      assert.deepEqual((third.context as TallyContext).log, [1, 2, 3], '#2 applied before #3, not left for the idle sweep');
      assert.deepEqual((await second.done).context, { log: [1, 2] });
    } finally {
      await pod.stop();
    }
  });

  it("applies entries a previous owner read after this pod's takeover claim before the later entries this pod reads", async () => {
    const prefix = `${uniqueName('dispatch')}:`;
    const store = new TallyStore();
    const pod = await redisPod('new-owner', prefix, store);
    const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
    const redis = await kv.connection();
    try {
      const key = 'late';
      const stream = `${prefix}stream:shard:${pod.shardOf(key)}`;
      await pod.dispatcher.ask(KIND, key, add(key, 1)); // the new owner has taken the shard over (group made, pending claimed)
      // The old owner's read reaches Redis only now (it was paused between its lease check and its read):
      // entry #2 goes to its pending list in the same step as it is appended, so the new owner never sees it as new.
      const replies = await redis
        .multi()
        .xadd(stream, '*', 'k', KIND, 'key', key, 'e', JSON.stringify(add(key, 2)), 'r', 'old-owner', 'c', 'c2')
        .xreadgroup('GROUP', 'owners', 'old-owner', 'COUNT', 10, 'STREAMS', stream, '>')
        .exec();
      const read = replies?.[1]?.[1] as [string, unknown[]][] | null;
      assert.equal(read?.[0]?.[1].length, 1, 'the old owner holds #2');
      const third = await pod.dispatcher.ask(KIND, key, add(key, 3));
      assert.deepEqual((third.context as TallyContext).log, [1, 2, 3], '#2 applied before #3, not left for the idle sweep');
      assert.deepEqual(store.appliedIds(key), [1, 2, 3].map((n) => `${key}#${n}`));
      await eventually(async () => (await redis.xpending(stream, 'owners'))[0] === 0, 5000, 'nothing left pending');
    } finally {
      redis.disconnect();
      await kv.close();
      await pod.stop();
    }
  });

  it("delivers every pod's events to the one owner of each actor, in order, and answers the caller on the other pod", async () => {
    const prefix = `${uniqueName('dispatch')}:`;
    const store = new TallyStore();
    const a = await redisPod('a', prefix, store);
    const b = await redisPod('b', prefix, store);
    try {
      await eventually(async () => a.ownership.owned().size === 32 && b.ownership.owned().size === 32, 15_000, 'the shards split between the two pods');
      const ownerOf = (key: string) => (a.ownership.fence(a.shardOf(key)) !== null ? 'a' : 'b');
      const keys = Array.from({ length: 30 }, (_, i) => `p${i}`);
      assert.ok(keys.some((k) => ownerOf(k) === 'a') && keys.some((k) => ownerOf(k) === 'b'), 'actors on both pods');
      const each = 8;
      const calls: { key: string; n: number; caller: string; done: Promise<Delivery> }[] = [];
      // Callers alternate between the pods; each waits for its event's place in the order before the next.
      await Promise.all(
        keys.map(async (key) => {
          for (let n = 0; n < each; n++) {
            const caller = n % 2 ? a : b;
            const d = caller.dispatcher.dispatch(KIND, key, add(key, n));
            calls.push({ key, n, caller: caller.pod, done: d.done });
            await d.queued;
          }
        }),
      );
      const answers = await Promise.all(calls.map((c) => c.done));
      for (const [i, c] of calls.entries()) assert.equal((answers[i]!.context as TallyContext).log.at(-1), c.n, `${c.key}#${c.n} answered to pod ${c.caller}`);
      assert.ok(
        calls.filter((c) => c.caller !== ownerOf(c.key)).length > 0,
        'some answers crossed from the owner to the calling pod',
      );
      for (const key of keys) {
        assert.deepEqual(store.appliedIds(key), Array.from({ length: each }, (_, n) => `${key}#${n}`), `${key}: each event once, in order`);
        assert.ok(store.journal.filter((s) => s.what === 'applied' && s.key === key).every((s) => s.pod === ownerOf(key)), `${key}: applied by its owner`);
      }
      assert.equal(a.dispatcher.stats.consumed + b.dispatcher.stats.consumed, keys.length * each);
      assert.equal(a.dispatcher.stats.routedRemote + b.dispatcher.stats.routedRemote, calls.filter((c) => c.caller !== ownerOf(c.key)).length);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
