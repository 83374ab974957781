import { KvError, assertBucket, assertTtl, fenceKey, msUntilToken, lockKey, type KeyValueStore, type MessageHandler, type SetOptions } from './kv.ts';

interface Entry {
  value: string;
  expiresAt?: number;
}

/** In-process key-value store for a single pod (embedded mode). */
export class MemoryKv implements KeyValueStore {
  readonly kind = 'memory' as const;
  private readonly data = new Map<string, Entry>();
  private readonly channels = new Map<string, Set<MessageHandler>>();
  private closed = false;
  // Expired keys are dropped on access; the sweep bounds memory for keys never read again.
  private readonly sweeper = setInterval(() => this.sweep(), 30_000).unref();

  constructor(private readonly now: () => number = Date.now) {}

  async get(key: string): Promise<string | null> {
    return this.entry(key)?.value ?? null;
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    return keys.map((k) => this.entry(k)?.value ?? null);
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    this.assertOpen();
    if (options.ttlMs !== undefined) assertTtl(options.ttlMs);
    if (options.onlyIfAbsent && this.entry(key)) return false;
    this.data.set(key, options.ttlMs === undefined ? { value } : { value, expiresAt: this.now() + options.ttlMs });
    return true;
  }

  async del(...keys: string[]): Promise<number> {
    this.assertOpen();
    let n = 0;
    for (const k of keys) if (this.entry(k) && this.data.delete(k)) n++;
    return n;
  }

  async incrBy(key: string, delta: number): Promise<number> {
    if (!Number.isInteger(delta)) throw new KvError('bad_input', `increment must be an integer, got ${delta}`);
    const e = this.entry(key);
    const current = e ? Number(e.value) : 0;
    if (!Number.isInteger(current)) throw new KvError('bad_input', `value at ${key} is not an integer`);
    const next = current + delta;
    this.data.set(key, e?.expiresAt === undefined ? { value: String(next) } : { value: String(next), expiresAt: e.expiresAt });
    return next;
  }

  async ttlMs(key: string): Promise<number | null> {
    const e = this.entry(key);
    return e?.expiresAt === undefined ? null : e.expiresAt - this.now();
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    this.assertOpen();
    let n = 0;
    for (const k of [...this.data.keys()]) if (k.startsWith(prefix) && this.entry(k) && this.data.delete(k)) n++;
    return n;
  }

  async takeToken(key: string, capacity: number, perSecond: number): Promise<number> {
    assertBucket(capacity, perSecond);
    const now = this.now();
    const e = this.entry(key);
    const [stored, at] = e ? (JSON.parse(e.value) as [number, number]) : [capacity, now];
    let tokens = Math.min(capacity, stored + (Math.max(0, now - at) * perSecond) / 1000);
    const wait = tokens >= 1 ? 0 : msUntilToken(tokens, perSecond);
    if (wait === 0) tokens -= 1;
    // A full bucket needs no record: it expires once it would have refilled.
    this.data.set(key, { value: JSON.stringify([tokens, now]), expiresAt: now + Math.ceil((capacity * 1000) / perSecond) + 1000 });
    return wait;
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<number | null> {
    assertTtl(ttlMs);
    if (!(await this.set(lockKey(name), owner, { ttlMs, onlyIfAbsent: true }))) return null;
    return this.incrBy(fenceKey(name), 1);
  }

  async extendLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    const e = this.entry(lockKey(name));
    if (e?.value !== owner) return false;
    e.expiresAt = this.now() + ttlMs;
    return true;
  }

  async releaseLock(name: string, owner: string): Promise<boolean> {
    if (this.entry(lockKey(name))?.value !== owner) return false;
    return this.data.delete(lockKey(name));
  }

  async publish(channel: string, message: string): Promise<void> {
    this.assertOpen();
    const handlers = this.channels.get(channel);
    if (!handlers) return;
    // Delivered on a later tick, as over a network: a publisher never runs its subscribers inline.
    for (const h of [...handlers]) setImmediate(() => h(message));
  }

  /** In process nothing is ever lost in between, so a subscription never needs `onResumed`. */
  async subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>> {
    this.assertOpen();
    let set = this.channels.get(channel);
    if (!set) this.channels.set(channel, (set = new Set()));
    set.add(handler);
    return async () => {
      set.delete(handler);
      if (set.size === 0) this.channels.delete(channel);
    };
  }

  async ping(): Promise<void> {
    this.assertOpen();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    this.channels.clear();
  }

  private entry(key: string): Entry | undefined {
    this.assertOpen();
    const e = this.data.get(key);
    if (e?.expiresAt !== undefined && e.expiresAt <= this.now()) {
      this.data.delete(key);
      return undefined;
    }
    return e;
  }

  private sweep(): void {
    const now = this.now();
    for (const [k, e] of this.data) if (e.expiresAt !== undefined && e.expiresAt <= now) this.data.delete(k);
  }

  private assertOpen(): void {
    if (this.closed) throw new KvError('closed', 'memory key-value store is closed');
  }
}
