import { KvError, type KeyValueStore } from '../kv/kv.ts';
import type { Logger } from '../logger.ts';
import { MemoryKv } from '../kv/kv.memory.ts';
import type { ErrorCode } from '../errors.ts';

export interface RateLimiterOptions {
  kv: KeyValueStore;
  log: Logger;
  /** Messages a second per business number (WhatsApp allows 80). */
  perSecond?: number;
  /** Burst size; defaults to one second's worth. */
  capacity?: number;
  /** The longest `acquire` waits before giving up. */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

/** Thrown when no token came within `maxWaitMs`: nothing was sent, so the send may be retried. Internal; escaping, UPSTREAM_UNAVAILABLE. */
export class RateLimitTimeout extends Error {
  override readonly name = 'RateLimitTimeout';
  /** No send slot within the wait, nothing sent; PinbotClient retries it as an attempt. */
  readonly publicCode: ErrorCode = 'UPSTREAM_UNAVAILABLE';
  readonly code = 'RATE_LIMIT_WAIT';
}

const sleeper = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * At most `perSecond` messages a second per business number: a token bucket
 * in the key-value store, so with Redis every pod draws from the same bucket.
 * A caller over the limit waits (bounded) rather than fails. If Redis does not
 * answer, each pod falls back to a bucket of its own rather than stop sending.
 */
export class RateLimiter {
  private readonly perSecond: number;
  private readonly capacity: number;
  private readonly maxWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly local = new MemoryKv();
  private lastFallbackLog = 0;

  constructor(private readonly opts: RateLimiterOptions) {
    this.perSecond = opts.perSecond ?? 80;
    this.capacity = opts.capacity ?? Math.max(1, Math.floor(this.perSecond));
    this.maxWaitMs = opts.maxWaitMs ?? 10_000;
    this.sleep = opts.sleep ?? sleeper;
  }

  /** Resolves once a message may go from `businessNumber`; returns how long it waited. */
  async acquire(businessNumber: string): Promise<number> {
    const key = `pinbot:rate:${businessNumber}`;
    let waited = 0;
    for (;;) {
      const wait = await this.take(key);
      if (wait === 0) return waited;
      if (waited + wait > this.maxWaitMs) throw new RateLimitTimeout(`no send slot for ${businessNumber} within ${this.maxWaitMs} ms`);
      await this.sleep(wait);
      waited += wait;
    }
  }

  async close(): Promise<void> {
    await this.local.close();
  }

  private async take(key: string): Promise<number> {
    try {
      return await this.opts.kv.takeToken(key, this.capacity, this.perSecond);
    } catch (err) {
      if (!(err instanceof KvError) || err.kind === 'bad_input') throw err;
      if (Date.now() - this.lastFallbackLog > 10_000) {
        this.lastFallbackLog = Date.now();
        this.opts.log.warn({ err: err.message }, 'rate limiter: shared bucket unavailable, limiting per pod');
      }
      return this.local.takeToken(key, this.capacity, this.perSecond);
    }
  }
}
