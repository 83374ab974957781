/**
 * One suite, every key-value driver: in-process memory and Redis must keep
 * the same promises for keys, counters, locks and pub/sub.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KvError, type KeyValueStore } from '../../src/infra/kv/kv.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const isKind = (kind: KvError['kind']) => (e: unknown) => e instanceof KvError && e.kind === kind;

/** Collects messages and resolves once `n` arrived (or fails after 2 s). */
function inbox() {
  const got: string[] = [];
  return {
    got,
    handler: (m: string) => void got.push(m),
    async waitFor(n: number) {
      const deadline = Date.now() + 2000;
      while (got.length < n && Date.now() < deadline) await sleep(5);
      assert.ok(got.length >= n, `expected ${n} messages, got ${got.length}`);
    },
  };
}

export function kvContract(driver: string, open: () => Promise<KeyValueStore>): void {
  describe(`key-value contract: ${driver}`, () => {
    let kv: KeyValueStore;
    before(async () => {
      kv = await open();
    });
    after(async () => {
      await kv.close();
    });

    it('gets null for a missing key, then the value set', async () => {
      assert.equal(await kv.get('k:missing'), null);
      assert.equal(await kv.set('k:a', 'one'), true);
      assert.equal(await kv.get('k:a'), 'one');
      assert.deepEqual(await kv.getMany(['k:a', 'k:missing']), ['one', null]);
      assert.deepEqual(await kv.getMany([]), []);
    });

    it('sets only if absent when asked', async () => {
      assert.equal(await kv.set('k:nx', '1', { onlyIfAbsent: true }), true);
      assert.equal(await kv.set('k:nx', '2', { onlyIfAbsent: true }), false);
      assert.equal(await kv.get('k:nx'), '1');
    });

    it('expires a key after its time to live', async () => {
      await kv.set('k:ttl', 'v', { ttlMs: 80 });
      const ttl = await kv.ttlMs('k:ttl');
      assert.ok(ttl !== null && ttl > 0 && ttl <= 80, `ttl ${ttl}`);
      assert.equal(await kv.ttlMs('k:a'), null);
      await sleep(150);
      assert.equal(await kv.get('k:ttl'), null);
    });

    it('deletes keys and counts only those that existed', async () => {
      await kv.set('k:d1', 'x');
      assert.equal(await kv.del('k:d1', 'k:never'), 1);
      assert.equal(await kv.del(), 0);
    });

    it('counts atomically, from zero, in both directions', async () => {
      assert.equal(await kv.incrBy('k:count', 1), 1);
      assert.equal(await kv.incrBy('k:count', 5), 6);
      assert.equal(await kv.incrBy('k:count', -7), -1);
      await Promise.all(Array.from({ length: 50 }, () => kv.incrBy('k:race', 1)));
      assert.equal(await kv.get('k:race'), '50');
    });

    it('deletes by prefix, treating glob characters literally', async () => {
      await kv.set('chat_response::a*', '1');
      await kv.set('chat_response::b', '2');
      await kv.set('chat_response:x', '3');
      assert.equal(await kv.deleteByPrefix('chat_response::a*'), 1);
      assert.equal(await kv.deleteByPrefix('chat_response::'), 1);
      assert.equal(await kv.get('chat_response:x'), '3');
    });

    it('grants a lock to one owner at a time, with growing fencing tokens', async () => {
      const t1 = await kv.acquireLock('job', 'pod-a', 5000);
      assert.equal(typeof t1, 'number');
      assert.equal(await kv.acquireLock('job', 'pod-b', 5000), null);
      assert.equal(await kv.releaseLock('job', 'pod-b'), false, 'only the holder releases');
      assert.equal(await kv.extendLock('job', 'pod-b', 5000), false, 'only the holder extends');
      assert.equal(await kv.extendLock('job', 'pod-a', 5000), true);
      assert.equal(await kv.releaseLock('job', 'pod-a'), true);
      const t2 = await kv.acquireLock('job', 'pod-b', 5000);
      assert.ok(t2 !== null && t1 !== null && t2 > t1, `${t2} > ${t1}`);
    });

    it('lets a lapsed lease go to another owner', async () => {
      const t1 = await kv.acquireLock('lease', 'pod-a', 60);
      await sleep(120);
      const t2 = await kv.acquireLock('lease', 'pod-b', 5000);
      assert.ok(t1 !== null && t2 !== null && t2 > t1);
      assert.equal(await kv.releaseLock('lease', 'pod-a'), false, 'the former holder cannot release');
    });

    it('delivers published messages to every subscriber until it unsubscribes', async () => {
      const a = inbox();
      const b = inbox();
      const offA = await kv.subscribe('ws:chat:room1', a.handler);
      const offB = await kv.subscribe('ws:chat:room1', b.handler);
      await kv.publish('ws:chat:room1', 'hello');
      await kv.publish('ws:chat:other', 'not for us');
      await a.waitFor(1);
      await b.waitFor(1);
      await offA();
      await kv.publish('ws:chat:room1', 'second');
      await b.waitFor(2);
      await sleep(30);
      assert.deepEqual(a.got, ['hello']);
      assert.deepEqual(b.got, ['hello', 'second']);
      await offB();
    });

    it('token bucket: grants its capacity at once, then one token per refill interval, shared by every client', async () => {
      const key = `bucket:${Math.random()}`;
      const waits: number[] = [];
      for (let i = 0; i < 5; i++) waits.push(await kv.takeToken(key, 5, 20));
      assert.deepEqual(waits, [0, 0, 0, 0, 0], 'a full bucket grants its capacity');
      const wait = await kv.takeToken(key, 5, 20);
      assert.ok(wait > 0 && wait <= 50, `empty bucket asks to wait about 50 ms, got ${wait}`);
      await sleep(wait + 15);
      assert.equal(await kv.takeToken(key, 5, 20), 0, 'a token is due after the wait');
      assert.ok((await kv.takeToken(key, 5, 20)) > 0, 'and only one');
      assert.equal(await kv.takeToken(`${key}:other`, 5, 20), 0, 'buckets are independent');
      await assert.rejects(kv.takeToken(key, 0, 20), isKind('bad_input'));
      await assert.rejects(kv.takeToken(key, 5, 0), isKind('bad_input'));
    });

    it('token bucket: over one second grants about capacity + rate, never more', async () => {
      const key = `bucket:${Math.random()}`;
      const started = Date.now();
      let granted = 0;
      while (Date.now() - started < 500) {
        if ((await kv.takeToken(key, 10, 40)) === 0) granted++;
        else await sleep(2);
      }
      const elapsed = Date.now() - started;
      assert.ok(granted <= 10 + Math.ceil((elapsed * 40) / 1000) + 1, `granted ${granted} in ${elapsed} ms`);
      assert.ok(granted >= 10 + Math.floor(((elapsed - 100) * 40) / 1000), `granted only ${granted} in ${elapsed} ms`);
    });

    it('rejects bad input with a bad_input error', async () => {
      await assert.rejects(kv.set('k:bad', 'v', { ttlMs: 0 }), isKind('bad_input'));
      await assert.rejects(kv.acquireLock('job2', 'pod', -1), isKind('bad_input'));
      await assert.rejects(kv.incrBy('k:bad', 1.5), isKind('bad_input'));
      await kv.set('k:text', 'abc');
      await assert.rejects(kv.incrBy('k:text', 1), isKind('bad_input'));
    });
  });

  describe(`key-value contract: ${driver}, once closed`, () => {
    it('rejects every operation with a closed error instead of hanging', async () => {
      const kv = await open();
      await kv.close();
      await assert.rejects(kv.get('k'), isKind('closed'));
      await assert.rejects(kv.publish('c', 'm'), isKind('closed'));
    });
  });
}
