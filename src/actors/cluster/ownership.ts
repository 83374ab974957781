import { createHash } from 'node:crypto';

/**
 * Which pod owns which shard of actors (DESIGN.md §6). Actors are spread over
 * a fixed number of shards; each shard has at most one live owner, granted a
 * lease with a fencing token (epoch) that grows with every grant.
 * `ownership.local.ts` (one pod owns everything) and `ownership.redis.ts`
 * (leases in Redis) pass `test/contract/ownership.contract.ts`.
 */
export interface ShardOwnership {
  readonly shards: number;
  /**
   * Starts heartbeats and rebalancing; resolves after the first round. `drain`
   * runs before a shard is given to another pod in rebalancing.
   */
  start(drain?: (shard: number) => Promise<void>): Promise<void>;
  /** The shard's fencing token if this pod owns it and its lease is still valid by the local clock; else null. */
  fence(shard: number): number | null;
  /** Shards this pod owns now, with their tokens. */
  owned(): ReadonlyMap<number, number>;
  /** Live pods (heartbeat within one lease), this one included. */
  livePods(): Promise<string[]>;
  /** Called when this pod gains a shard (after the grant) or loses it (lease lapsed, taken, or released). */
  onChange(listener: (change: { shard: number; owned: boolean; epoch: number }) => void): void;
  /** Releases every shard after `drain(shard)` resolves for it, stops heartbeating, leaves the pod list. */
  stop(drain?: (shard: number) => Promise<void>): Promise<void>;
}

/** Default number of shards: enough to spread over a few dozen pods, few enough to scan every round. */
export const SHARDS = 64;

/** Hashes remembered (every event and every shard hand-off asks again); cleared when full. */
const HASHES_KEPT = 200_000;
const hashes = new Map<string, number>();

/** The shard an actor belongs to: a stable hash of its kind and key. */
export function shardOf(kind: string, key: string, shards = SHARDS): number {
  const id = `${kind}/${key}`;
  let h = hashes.get(id);
  if (h === undefined) {
    h = createHash('sha1').update(id).digest().readUInt32BE(0);
    if (hashes.size >= HASHES_KEPT) hashes.clear();
    hashes.set(id, h);
  }
  return h % shards;
}
