import type { Redis } from 'ioredis';
import { AppError, ERRORS, toAppError, type ErrorCode } from '../../infra/errors.ts';
import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { Delivery } from '../runtime/actor-host.ts';
import { StreamAcks } from './stream-acks.ts';

/** One entry of a shard stream: an event for an actor, and whom to answer once it is applied. */
export interface ShardEntry {
  /** The stream entry id: its place in the shard's order. */
  id: string;
  kind: string;
  key: string;
  /** Undefined when the stored event is not JSON: its application fails like any other. */
  event: ActorEvent | undefined;
  /** The pod that appended it, and its correlation id there. */
  replyTo?: string;
  corr?: string;
}

/** The owner's answer to the pod that appended an entry (`c`: its correlation id). */
export interface Reply {
  c: string;
  d?: Delivery;
  error?: string;
  /** The registered code the failure maps to, so the caller's pod answers its client as the owner's would have. */
  code?: ErrorCode;
}

/** A failure as a reply: its registered code, with the public message (only an unexpected fault keeps its own, for the caller's log). */
export function failureReply(err: unknown): Pick<Reply, 'error' | 'code'> {
  const e = toAppError(err);
  return e.code === 'INTERNAL' ? { error: (err as Error)?.message ?? String(err), code: e.code } : { error: e.message, code: e.code };
}

/** The error a failure reply stands for on the caller's pod: the same registered code (an unexpected fault stays unexpected). */
export function replyError(r: Pick<Reply, 'error' | 'code'>): Error {
  const message = r.error ?? 'owner failed';
  return r.code && r.code !== 'INTERNAL' && Object.hasOwn(ERRORS, r.code) ? new AppError(r.code, message) : new Error(message);
}

export interface ShardStreamsOptions {
  /** Commands (XADD, XACK, …) and a second connection that may block on XREADGROUP. */
  redis: Redis;
  blocking: Redis;
  /** Pub/Sub for replies (`reply:{pod}`). */
  kv: KeyValueStore;
  prefix: string;
  /** This pod: the consumer name in the group, and the reply channel it listens on. */
  pod: string;
  /** Entries kept per shard stream (approximate trim), a bound on Redis memory. */
  maxStreamLength?: number;
}

/** Every owner reads through this one group; pods are its consumers. */
const GROUP = 'owners';

/**
 * For each stream (KEYS) and the first id this pod just read there
 * (ARGV[2 + i]), whether a consumer other than ARGV[2] holds a pending entry
 * older than it (XPENDING's summary). Returns the 1-based indexes that do.
 */
const HELD_ELSEWHERE = `
local function older(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local out = {}
for i = 1, #KEYS do
  local s = redis.call('XPENDING', KEYS[i], ARGV[1])
  if s[1] > 0 and s[2] and older(s[2], ARGV[2 + i]) then
    for _, c in ipairs(s[4] or {}) do
      if c[1] ~= ARGV[2] then
        out[#out + 1] = i
        break
      end
    end
  end
end
return out`;

type StreamsRedis = Redis & { streamsHeldElsewhere(numKeys: number, ...args: string[]): Promise<unknown> };

type RawEntry = [string, string[]];

/**
 * The Redis side of the shard streams, and nothing else: the stream keys and
 * entry fields, the consumer group, reads, claims, acknowledgements and the
 * reply channel. Which entries to apply, when, and in what order is
 * `dispatch.streams.ts`'s business.
 */
export class ShardStreams {
  private readonly acks: StreamAcks;
  private readonly redis: StreamsRedis;

  constructor(private readonly opts: ShardStreamsOptions) {
    this.acks = new StreamAcks(opts.redis, GROUP);
    if (!('streamsHeldElsewhere' in opts.redis)) opts.redis.defineCommand('streamsHeldElsewhere', { lua: HELD_ELSEWHERE });
    this.redis = opts.redis as StreamsRedis;
  }

  /** Appends an event to its shard's stream (XADD, trimmed to about `maxStreamLength`), answered to this pod under `corr`. */
  async append(shard: number, kind: string, key: string, event: ActorEvent, corr: string): Promise<void> {
    const fields = ['k', kind, 'key', key, 'e', JSON.stringify(event), 'r', this.opts.pod, 'c', corr];
    await this.opts.redis.xadd(this.stream(shard), 'MAXLEN', '~', this.opts.maxStreamLength ?? 100_000, '*', ...fields);
  }

  /** Makes the shard's stream and consumer group if missing; the group starts at the stream's beginning. */
  async ensureGroup(shard: number): Promise<void> {
    await this.opts.redis.xgroup('CREATE', this.stream(shard), GROUP, '0', 'MKSTREAM').catch((err: Error) => {
      if (!/BUSYGROUP/.test(err.message)) throw err;
    });
  }

