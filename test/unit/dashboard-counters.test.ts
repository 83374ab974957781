/** The dashboard counters: each change counted once, the changes of one turn written and pushed together. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { DashboardCounters } from '../../src/actors/chat/dashboard-counters.ts';
import { MemoryKv } from '../../src/infra/kv/kv.memory.ts';
import type { KeyValueStore } from '../../src/infra/kv/kv.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';

const log = pino({ level: 'silent' });

/** The memory key-value layer, counting INCRBY calls. */
function countingKv(): { kv: KeyValueStore; incrBy: { calls: number } } {
  const inner = new MemoryKv();
  const incrBy = { calls: 0 };
  const kv = Object.assign(Object.create(inner) as KeyValueStore, {
    incrBy: (...a: Parameters<KeyValueStore['incrBy']>) => (incrBy.calls++, inner.incrBy(...a)),
  });
  return { kv, incrBy };
}

describe('dashboard counters', () => {
  it('writes the changes of one turn as one increment per counter and pushes the counts once, after all of them', async () => {
    const { kv, incrBy } = countingKv();
    const pushes: unknown[] = [];
    const counters = new DashboardCounters(kv, new MemoryStore(), { publish: (_room, event, data) => event === 'dashboard_stats' && pushes.push(data) }, log);
    await Promise.all([
      ...Array.from({ length: 10 }, (_, i) => counters.change({ active: 1 }, `c${i}:opened`)),
      counters.change({ active: -1, resolved: 1 }, 'c0:resolve-1'),
      counters.change({ active: 1 }, 'c1:opened'), // the same transition again (an effect re-run): not counted
    ]);
    assert.deepEqual(pushes, [{ active: 9, resolved: 1, pending: 0 }]);
    assert.equal(incrBy.calls, 2, 'one INCRBY per counter for the whole turn');
    assert.deepEqual(await counters.stats(), { active: 9, resolved: 1, pending: 0 });
    await counters.change({ active: -1, resolved: 1 }, 'c2:resolve-1');
    assert.deepEqual(pushes.at(-1), { active: 8, resolved: 2, pending: 0 });
    assert.deepEqual(await counters.stats(), { active: 8, resolved: 2, pending: 0 }, 'the cached answer was dropped by the change');
  });
});
