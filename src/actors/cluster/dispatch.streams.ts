import { randomUUID } from 'node:crypto';
import type { Logger } from '../../infra/logger.ts';
import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { ActorDispatcher, DispatchStats, Dispatched } from './dispatch.ts';
import type { ActorHost, Delivery } from '../runtime/actor-host.ts';
import { shardOf, type ShardOwnership } from './ownership.ts';
import { ShardStreams, failureReply, replyError, type Reply, type ShardEntry, type ShardStreamsOptions } from './shard-streams.ts';
import { AppError } from '../../infra/errors.ts';

export interface StreamDispatcherOptions extends ShardStreamsOptions {
  host: ActorHost;
  ownership: ShardOwnership;
  log: Logger;
  /** How long a caller waits for the owner's answer. */
  replyTimeoutMs?: number;
}

const MAX_INFLIGHT = 2000;
const RETRY_IDLE_MS = 10_000;
const MAX_FAILURES = 5;
/** Entries per read or claim, and how long a read waits for new ones (so the loop comes round to releases and retries). */
const BATCH = 200;
const READ_BLOCK_MS = 1000;

/**
 * Delivers actor events to the pod that owns their shard (DESIGN.md §6):
 * appended to the shard's Redis stream, which the owner reads through a
 * consumer group. An entry is acknowledged only after the actor applied it;
 * when a pod dies, the next owner claims its pending entries and applies them
 * (the actor's applied ids make a second application a no-op). The caller gets
 * the owner's answer over Pub/Sub (`reply:{pod}`). The Redis calls live in
 * `shard-streams.ts`; this class decides what is applied, when, in what order.
 */
