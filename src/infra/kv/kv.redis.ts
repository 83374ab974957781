import { Redis } from 'ioredis';
import { KvError, assertBucket, assertTtl, fenceKey, lockKey, type KeyValueStore, type MessageHandler, type SetOptions } from './kv.ts';

export interface RedisKvOptions {
  url: string;
  /** Prepended to every key and channel (tests use it to share one server). */
  prefix?: string;
  /** Bound on any one command, so a lost connection is an error, never a hang. */
  commandTimeoutMs?: number;
  onError?: (err: Error) => void;
}

// Acquire: SET NX PX, then issue the next fencing token — atomically, so tokens follow grant order.
const ACQUIRE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end return false`;
const EXTEND = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

// Token bucket on Redis's own clock (one clock for every pod): refill, then take one token or report the wait.
const TAKE_TOKEN = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or capacity
local at = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate / 1000)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.max(1, math.ceil((1 - tokens) * 1000 / rate)) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity * 1000 / rate) + 1000)
return wait`;

/** The key-value layer on Redis through ioredis: a command connection and a lazily made subscriber. */
export class RedisKv implements KeyValueStore {
  readonly kind = 'redis' as const;
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<MessageHandler>>();
  /** Called when the subscriber connection is back after a loss (see `subscribe`). */
  private readonly resumed = new Set<() => void>();
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly opts: RedisKvOptions,
    readonly prefix: string,
  ) {}

  /**
   * A new connection with the same settings, for Redis features this interface
   * does not cover (the cluster layer's leases and streams). Its owner closes it.
   * Keys on it are not prefixed: use `prefix`.
   */
  async connection(opts: { commandTimeoutMs?: number } = {}): Promise<Redis> {
    const client = createClient({ ...this.opts, ...opts });
    await client.connect();
    return client;
  }

  /** Connects and pings; rejects with KvError('unavailable') when Redis does not answer. */
  static async connect(opts: RedisKvOptions): Promise<RedisKv> {
    const redis = createClient(opts);
    const kv = new RedisKv(redis, opts, opts.prefix ?? '');
    try {
      await redis.connect();
      await kv.ping(opts.commandTimeoutMs ?? 2000);
    } catch (err) {
      redis.disconnect();
      throw new KvError('unavailable', `redis unavailable: ${(err as Error).message}`, { cause: err });
    }
    return kv;
  }

  async get(key: string): Promise<string | null> {
    return this.run(() => this.redis.get(this.k(key)));
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    if (keys.length === 0) return [];
    return this.run(() => this.redis.mget(keys.map((k) => this.k(k))));
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const k = this.k(key);
    if (options.ttlMs !== undefined) assertTtl(options.ttlMs);
    const r = await this.run(() => {
      if (options.ttlMs !== undefined && options.onlyIfAbsent) return this.redis.set(k, value, 'PX', options.ttlMs, 'NX');
      if (options.ttlMs !== undefined) return this.redis.set(k, value, 'PX', options.ttlMs);
      if (options.onlyIfAbsent) return this.redis.set(k, value, 'NX');
      return this.redis.set(k, value);
    });
    return r === 'OK';
  }

  async del(...keys: string[]): Promise<number> {
    if (keys.length === 0) return 0;
    return this.run(() => this.redis.del(...keys.map((k) => this.k(k))));
  }

  async incrBy(key: string, delta: number): Promise<number> {
    if (!Number.isInteger(delta)) throw new KvError('bad_input', `increment must be an integer, got ${delta}`);
    return this.run(() => this.redis.incrby(this.k(key), delta));
  }

  async ttlMs(key: string): Promise<number | null> {
    const t = await this.run(() => this.redis.pttl(this.k(key)));
    return t < 0 ? null : t;
  }

  async deleteByPrefix(prefix: string): Promise<number> {
    const pattern = this.k(prefix).replace(/[*?[\]\\]/g, '\\$&') + '*';
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await this.run(() => this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500));
      cursor = next;
      if (keys.length) deleted += await this.run(() => this.redis.unlink(...keys));
    } while (cursor !== '0');
    return deleted;
  }

  async takeToken(key: string, capacity: number, perSecond: number): Promise<number> {
    assertBucket(capacity, perSecond);
    return Number(await this.run(() => this.redis.eval(TAKE_TOKEN, 1, this.k(key), capacity, perSecond)));
  }

  async acquireLock(name: string, owner: string, ttlMs: number): Promise<number | null> {
    assertTtl(ttlMs);
    const r = await this.run(() => this.redis.eval(ACQUIRE, 2, this.k(lockKey(name)), this.k(fenceKey(name)), owner, ttlMs));
    return typeof r === 'number' ? r : null;
  }

  async extendLock(name: string, owner: string, ttlMs: number): Promise<boolean> {
    assertTtl(ttlMs);
    return (await this.run(() => this.redis.eval(EXTEND, 1, this.k(lockKey(name)), owner, ttlMs))) === 1;
  }

  async releaseLock(name: string, owner: string): Promise<boolean> {
    return (await this.run(() => this.redis.eval(RELEASE, 1, this.k(lockKey(name)), owner))) === 1;
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.run(() => this.redis.publish(this.k(channel), message));
  }

  async subscribe(channel: string, handler: MessageHandler, onResumed?: () => void): Promise<() => Promise<void>> {
    const sub = await this.subscriberConnection();
    if (onResumed) this.resumed.add(onResumed);
    const full = this.k(channel);
    let set = this.handlers.get(full);
    if (!set) {
      this.handlers.set(full, (set = new Set()));
      await this.run(() => sub.subscribe(full));
    }
    set.add(handler);
    return async () => {
      if (onResumed) this.resumed.delete(onResumed);
      set.delete(handler);
      if (set.size > 0 || this.handlers.get(full) !== set) return;
      this.handlers.delete(full);
      if (!this.closed) await this.run(() => sub.unsubscribe(full));
    };
  }

  async ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KvError('unavailable', `redis did not answer ping within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.run(() => this.redis.ping()), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.handlers.clear();
    await Promise.all([quit(this.redis), this.subscriber ? quit(this.subscriber) : undefined]);
  }

  private async subscriberConnection(): Promise<Redis> {
    if (this.subscriber) return this.subscriber;
    const sub = createClient(this.opts);
    this.subscriber = sub;
    sub.on('message', (channel: string, message: string) => {
      for (const h of this.handlers.get(channel) ?? []) {
        try {
          h(message);
        } catch (err) {
          this.opts.onError?.(err as Error);
        }
      }
    });
    await this.run(() => sub.connect());
    // Every later `ready` is a reconnection; ioredis re-subscribes right after emitting it.
    sub.on('ready', () => {
      setImmediate(() => {
        for (const resumed of this.resumed) {
          try {
            resumed();
          } catch (err) {
            this.opts.onError?.(err as Error);
          }
        }
      });
    });
    return sub;
  }

  private k(key: string): string {
    if (typeof key !== 'string' || key === '') throw new KvError('bad_input', 'key must be a non-empty string');
    return this.prefix + key;
  }

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new KvError('closed', 'redis key-value store is closed');
    try {
      return await fn();
    } catch (err) {
      if (err instanceof KvError) throw err;
      const msg = (err as Error).message ?? String(err);
      const kind = /WRONGTYPE|not an integer|out of range|syntax error/i.test(msg) ? 'bad_input' : 'unavailable';
      throw new KvError(kind, `redis: ${msg}`, { cause: err });
    }
  }
}

function createClient(opts: RedisKvOptions): Redis {
  const client = new Redis(opts.url, {
    lazyConnect: true,
    connectTimeout: 2000,
    // 0 = no bound, for a connection that blocks on purpose (XREADGROUP BLOCK).
    ...(opts.commandTimeoutMs === 0 ? {} : { commandTimeout: opts.commandTimeoutMs ?? 2000 }),
    // Commands issued in the same tick leave in one write (the hot path issues several per event);
    // never on the blocking connection, where a command would wait behind XREADGROUP BLOCK.
    enableAutoPipelining: opts.commandTimeoutMs !== 0,
    maxRetriesPerRequest: 1,
    // Keep reconnecting in the background (capped backoff); commands fail fast meanwhile.
    retryStrategy: (times) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  });
  client.on('error', (err: Error) => opts.onError?.(err));
  return client;
}

async function quit(client: Redis): Promise<void> {
  try {
    await Promise.race([client.quit(), new Promise((r) => setTimeout(r, 1000).unref())]);
  } finally {
    client.disconnect();
  }
}
