/**
 * A request budget per client address, for routes the README promises a 429
 * on (admin routes, the template route): a token bucket of `perMinute`
 * requests (the burst) refilled evenly over the minute. A route takes it with
 * the router's `rateLimit` option; over the budget it answers 429
 * RATE_LIMITED with `Retry-After` before its handler runs.
 *
 * Memory is bounded: a bucket that has refilled completely holds nothing worth
 * keeping and is forgotten (swept from the least recently used end as new
 * addresses arrive), and at most `maxAddresses` are tracked — past that the
 * least recently used one is dropped (it starts afresh, a full bucket).
 * Per pod: each pod counts the requests it answers.
 */
export interface HttpRateLimitOptions {
  /** Requests per minute per address, and the burst. */
  perMinute: number;
  /** Addresses tracked at once. */
  maxAddresses: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class HttpRateLimit {
  private readonly buckets = new Map<string, Bucket>();
  private readonly perMs: number;
  private readonly now: () => number;

  constructor(
    /** Names the budget in the 429's message (e.g. "admin requests"). */
    readonly label: string,
    private readonly opts: HttpRateLimitOptions,
  ) {
    this.perMs = opts.perMinute / 60_000;
    this.now = opts.now ?? Date.now;
  }

  /** Takes one request for `address`: 0 when allowed, else the seconds to wait (for Retry-After). */
  take(address: string): number {
    const now = this.now();
    const b = this.buckets.get(address);
    const tokens = b ? Math.min(this.opts.perMinute, b.tokens + (now - b.at) * this.perMs) : this.opts.perMinute;
    if (b) this.buckets.delete(address); // re-inserted below: the map's order is least recently used first
    else this.sweep(now);
    if (tokens < 1) {
      this.buckets.set(address, { tokens, at: now });
      return Math.max(1, Math.ceil((1 - tokens) / this.perMs / 1000));
    }
    if (this.buckets.size >= this.opts.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    this.buckets.set(address, { tokens: tokens - 1, at: now });
    return 0;
  }

  /** Addresses tracked now. */
  get size(): number {
    return this.buckets.size;
  }

  /** Forgets buckets full again, oldest first, stopping at the first that is not. */
  private sweep(now: number): void {
    for (const [address, b] of this.buckets) {
      if (b.tokens + (now - b.at) * this.perMs < this.opts.perMinute) return;
      this.buckets.delete(address);
    }
  }
}
