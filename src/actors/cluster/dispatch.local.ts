import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { ActorHost, Delivery } from '../runtime/actor-host.ts';
import type { ActorDispatcher, DispatchStats, Dispatched } from './dispatch.ts';
import { SHARDS, shardOf } from './ownership.ts';
import { AppError } from '../../infra/errors.ts';

/** One pod owns every actor: events go straight to the host, whose mailbox is each actor's order. */
export class LocalDispatcher implements ActorDispatcher {
  readonly stats: DispatchStats = { routedLocal: 0, routedRemote: 0, consumed: 0, claimed: 0 };
  /** Events handed to the host and not yet settled, in all and per shard: what release() and stop() wait for. */
  private inflight = 0;
  private readonly inflightByShard = new Map<number, number>();
  private stopped = false;

  /** `shards`: the ownership's shard count, so release(shard) knows which events are that shard's. */
  constructor(
    private readonly host: ActorHost,
    private readonly shards = SHARDS,
  ) {}

  dispatch(kind: string, key: string, event: ActorEvent): Dispatched {
    if (this.stopped) {
      const refused = Promise.reject(new AppError('SHUTTING_DOWN', undefined, { cause: new Error('dispatcher stopped') }));
      refused.catch(() => undefined); // a caller that only awaits one of the two must not crash the process
      return { queued: refused, done: refused };
    }
    this.stats.routedLocal++;
    const shard = shardOf(kind, key, this.shards);
    this.inflight++;
    this.inflightByShard.set(shard, (this.inflightByShard.get(shard) ?? 0) + 1);
    // Taking a place in the mailbox is synchronous.
    const done = this.host.send(kind, key, event);
    void done
      .then(() => this.stats.consumed++, () => undefined)
      .finally(() => {
        this.inflight--;
        const left = (this.inflightByShard.get(shard) ?? 1) - 1;
        if (left > 0) this.inflightByShard.set(shard, left);
        else this.inflightByShard.delete(shard);
      });
    return { queued: Promise.resolve(), done };
  }

  ask(kind: string, key: string, event: ActorEvent): Promise<Delivery> {
    return this.dispatch(kind, key, event).done;
  }

  async start(): Promise<void> {}

  /** Waits (bounded) for the shard's events already in mailboxes to be applied. */
  async release(shard: number, timeoutMs = 5000): Promise<void> {
    await until(() => !this.inflightByShard.has(shard), timeoutMs);
  }

  /** Refuses further events, then waits (bounded) for those in mailboxes to be applied. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    await until(() => this.inflight === 0, timeoutMs);
  }

  /** Events in mailboxes not applied yet. */
  async backlog(): Promise<number> {
    return this.inflight;
  }
}

async function until(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
}
