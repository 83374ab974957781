/** One suite, both shard directories: what any single pod may rely on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ShardOwnership } from '../../src/actors/cluster/ownership.ts';

export function ownershipContract(driver: string, make: (pod: string) => Promise<{ ownership: ShardOwnership; close(): Promise<void> }>): void {
  describe(`shard ownership contract: ${driver}`, () => {
    it('a lone pod owns every shard, with a fencing token for each', async () => {
      const { ownership, close } = await make('solo');
      const changes: number[] = [];
      ownership.onChange((c) => c.owned && changes.push(c.shard));
      await ownership.start();
      assert.equal(ownership.owned().size, ownership.shards);
      for (let s = 0; s < ownership.shards; s++) assert.equal(typeof ownership.fence(s), 'number');
      assert.equal(changes.length, ownership.shards);
      assert.deepEqual(await ownership.livePods(), ['solo']);
      await ownership.stop();
      await close();
    });

    it('gives every shard back on stop, draining each first', async () => {
      const { ownership, close } = await make('leaving');
      await ownership.start();
      const drained: number[] = [];
      const lost: number[] = [];
      ownership.onChange((c) => !c.owned && lost.push(c.shard));
      await ownership.stop(async (s) => void drained.push(s));
      assert.equal(drained.length, ownership.shards);
      assert.equal(lost.length, ownership.shards);
      assert.equal(ownership.owned().size, 0);
      assert.equal(ownership.fence(0), null);
      await close();
    });
  });
}
