import type { Redis } from 'ioredis';
import type { Logger } from '../../infra/logger.ts';
import type { KeyValueStore } from '../../infra/kv/kv.ts';
import { SHARDS, type ShardOwnership } from './ownership.ts';

export interface RedisDirectoryOptions {
  redis: Redis;
  prefix: string;
  pod: string;
  log: Logger;
  shards?: number;
  /** A lease lapses this long after its last renewal (a dead pod's shards move after it). */
  leaseMs?: number;
  /** Heartbeat, renewal and rebalancing period. */
  heartbeatMs?: number;
  /**
   * Pub/Sub between the pods (optional): a pod that frees a shard, joins or leaves says so, and the
   * others run their round at once instead of at their next heartbeat — a moving shard is unowned
   * for a round trip, not up to a period.
   */
  notices?: Pick<KeyValueStore, 'publish' | 'subscribe'>;
}

// Grant (SET NX PX, then the next epoch; only if ARGV[3] is '1') or renew one's own lease; returns the epoch, or false.
// A granted epoch is also at least Redis's clock in ms: if Redis lost its keys (a restart without
// persistence, a failover), epochs still grow past every token already stored with the actors,
// instead of restarting at 1 and being fenced out of every write.
const ACQUIRE = `
if ARGV[3] == '1' and redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  local epoch = redis.call('INCR', KEYS[2])
  local now = redis.call('TIME')
  local floor = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  if epoch < floor then redis.call('SET', KEYS[2], floor) epoch = floor end
  return epoch
end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return tonumber(redis.call('GET', KEYS[2])) end
return false`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** The channel of ownership notices; a message is the pod that sent it. */
const NOTICES = 'shards:changed';

type Listener = (c: { shard: number; owned: boolean; epoch: number }) => void;

/**
 * Shard ownership in Redis: `shard:{n}:owner` holds the owning pod with a
 * lease (PX), `shard:{n}:epoch` the fencing token, `pods` the heartbeats.
 * Each round a pod renews what it owns, gives up shards above its fair share
 * (at most an eighth of the shards per round, drained first while their leases
 * are still renewed) and takes free ones up to it.
 */
