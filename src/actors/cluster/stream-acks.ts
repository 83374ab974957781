import type { Redis } from 'ioredis';

/**
 * XACK then XDEL of each stream's ids (KEYS: the streams; ARGV: the group,
 * each stream's id count, then every id in stream order). One command for a
 * whole turn's acknowledgements, however many shards they touch.
 */
const ACK_DELETE = `
local group = ARGV[1]
local at = 2 + #KEYS
for i = 1, #KEYS do
  local n = tonumber(ARGV[1 + i])
  local from = at
  while from < at + n do
    local to = math.min(from + 499, at + n - 1)
    redis.call('XACK', KEYS[i], group, unpack(ARGV, from, to))
    redis.call('XDEL', KEYS[i], unpack(ARGV, from, to))
    from = to + 1
  end
  at = at + n
end
return #KEYS`;

/** Ids per script call at most (a bound on one command's size). */
const MAX_IDS = 2000;

type AckDeleteRedis = Redis & { streamAckDelete(numKeys: number, ...args: (string | number)[]): Promise<number> };

/**
 * Acknowledges and deletes applied stream entries together: entries applied
 * in one event-loop turn leave as one script call (XACK and XDEL per stream
 * inside Redis) on the command connection, where auto-pipelining sends it in
 * the same socket write as the turn's other commands (appends, pushes),
 * instead of two commands per shard. An entry is still acknowledged only
 * after it was applied; a crash before the flush leaves it pending, and the
 * next owner re-applies it (a no-op: the actor remembers applied ids).
 */
export class StreamAcks {
  private pending = new Map<string, string[]>();
  private flushed: Promise<void> | undefined;
  private readonly redis: AckDeleteRedis;

  constructor(
    redis: Redis,
    private readonly group: string,
  ) {
    // defineCommand sends EVALSHA, and the script itself once if Redis lost it (a restart).
    if (!('streamAckDelete' in redis)) redis.defineCommand('streamAckDelete', { lua: ACK_DELETE });
    this.redis = redis as AckDeleteRedis;
  }

  /** Resolves once the entry's acknowledgement was written (rejects if the write failed). */
  ack(stream: string, id: string): Promise<void> {
    const ids = this.pending.get(stream);
    if (ids) ids.push(id);
    else this.pending.set(stream, [id]);
    this.flushed ??= new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flush());
    return this.flushed;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.flushed = undefined;
    const calls: Promise<number>[] = [];
    let streams: string[] = [];
    let counts: number[] = [];
    let ids: string[] = [];
    const send = () => {
      if (streams.length) calls.push(this.redis.streamAckDelete(streams.length, ...streams, this.group, ...counts, ...ids));
      streams = [];
      counts = [];
      ids = [];
    };
    for (const [stream, list] of batch) {
      for (let from = 0; from < list.length; from += MAX_IDS) {
        const part = list.slice(from, from + MAX_IDS);
        if (ids.length + part.length > MAX_IDS) send();
        streams.push(stream);
        counts.push(part.length);
        ids.push(...part);
      }
    }
    send();
    await Promise.all(calls);
  }
}
