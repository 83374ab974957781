/**
 * Failed logins counted per key (a username, a client address) in a fixed
 * window that starts at the key's first failure: once `maxFailures` are in the
 * window, further attempts are refused until it ends. Memory is bounded: at
 * most `maxKeys` keys; expired windows are dropped as new failures arrive
 * (insertion order is expiry order, so the sweep only looks at the front), and
 * when every slot is live the oldest window is dropped.
 */
export interface LoginLimiterOptions {
  maxFailures: number;
  windowMs: number;
  maxKeys: number;
}

interface Window {
  failures: number;
  endsAt: number;
}

export class LoginLimiter {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly opts: LoginLimiterOptions = { maxFailures: 5, windowMs: 60_000, maxKeys: 10_000 }) {}

  /** Seconds until `key` may try again; 0 when it may try now. */
  retryAfterS(key: string, now = Date.now()): number {
    const w = this.live(key, now);
    return w && w.failures >= this.opts.maxFailures ? Math.max(1, Math.ceil((w.endsAt - now) / 1000)) : 0;
  }

  /** Counts one failure for `key`. */
  fail(key: string, now = Date.now()): void {
    const w = this.live(key, now);
    if (w) return void w.failures++;
    this.sweep(now);
    if (this.windows.size >= this.opts.maxKeys) this.windows.delete(this.windows.keys().next().value!);
    this.windows.set(key, { failures: 1, endsAt: now + this.opts.windowMs });
  }

  /** Forgets `key`'s failures (a successful login for that username). */
  clear(key: string): void {
    this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }

  private live(key: string, now: number): Window | undefined {
    const w = this.windows.get(key);
    if (!w) return undefined;
    if (w.endsAt > now) return w;
    this.windows.delete(key);
    return undefined;
  }

  private sweep(now: number): void {
    for (const [key, w] of this.windows) {
      if (w.endsAt > now) return;
      this.windows.delete(key);
    }
  }
}