  /**
   * Takes over, for this pod, the shard's pending entries idle at least
   * `minIdleMs` (XAUTOCLAIM), in stream order, from `cursor` ('0-0': the
   * beginning). The returned cursor is '0-0' once the whole list was scanned.
   */
  async claim(shard: number, minIdleMs: number, cursor: string, count: number): Promise<{ cursor: string; entries: ShardEntry[] }> {
    const [next, raw] = (await this.opts.redis.xautoclaim(this.stream(shard), GROUP, this.opts.pod, minIdleMs, cursor, 'COUNT', count)) as [string, RawEntry[]];
    return { cursor: next, entries: raw.map(decode) };
  }

  /**
   * Takes over, for this pod, the entries of each shard that another consumer
   * read before `before` (the first id this pod just read there) and has not
   * acknowledged: a previous owner's read that reached Redis after this pod's
   * takeover claim (a pod paused between its lease check and its read, a read
   * queued while its connection was down). Redis hands entries out in stream
   * order, so every entry older than one this pod was given is in the pending
   * list by now. One script call checks every shard (XPENDING's summary inside
   * Redis); XPENDING's list and XCLAIM only when another consumer holds
   * something older.
   */
  async claimOlderElsewhere(batches: readonly { shard: number; before: string }[]): Promise<Map<number, ShardEntry[]>> {
    const out = new Map<number, ShardEntry[]>();
    if (batches.length === 0) return out;
    // One command for every shard read: the indexes of those where another consumer holds something older.
    const flagged = (await this.redis.streamsHeldElsewhere(batches.length, ...batches.map((b) => this.stream(b.shard)), GROUP, this.opts.pod, ...batches.map((b) => b.before))) as number[];
    for (const i of flagged) {
      const b = batches[i - 1];
      if (!b) continue;
      const stream = this.stream(b.shard);
      const listed = (await this.opts.redis.xpending(stream, GROUP, '-', `(${b.before}`, 1000)) as [string, string, number, number][];
      const ids = listed.filter(([, consumer]) => consumer !== this.opts.pod).map(([id]) => id);
      if (ids.length === 0) continue;
      const raw = (await this.opts.redis.xclaim(stream, GROUP, this.opts.pod, 0, ...ids)) as (RawEntry | null)[];
      const entries = raw.filter((e): e is RawEntry => Array.isArray(e) && Array.isArray(e[1])).map(decode);
      entries.sort((x, y) => compareIds(x.id, y.id));
      if (entries.length) out.set(b.shard, entries);
    }
    return out;
  }

  /** Reads entries no consumer has seen yet from these shards (XREADGROUP on the blocking connection). */
  async read(shards: readonly number[], count: number, blockMs: number): Promise<{ shard: number; entries: ShardEntry[] }[]> {
    const streams = shards.map((s) => this.stream(s));
    const res = (await this.opts.blocking.xreadgroup('GROUP', GROUP, this.opts.pod, 'COUNT', count, 'BLOCK', blockMs, 'STREAMS', ...streams, ...streams.map(() => '>'))) as
      | [string, RawEntry[]][]
      | null;
    return (res ?? []).map(([stream, raw]) => ({ shard: Number(stream.slice(stream.lastIndexOf(':') + 1)), entries: raw.map(decode) }));
  }

  /** Ends a blocked read at once (it rejects); the blocking connection is not used again. */
  interruptReads(): void {
    this.opts.blocking.disconnect();
  }

  /** Acknowledges and deletes an applied entry (batched with others of the same turn, see `stream-acks.ts`). */
  ack(shard: number, id: string): Promise<void> {
    return this.acks.ack(this.stream(shard), id);
  }

  /** Entries of the shard read by some consumer and not acknowledged yet (XPENDING). */
  async pending(shard: number): Promise<number> {
    const [count] = (await this.opts.redis.xpending(this.stream(shard), GROUP)) as [number];
    return Number(count ?? 0);
  }

  /** Listens for answers to entries this pod appended; resolves to a function that stops listening. */
  subscribeReplies(onReply: (r: Reply) => void): Promise<() => Promise<void>> {
    return this.opts.kv.subscribe(`reply:${this.opts.pod}`, (message) => {
      const reply = parseReply(message);
      if (reply) onReply(reply);
    });
  }

  /** Answers the pod that appended an entry. */
  publishReply(pod: string, reply: Reply): Promise<void> {
    return this.opts.kv.publish(`reply:${pod}`, JSON.stringify(reply));
  }

  private stream(shard: number): string {
    return `${this.opts.prefix}stream:shard:${shard}`;
  }
}

/** Orders two stream ids (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

function decode([id, flat]: RawEntry): ShardEntry {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  let event: ActorEvent | undefined;
  try {
    event = JSON.parse(f.e ?? '{}') as ActorEvent;
  } catch {
    event = undefined;
  }
  return { id, kind: f.k ?? '', key: f.key ?? '', event, ...(f.r ? { replyTo: f.r } : {}), ...(f.c ? { corr: f.c } : {}) };
}

/** A reply, or undefined for a message that is not one (anyone can publish on the channel). */
function parseReply(message: string): Reply | undefined {
  try {
    const r = JSON.parse(message) as Partial<Reply> | null;
    return r && typeof r.c === 'string' ? (r as Reply) : undefined;
  } catch {
    return undefined;
  }
}