export class StreamDispatcher implements ActorDispatcher {
  readonly stats: DispatchStats = { routedLocal: 0, routedRemote: 0, consumed: 0, claimed: 0 };
  /** Reads that returned entries, the entries, and the time spent checking each for older entries held elsewhere (the handoff's extra round trip). */
  readonly reads = { batches: 0, entries: 0, olderCheckMs: 0 };
  private readonly streams: ShardStreams;
  private readonly waiting = new Map<string, { resolve: (d: Delivery) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  private readonly claimedShards = new Set<number>();
  private running = false;
  /** Entries handed to actors and not yet answered: bounded, so a slow owner stops reading instead of piling up. */
  private inflight = 0;
  private lastSweep = 0;
  /**
   * Shards where an entry failed: nothing more is applied from them until
   * every pending entry is re-applied in stream order, so a failure (a lapsed
   * lease, a store error) never lets a later event overtake an earlier one.
   */
  private readonly blocked = new Set<number>();
  private readonly inflightByShard = new Map<number, number>();
  /** Shards being handed to another pod: no longer read, so nothing of theirs is left in this pod's pending list. */
  private readonly releasing = new Set<number>();
  /**
   * Failures per entry, by shard: one that keeps failing is set aside, so it cannot block its shard for
   * ever. A shard's are forgotten when it moves away (its next owner counts afresh), so this never grows
   * with entries another pod went on to apply.
   */
  private readonly failures = new Map<number, Map<string, number>>();
  private reading: Promise<unknown> | undefined;
  private loop: Promise<void> | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;

  constructor(private readonly opts: StreamDispatcherOptions) {
    this.streams = new ShardStreams(opts);
    opts.ownership.onChange(({ shard, owned }) => {
      if (owned) return;
      this.failures.delete(shard);
      this.claimedShards.delete(shard);
      this.releasing.delete(shard);
    });
  }

  /**
   * Every event goes through its shard's stream, even when this pod owns the
   * shard: the stream is the one order in which all pods' events for an actor
   * are applied (a local shortcut could overtake an earlier event from another pod).
   */
  readonly dispatch = (kind: string, key: string, event: ActorEvent): Dispatched => {
    const shard = shardOf(kind, key, this.opts.ownership.shards);
    if (this.opts.ownership.fence(shard) !== null) this.stats.routedLocal++;
    else this.stats.routedRemote++;
    return this.append(shard, kind, key, event);
  };

  readonly ask = (kind: string, key: string, event: ActorEvent): Promise<Delivery> => this.dispatch(kind, key, event).done;

  async start(): Promise<void> {
    this.unsubscribe = await this.streams.subscribeReplies((r) => this.settle(r));
    this.running = true;
    // The first retry sweep comes a full period after start-up: the takeover claims every pending entry anyway.
    this.lastSweep = Date.now();
    this.loop = this.consume();
  }

  /** Stops reading; in-flight entries finish (their acks are sent) before this resolves (bounded). */
  async stop(timeoutMs = 5000): Promise<void> {
    this.running = false;
    this.streams.interruptReads();
    await this.loop;
    const deadline = Date.now() + timeoutMs;
    while (this.inflight > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await this.unsubscribe?.();
    for (const [, w] of this.waiting) {
      clearTimeout(w.timer);
      w.reject(new AppError('SHUTTING_DOWN', undefined, { cause: new Error('router stopped') }));
    }
    this.waiting.clear();
  }

  /**
   * Before this pod gives a shard up: stop reading its stream, let a read in
   * progress return, and wait (bounded) for what was read to be applied — so
   * the next owner finds every unapplied entry still unread, in order.
   */
  async release(shard: number, timeoutMs = 5000): Promise<void> {
    this.releasing.add(shard);
    await this.reading?.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    while ((this.inflightByShard.get(shard) ?? 0) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  }

  /** Entries read and not yet acknowledged in the streams of the shards this pod owns (queue lag, for /metrics). */
  async backlog(): Promise<number> {
    let total = 0;
    for (const shard of this.opts.ownership.owned().keys()) total += await this.streams.pending(shard).catch(() => 0);
    return total;
  }

  private append(shard: number, kind: string, key: string, event: ActorEvent): Dispatched {
    const corr = randomUUID();
    const timeoutMs = this.opts.replyTimeoutMs ?? 15_000;
    let queued!: Promise<void>;
    const done = new Promise<Delivery>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(corr);
        reject(new AppError('OWNER_TIMEOUT', undefined, { cause: new Error(`no answer from the owner of shard ${shard} within ${timeoutMs} ms`) }));
      }, timeoutMs);
      this.waiting.set(corr, { resolve, reject, timer });
      queued = this.streams.append(shard, kind, key, event, corr).catch((err: Error) => {
        clearTimeout(timer);
        this.waiting.delete(corr);
        reject(err);
        throw err;
      });
      queued.catch(() => undefined); // the same failure reaches `done`; callers that only await `done` must not crash the process
    });
    return { queued, done };
  }

  private settle(r: Reply): void {
    const w = this.waiting.get(r.c);
    if (!w) return;
    this.waiting.delete(r.c);
    clearTimeout(w.timer);
    if (r.d) w.resolve(r.d);
    else w.reject(replyError(r));
  }

  /** The consumer loop: claim what a previous owner left, then read new entries, for every owned shard. */
  private async consume(): Promise<void> {
    while (this.running) {
      const owned = [...this.opts.ownership.owned().keys()].filter((s) => !this.releasing.has(s));
      if (owned.length === 0) {
        await new Promise((r) => setTimeout(r, 200));
        continue;
      }
      if (this.inflight >= MAX_INFLIGHT) {
        await new Promise((r) => setTimeout(r, 5));
        continue;
      }
      try {
        // A shard whose lease lapsed, even for a moment, is taken over afresh: pending entries first, in order.
        for (const shard of this.claimedShards) if (!owned.includes(shard)) this.claimedShards.delete(shard);
        const fresh = owned.filter((shard) => !this.claimedShards.has(shard));
        await this.takeOverAll(fresh, 0);
        const unblocked: number[] = [];
        for (const shard of [...this.blocked]) {
          if (!owned.includes(shard)) this.blocked.delete(shard);
          else if (!this.inflightByShard.get(shard)) {
            this.blocked.delete(shard);
            unblocked.push(shard);
          }
        }
        await this.takeOverAll(unblocked, 0); // every pending entry again, in order (applied ones are no-ops)
        if (Date.now() - this.lastSweep > RETRY_IDLE_MS) {
          // Entries whose application failed here stay pending: try them again.
          this.lastSweep = Date.now();
          await this.takeOverAll(owned, RETRY_IDLE_MS);
        }
        // Decided in the same tick as the read starts (no await in between), so a release() cannot slip in unseen.
        const readable = owned.filter((s) => !this.releasing.has(s) && this.opts.ownership.fence(s) !== null);
        if (readable.length === 0) continue;
        const read = this.streams.read(readable, BATCH, READ_BLOCK_MS);
        this.reading = read;
        const batches = (
          await read.catch((err: unknown) => {
            // Redis may have served the read (its entries now pending for this pod) and lost the answer
            // (a restart, a dropped connection): a plain next read would skip them. Taken over afresh
            // instead, every pending entry first, in order.
            for (const shard of readable) this.claimedShards.delete(shard);
            throw err;
          })
        ).filter((b) => b.entries.length > 0);
        if (batches.length > 0) this.reads.batches++;
        for (const b of batches) this.reads.entries += b.entries.length;
        const checkStarted = performance.now();
        // Older entries another consumer read after this pod's takeover claim go first (the order is the stream's).
        const older = await this.streams.claimOlderElsewhere(batches.map((b) => ({ shard: b.shard, before: b.entries[0]!.id }))).catch((err: unknown) => {
          for (const b of batches) this.blocked.add(b.shard); // what was read stays pending: re-applied in order with the rest
          throw err;
        });
        if (batches.length > 0) this.reads.olderCheckMs += performance.now() - checkStarted;
        for (const { shard, entries } of batches) {
          const late = older.get(shard) ?? [];
          this.stats.claimed += late.length;
          this.apply(shard, [...late, ...entries]);
        }
      } catch (err) {
        if (!this.running) break;
        this.opts.log.warn({ err: (err as Error).message }, 'stream consumer error; retrying');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /**
   * Takes the shards over side by side: their commands share round trips
   * (one pipeline instead of two round trips per shard, which under load held
   * the consumer loop for a second at start-up and every retry sweep). Each
   * shard's own claims still go in order. Every shard is tried; the first
   * failure is then thrown, and a failed shard is taken over afresh next round.
   */
  private async takeOverAll(shards: readonly number[], minIdleMs: number): Promise<void> {
    const outcomes = await Promise.allSettled(shards.map((shard) => this.takeOver(shard, minIdleMs)));
    const failed = outcomes.find((o) => o.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * A newly owned shard (`minIdleMs` 0): make its group, then apply every entry a
   * previous owner read but never acknowledged. Later, with a minimum idle time:
   * retry entries whose application failed.
   */
  private async takeOver(shard: number, minIdleMs: number): Promise<void> {
    // A retry sweep finds the group the takeover made; if Redis lost it, the claim fails and the shard is taken over afresh.
    if (minIdleMs === 0) await this.streams.ensureGroup(shard);
    // Marked first: an entry `apply` has to leave pending (the lease lapsed meanwhile) clears the mark again.
    this.claimedShards.add(shard);
    let cursor = '0-0';
    try {
      do {
        const claimed = await this.streams.claim(shard, minIdleMs, cursor, BATCH);
        cursor = claimed.cursor;
        this.stats.claimed += claimed.entries.length;
        this.apply(shard, claimed.entries);
      } while (cursor !== '0-0' && this.running);
    } catch (err) {
      this.claimedShards.delete(shard);
      throw err;
    }
  }

  /**
   * Hands entries to their actors in stream order (each actor's mailbox keeps
   * it) without waiting: an actor's effects may route to another actor whose
   * entry this same loop must read. Each entry is answered and acknowledged
   * once applied; a failed one stays pending and is retried.
   */
  private apply(shard: number, entries: readonly ShardEntry[]): void {
    if (this.opts.ownership.fence(shard) === null) {
      // Not ours (any more): left pending, for the next owner to claim before anything newer. If the
      // lease was only late in its renewal and comes back, this pod takes the shard over afresh too:
      // these entries first, in order, not after the newer ones its next reads return.
      if (entries.length > 0) this.claimedShards.delete(shard);
      return;
    }
    for (const entry of entries) {
      if (this.blocked.has(shard)) return; // left pending: re-applied in order once the shard is unblocked
      const { id } = entry;
      this.inflight++;
      this.inflightByShard.set(shard, (this.inflightByShard.get(shard) ?? 0) + 1);
      const applied = entry.event ? this.opts.host.send(entry.kind, entry.key, entry.event) : Promise.reject(new Error(`stream entry ${id} holds no readable event`));
      applied
        .then(
          async (d) => {
            this.failures.get(shard)?.delete(id);
            this.reply(entry, { d: { handled: d.handled, duplicate: d.duplicate, context: d.context, value: d.value, effects: [] } });
            this.stats.consumed++;
            await this.streams.ack(shard, id);
          },
          async (err: unknown) => {
            // A failure in a shard already blocked this round is most often the echo of an earlier one (the
            // mailbox fails what queued behind it): not held against the entry, or an innocent event behind a
            // poison one would be dropped with it. The first failure of each round still counts, so this ends.
            const echo = this.blocked.has(shard);
            const failed = (this.failures.get(shard)?.get(id) ?? 0) + (echo ? 0 : 1);
            if (failed >= MAX_FAILURES) {
              // A poison entry: acknowledge and drop it; its inbox item (if any) is retried, then set aside, there.
              this.failures.get(shard)?.delete(id);
              this.opts.log.error({ err: (err as Error).message, shard, entry: { id, kind: entry.kind, key: entry.key, event: entry.event } }, `routed event failed ${MAX_FAILURES} times; dropped from the stream`);
              this.reply(entry, failureReply(err));
              await this.streams.ack(shard, id);
              return;
            }
            if (!echo) {
              let counts = this.failures.get(shard);
              if (!counts) this.failures.set(shard, (counts = new Map()));
              counts.set(id, failed);
            }
            // No error reply: the entry is applied again shortly, in order, and answers the caller then.
            this.blocked.add(shard);
            this.opts.log.warn({ err: (err as Error).message, shard }, 'routed event failed; the shard is re-applied in order');
          },
        )
        .catch((err: unknown) => this.opts.log.warn({ err, shard }, 'acknowledging a stream entry failed'))
        .finally(() => {
          this.inflight--;
          this.inflightByShard.set(shard, (this.inflightByShard.get(shard) ?? 1) - 1);
        });
    }
  }

  private reply(entry: ShardEntry, answer: Omit<Reply, 'c'>): void {
    if (!entry.replyTo || !entry.corr) return;
    const body: Reply = { c: entry.corr, ...answer };
    if (entry.replyTo === this.opts.pod) return this.settle(body); // the caller is on this pod: no round trip through Redis
    void this.streams.publishReply(entry.replyTo, body).catch(() => undefined);
  }
}
