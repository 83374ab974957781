import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { Scheduler } from '../../src/actors/runtime/scheduler.ts';
import { MemoryKv } from '../../src/infra/kv/kv.memory.ts';

const log = pino({ level: 'silent' });

describe('background jobs', () => {
  it('run an exclusive job on one pod at a time, and only the holder releases the lock', async () => {
    const kv = new MemoryKv();
    const a = new Scheduler(kv, 'pod-a', log);
    const b = new Scheduler(kv, 'pod-b', log);
    let running = 0;
    let most = 0;
    const job = {
      name: 'counter_sync',
      everyMs: 1000,
      exclusive: { lockTtlMs: 5000 },
      run: async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
      },
    };
    const [ranA, ranB] = await Promise.all([a.runOnce(job), b.runOnce(job)]);
    assert.deepEqual([ranA, ranB].sort(), [false, true]);
    assert.equal(most, 1);
    assert.equal(await kv.get('lock:scheduler:counter_sync'), null, 'released after the run');
    await Promise.all([a.stop(), b.stop(), kv.close()]);
  });

  it('tells a job that stalled past its lease that it no longer holds the lock', async () => {
    let now = 0;
    const kv = new MemoryKv(() => now);
    const a = new Scheduler(kv, 'pod-a', log);
    let held: boolean | undefined;
    await a.runOnce({
      name: 'resync',
      everyMs: 1000,
      exclusive: { lockTtlMs: 1000 },
      run: async (stillHolds) => {
        now += 5000; // the pod stalls past its lease…
        assert.notEqual(await kv.acquireLock('resync', 'pod-b', 1000), null, '…and another pod takes the job');
        held = await stillHolds();
      },
    });
    assert.equal(held, false);
    assert.equal(await kv.get('lock:scheduler:resync'), 'pod-b', "the stale pod did not release pod-b's lock");
    await Promise.all([a.stop(), kv.close()]);
  });
});
