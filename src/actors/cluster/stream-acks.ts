import type { Redis } from 'ioredis';

/**
 * Acknowledges and deletes applied stream entries together: entries applied
 * in one event-loop turn leave as one XACK and one XDEL per stream, in one
 * pipeline, instead of a round trip each. An entry is still acknowledged only
 * after it was applied; a crash before the flush leaves it pending, and the
 * next owner re-applies it (a no-op: the actor remembers applied ids).
 */
export class StreamAcks {
  private pending = new Map<string, string[]>();
  private flushed: Promise<void> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly group: string,
  ) {}

  /** Resolves once the entry's acknowledgement was written (rejects if the pipeline failed). */
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
    const pipeline = this.redis.pipeline();
    for (const [stream, ids] of batch) pipeline.xack(stream, this.group, ...ids).xdel(stream, ...ids);
    const results = (await pipeline.exec()) ?? [];
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0];
  }
}