export class RedisOwnership implements ShardOwnership {
  readonly shards: number;
  private readonly leaseMs: number;
  private readonly heartbeatMs: number;
  /** shard → { epoch, valid until (monotonic ms) } */
  private readonly mine = new Map<number, { epoch: number; until: number }>();
  private readonly listeners: Listener[] = [];
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  /** Shards being drained before they are given up: still renewed (never granted afresh) until released. */
  private readonly leaving = new Map<number, Promise<void>>();
  /** Set by stop(): no more shedding or taking; renewals go on until every shard is released. */
  private stopped = false;
  private ended = false;
  private drain: ((shard: number) => Promise<void>) | undefined;
  /** A notice came while a round ran: another one follows it at once. */
  private again = false;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly opts: RedisDirectoryOptions) {
    this.shards = opts.shards ?? SHARDS;
    this.leaseMs = opts.leaseMs ?? 6000;
    this.heartbeatMs = opts.heartbeatMs ?? 1000;
  }

  async start(drain?: (shard: number) => Promise<void>): Promise<void> {
    if (drain) this.drain = drain;
    // The notices only hurry the rounds up: without them (Redis refusing the subscription) the heartbeat still does the work.
    this.unsubscribe = await this.opts.notices
      ?.subscribe(NOTICES, (from) => {
        if (from !== this.opts.pod) this.prompt();
      })
      .catch((err: unknown) => {
        this.opts.log.warn({ err }, 'subscribing to shard ownership notices failed; rounds keep their heartbeat');
        return undefined;
      });
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.heartbeatMs);
    this.notify(); // joined: the others shed their excess now
  }

  fence(shard: number): number | null {
    const m = this.mine.get(shard);
    return m && performance.now() < m.until ? m.epoch : null;
  }

  owned(): ReadonlyMap<number, number> {
    const out = new Map<number, number>();
    for (const [s, m] of this.mine) if (performance.now() < m.until) out.set(s, m.epoch);
    return out;
  }

  async livePods(): Promise<string[]> {
    return this.opts.redis.zrangebyscore(this.key('pods'), Date.now() - this.leaseMs, '+inf');
  }

  onChange(listener: Listener): void {
    this.listeners.push(listener);
  }

  async stop(drain?: (shard: number) => Promise<void>): Promise<void> {
    this.stopped = true;
    await this.round;
    await this.opts.redis.zrem(this.key('pods'), this.opts.pod).catch(() => undefined);
    this.notify(); // leaving: the others' fair share grows, and each shard is theirs to take as soon as it is freed
    // Leases keep being renewed while the shards drain, so a long drain does not let them lapse under it.
    for (const shard of this.mine.keys()) if (!this.leaving.has(shard)) this.leave(shard, drain ?? this.drain);
    await Promise.all(this.leaving.values());
    this.ended = true;
    clearInterval(this.timer);
    await this.round;
    await this.unsubscribe?.().catch(() => undefined);
  }

  /** A round now, or right after the one running (rounds never overlap). */
  private prompt(): void {
    if (this.ended) return;
    if (this.round) this.again = true;
    else void this.tick();
  }

  private notify(): void {
    void this.opts.notices?.publish(NOTICES, this.opts.pod).catch(() => undefined);
  }

  /** One round: heartbeat, renew, shed, take. Rounds never overlap. */
  private tick(): Promise<void> {
    if (this.round || this.ended) return this.round ?? Promise.resolve();
    this.round = this.runRound()
      .catch((err: unknown) => this.opts.log.warn({ err }, 'shard ownership round failed'))
      .finally(() => {
        this.round = undefined;
        if (this.again) {
          this.again = false;
          void this.tick();
        }
      });
    return this.round;
  }

  private async runRound(): Promise<void> {
    const { redis, pod } = this.opts;
    const started = performance.now();
    const now = Date.now();
    // A stopping pod is no longer counted (see stop()), so the others take its shards as it frees them.
    if (!this.stopped) await redis.pipeline().zadd(this.key('pods'), now, pod).zremrangebyscore(this.key('pods'), '-inf', now - this.leaseMs).exec();
    const pods = await this.livePods();

    // Renew what we hold, in one round trip; a lease we could not renew is gone (another pod may own it now).
    const held = [...this.mine.keys()];
    const renewed = await this.grantAll(held);
    for (const [i, shard] of held.entries()) {
      const epoch = renewed[i];
      if (!this.mine.has(shard)) continue; // released while the renewals were on their way
      if (epoch == null) this.lose(shard);
      else if (epoch !== this.mine.get(shard)?.epoch) {
        // Granted afresh, not renewed: the lease had lapsed (or Redis lost it), and another pod may have
        // owned the shard meanwhile. Lost and gained again, so listeners take it over from scratch.
        this.lose(shard);
        this.gain(shard, epoch, started);
      } else this.mine.set(shard, { epoch, until: started + this.leaseMs - this.heartbeatMs });
    }

    const fair = Math.ceil(this.shards / Math.max(1, pods.length));
    const kept = [...this.mine.keys()].filter((s) => !this.leaving.has(s));
    const excess = kept.length - fair;
    if (excess > 0 && !this.stopped) {
      // Bounded per round (an eighth of the shards), so a joining pod's share moves over in a few seconds, not at once.
      // Not awaited: the next rounds go on renewing every lease, these included, while they drain.
      for (const shard of kept.slice(-Math.min(excess, Math.ceil(this.shards / 8)))) this.leave(shard, this.drain);
    }

    if (kept.length >= fair || this.stopped) return;
    const owners = await redis.mget(Array.from({ length: this.shards }, (_, s) => this.key(`shard:${s}:owner`)));
    const offset = hash(pod) % this.shards; // pods start looking at different places
    const free: number[] = [];
    for (let i = 0; i < this.shards && kept.length + free.length < fair; i++) {
      const shard = (offset + i) % this.shards;
      if (owners[shard] === null && !this.mine.has(shard)) free.push(shard);
    }
    // Asked for in one round trip (a pod taking over a leaving pod's 32 shards waited on 32 of them in a row);
    // a shard another pod was granted meanwhile is simply not ours.
    const granted = await this.grantAll(free);
    for (const [i, shard] of free.entries()) {
      const epoch = granted[i];
      if (epoch != null && !this.mine.has(shard)) this.gain(shard, epoch, started);
    }
  }

  private gain(shard: number, epoch: number, roundStarted: number): void {
    this.mine.set(shard, { epoch, until: roundStarted + this.leaseMs - this.heartbeatMs });
    for (const l of this.listeners) l({ shard, owned: true, epoch });
  }

  /** Renews the leases, or asks for free shards (a lapsed or free one is granted if free, unless the shard is being given up). */
  private async grantAll(shards: number[]): Promise<(number | null)[]> {
    if (shards.length === 0) return [];
    const p = this.opts.redis.pipeline();
    for (const s of shards) p.eval(ACQUIRE, 2, this.key(`shard:${s}:owner`), this.key(`shard:${s}:epoch`), this.opts.pod, this.leaseMs, this.leaving.has(s) ? '0' : '1');
    const results = (await p.exec()) ?? [];
    return results.map(([err, r]) => (!err && typeof r === 'number' ? r : null));
  }

  /** Starts giving `shard` up (drain, then release); once per shard at a time. */
  private leave(shard: number, drain?: (shard: number) => Promise<void>): Promise<void> {
    const left = this.release(shard, drain).finally(() => this.leaving.delete(shard));
    this.leaving.set(shard, left);
    return left;
  }

  private async release(shard: number, drain?: (shard: number) => Promise<void>): Promise<void> {
    await drain?.(shard).catch((err: unknown) => this.opts.log.warn({ err, shard }, 'draining a shard failed'));
    this.lose(shard);
    const released = await this.opts.redis.eval(RELEASE, 1, this.key(`shard:${shard}:owner`), this.opts.pod).catch(() => 0);
    if (released === 1) this.notify();
  }

  private lose(shard: number): void {
    const m = this.mine.get(shard);
    if (!m) return;
    this.mine.delete(shard);
    for (const l of this.listeners) l({ shard, owned: false, epoch: m.epoch });
  }

  private key(k: string): string {
    return `${this.opts.prefix}${k}`;
  }
}

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) >>> 0;
  return h;
}
