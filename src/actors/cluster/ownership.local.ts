import type { ShardOwnership } from './ownership.ts';
import { SHARDS } from './ownership.ts';

/** One pod (embedded mode, or no Redis): it owns every shard, for good. */
export class LocalOwnership implements ShardOwnership {
  private readonly all = new Map<number, number>();
  private listeners: ((c: { shard: number; owned: boolean; epoch: number }) => void)[] = [];

  constructor(
    readonly pod: string,
    readonly shards = SHARDS,
  ) {}

  async start(): Promise<void> {
    for (let s = 0; s < this.shards; s++) {
      this.all.set(s, 1);
      for (const l of this.listeners) l({ shard: s, owned: true, epoch: 1 });
    }
  }

  fence(shard: number): number | null {
    return this.all.get(shard) ?? null;
  }

  owned(): ReadonlyMap<number, number> {
    return this.all;
  }

  async livePods(): Promise<string[]> {
    return [this.pod];
  }

  onChange(listener: (c: { shard: number; owned: boolean; epoch: number }) => void): void {
    this.listeners.push(listener);
  }

  async stop(drain?: (shard: number) => Promise<void>): Promise<void> {
    for (const s of [...this.all.keys()]) {
      await drain?.(s);
      this.all.delete(s);
      for (const l of this.listeners) l({ shard: s, owned: false, epoch: 1 });
    }
  }
}
