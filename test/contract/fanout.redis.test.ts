/**
 * Cross-pod pushes on a real Redis: a pod publishes a push only to rooms
 * another pod announced members in, learns the rooms of pods that were there
 * before it, and hears every room again while its subscription was lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { RedisFanout } from '../../src/actors/cluster/fanout.redis.ts';
import { RedisKv } from '../../src/infra/kv/kv.redis.ts';
import { testRedisUrl, uniqueName } from '../support/services.ts';

const log = pino({ level: 'silent' });
const UNSURE_MS = 150;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventually(check: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

describe('cross-pod pushes on Redis (room interest)', () => {
  const prefix = `${uniqueName('fanout')}:`;
  const kvs: RedisKv[] = [];
  const fanouts: RedisFanout[] = [];

  /** One pod: its key-value connection, its fan-out, and the pushes delivered to its local rooms. */
  async function pod(name: string) {
    const kv = await RedisKv.connect({ url: testRedisUrl(), prefix });
    const delivered: { room: string; payload: string }[] = [];
    const fanout = new RedisFanout(kv, name, { deliverLocal: (room, payload) => void delivered.push({ room, payload }) }, log, { unsureForMs: UNSURE_MS });
    await fanout.start();
    kvs.push(kv);
    fanouts.push(fanout);
    return { kv, fanout, delivered };
  }

  /** PUBLISH commands this Redis ran so far (INFO commandstats). */
  async function publishes(redis: Redis): Promise<number> {
    const info = await redis.info('commandstats');
    return Number(/cmdstat_publish:calls=(\d+)/.exec(info)?.[1] ?? 0);
  }

  let admin: Redis;
  before(() => {
    admin = new Redis(testRedisUrl());
  });
  after(async () => {
    for (const f of fanouts) await f.stop();
    for (const kv of kvs) await kv.close();
    admin.disconnect();
  });

  it('publishes to a room only while another pod has members there, and delivers it there', async () => {
    const a = await pod('pod-a');
    const b = await pod('pod-b');
    await sleep(UNSURE_MS + 50); // past the start-up window in which every room counts as heard
    assert.equal(a.fanout.reaches('chat-1'), false, 'nobody anywhere');

    b.fanout.watch('chat-1');
    await eventually(() => a.fanout.reaches('chat-1'), 'pod-a hears of pod-b’s member');
    a.fanout.send('chat-1', '{"event":"new_message"}');
    await eventually(() => b.delivered.length === 1, 'pod-b gets the push');
    assert.deepEqual(b.delivered[0], { room: 'chat-1', payload: '{"event":"new_message"}' });
    assert.equal(b.fanout.reaches('chat-1'), false, 'its own member is not another pod’s');

    b.fanout.unwatch('chat-1');
    await eventually(() => !a.fanout.reaches('chat-1'), 'pod-a hears that pod-b left');
    assert.equal(a.fanout.roomsHeardElsewhere, 0);
  });

  it('a pod starting learns the rooms of the pods already there', async () => {
    const b = await pod('pod-b2');
    b.fanout.watch('dashboard');
    b.fanout.watch('chat-2');
    await sleep(50); // subscribed and announced before the next pod starts
    const c = await pod('pod-c');
    assert.equal(c.fanout.reaches('chat-3'), true, 'every room is heard until the lists are in');
    await eventually(() => c.fanout.reaches('chat-2') && c.fanout.reaches('dashboard'), 'pod-c has pod-b2’s list');
    await sleep(UNSURE_MS);
    assert.equal(c.fanout.reaches('chat-3'), false);
  });

  it('hears every room again after its subscription to Redis was cut, until the lists are back in', async () => {
    const b = await pod('pod-b3');
    b.fanout.watch('chat-4');
    const d = await pod('pod-d');
    await eventually(() => d.fanout.reaches('chat-4'), 'pod-d has pod-b3’s list');
    await sleep(UNSURE_MS + 50);
    assert.equal(d.fanout.reaches('chat-5'), false);

    const before = await publishes(admin);
    await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub'); // every pod's subscriber connection: they reconnect and re-subscribe
    await eventually(() => d.fanout.reaches('chat-5'), 'pod-d counts every room as heard after reconnecting');
    await eventually(() => !d.fanout.reaches('chat-5'), 'and stops once the window is over');
    assert.equal(d.fanout.reaches('chat-4'), true, 'pod-b3 answered the hello with its list');
    assert.ok((await publishes(admin)) > before, 'the hello and the answers were published');
  });
});
