/** One suite, both shard directories: what any single pod may rely on. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ShardDirectory } from '../../src/actors/cluster/directory.ts';

export function directoryContract(driver: string, make: (pod: string) => Promise<{ directory: ShardDirectory; close(): Promise<void> }>): void {
  describe(`shard directory contract: ${driver}`, () => {
    it('a lone pod owns every shard, with a fencing token for each', async () => {
      const { directory, close } = await make('solo');
      const changes: number[] = [];
      directory.onChange((c) => c.owned && changes.push(c.shard));
      await directory.start();
      assert.equal(directory.owned().size, directory.shards);
      for (let s = 0; s < directory.shards; s++) assert.equal(typeof directory.fence(s), 'number');
      assert.equal(changes.length, directory.shards);
      assert.deepEqual(await directory.livePods(), ['solo']);
      await directory.stop();
      await close();
    });

    it('gives every shard back on stop, draining each first', async () => {
      const { directory, close } = await make('leaving');
      await directory.start();
      const drained: number[] = [];
      const lost: number[] = [];
      directory.onChange((c) => !c.owned && lost.push(c.shard));
      await directory.stop(async (s) => void drained.push(s));
      assert.equal(drained.length, directory.shards);
      assert.equal(lost.length, directory.shards);
      assert.equal(directory.owned().size, 0);
      assert.equal(directory.fence(0), null);
      await close();
    });
  });
}
