/** The outbox's lane queue: one customer's sends in order, lanes side by side, bounded. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LaneQueue } from '../../src/actors/outbound/outbox-queue.ts';

const tick = (ms = 5) => new Promise<void>((r) => setTimeout(r, ms));

describe('lane queue', () => {
  it('runs one lane in order, one at a time, and lanes side by side up to the concurrency', async () => {
    const log: string[] = [];
    let running = 0;
    let peak = 0;
    const q = new LaneQueue(
      async (item) => {
        running++;
        peak = Math.max(peak, running);
        log.push(`start ${item}`);
        await tick(item.endsWith('0') ? 20 : 2);
        log.push(`end ${item}`);
        running--;
      },
      { concurrency: 2, maxQueued: 100, onError: () => undefined },
    );
    for (const lane of ['a', 'b', 'c']) for (let i = 0; i < 3; i++) assert.equal(q.push(lane, `${lane}${i}`), true);
    await q.idle();
    assert.equal(peak, 2);
    for (const lane of ['a', 'b', 'c']) {
      const mine = log.filter((l) => l.includes(` ${lane}`));
      assert.deepEqual(mine, [`start ${lane}0`, `end ${lane}0`, `start ${lane}1`, `end ${lane}1`, `start ${lane}2`, `end ${lane}2`], `lane ${lane} in order, never overlapping`);
    }
  });

  it('refuses past its bound, never queues an item twice, and reports failures without stopping', async () => {
    const failed: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const q = new LaneQueue(
      async (item) => {
        await gate;
        if (item === 'x1') throw new Error('boom');
      },
      { concurrency: 1, maxQueued: 2, onError: (_e, item) => failed.push(item) },
    );
    assert.equal(q.push('x', 'x1'), true); // starts at once
    assert.equal(q.push('x', 'x2'), true);
    assert.equal(q.push('x', 'x2'), true, 'already queued: accepted, not added');
    assert.equal(q.push('y', 'y1'), true);
    assert.equal(q.free, 0);
    assert.equal(q.push('z', 'z1'), false, 'full');
    release();
    await q.idle();
    assert.deepEqual(failed, ['x1']);
    assert.deepEqual(q.size, { queued: 0, active: 0 });
  });

  it('close drops what waits, waits (bounded) for what runs, and takes nothing more', async () => {
    const done: string[] = [];
    const q = new LaneQueue(
      async (item) => {
        await tick(item === 'slow' ? 200 : 10);
        done.push(item);
      },
      { concurrency: 1, maxQueued: 10, onError: () => undefined },
    );
    q.push('a', 'first');
    q.push('a', 'waiting');
    assert.equal(await q.close(1000), 0);
    assert.deepEqual(done, ['first']);
    assert.equal(q.push('a', 'late'), false);
    const q2 = new LaneQueue(async () => tick(200), { concurrency: 1, maxQueued: 10, onError: () => undefined });
    q2.push('a', 'slow');
    assert.equal(await q2.close(20), 1, 'still running after the bound');
  });
});
