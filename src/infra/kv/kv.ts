import type { ErrorCode } from '../errors.ts';
/**
 * The key-value layer: cache keys, atomic counters, leased locks and pub/sub.
 * Two drivers pass `test/contract/kv.contract.ts`: `kv.redis.ts` (ioredis, any
 * number of pods) and `kv.memory.ts` (in-process, one pod).
 */

export interface SetOptions {
  /** Time to live in milliseconds. */
  ttlMs?: number;
  /** Only set when the key does not exist (`SET NX`). */
  onlyIfAbsent?: boolean;
}

export type MessageHandler = (message: string) => void;

export interface KeyValueStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  /** Returns false when `onlyIfAbsent` was set and the key existed. */
  set(key: string, value: string, options?: SetOptions): Promise<boolean>;
  del(...keys: string[]): Promise<number>;
  /** Atomically adds `delta` (may be negative) and returns the new value. */
  incrBy(key: string, delta: number): Promise<number>;
  /** Remaining time to live in ms; null when the key has none or does not exist. */
  ttlMs(key: string): Promise<number | null>;
  /** Deletes every key starting with `prefix`; returns how many. */
  deleteByPrefix(prefix: string): Promise<number>;

  /**
   * Token bucket `key` (atomic, shared by every pod using the store): holds at
   * most `capacity` tokens and refills `perSecond` a second. Takes one token
   * and returns 0, or takes nothing and returns the ms until one is due.
   */
  takeToken(key: string, capacity: number, perSecond: number): Promise<number>;

  /**
   * Takes the lock `name` for `owner` for `ttlMs` (`SET NX PX`). Returns a fencing
   * token, larger than every token issued for this name before, or null when held.
   */
  acquireLock(name: string, owner: string, ttlMs: number): Promise<number | null>;
  /** Extends the lease if `owner` still holds it. */
  extendLock(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Releases the lock only if `owner` holds it. */
  releaseLock(name: string, owner: string): Promise<boolean>;

  publish(channel: string, message: string): Promise<void>;
  /**
   * Subscribes; resolves once the subscription is active, to a function that removes it.
   * At most once: `onResumed` is called when it is active again after its connection was
   * lost (what was published meanwhile is gone).
   */
  subscribe(channel: string, handler: MessageHandler, onResumed?: () => void): Promise<() => Promise<void>>;

  /** Resolves when the store answers within `timeoutMs`; rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  close(): Promise<void>;
}

/** The one error type both drivers throw. Internal; a client it reaches gets STORE_UNAVAILABLE, SHUTTING_DOWN (closed) or INTERNAL (its publicCode). */
export class KvError extends Error {
  override readonly name = 'KvError';
  /** As StoreError: down → STORE_UNAVAILABLE, closed → SHUTTING_DOWN, `bad_input` is our bug (INTERNAL). */
  get publicCode(): ErrorCode {
    return this.kind === 'unavailable' ? 'STORE_UNAVAILABLE' : this.kind === 'closed' ? 'SHUTTING_DOWN' : 'INTERNAL';
  }
  constructor(
    readonly kind: 'unavailable' | 'closed' | 'bad_input',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Lock keys follow spec §6: `lock:scheduler:{name}`; the fence counter sits beside it. */
export const lockKey = (name: string): string => `lock:scheduler:${name}`;
export const fenceKey = (name: string): string => `lock:fence:${name}`;

export function assertBucket(capacity: number, perSecond: number): void {
  if (!Number.isInteger(capacity) || capacity < 1) throw new KvError('bad_input', `bucket capacity must be a positive integer, got ${capacity}`);
  if (!Number.isFinite(perSecond) || perSecond <= 0) throw new KvError('bad_input', `bucket refill rate must be positive, got ${perSecond}`);
}

/** Ms until a bucket holding `tokens` (< 1) has one, refilling `perSecond`. */
export const msUntilToken = (tokens: number, perSecond: number): number => Math.max(1, Math.ceil(((1 - tokens) * 1000) / perSecond));

export function assertTtl(ttlMs: number): void {
  if (!Number.isInteger(ttlMs) || ttlMs <= 0) throw new KvError('bad_input', `ttl must be a positive integer of ms, got ${ttlMs}`);
}
