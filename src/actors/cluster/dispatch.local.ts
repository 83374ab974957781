import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { ActorHost, Delivery } from '../runtime/actor-host.ts';
import type { ActorDispatcher, DispatchStats, Dispatched } from './dispatch.ts';

/** One pod owns every actor: events go straight to the host, whose mailbox is each actor's order. */
export class LocalDispatcher implements ActorDispatcher {
  readonly stats: DispatchStats = { routedLocal: 0, routedRemote: 0, consumed: 0, claimed: 0 };

  constructor(private readonly host: ActorHost) {}

  dispatch(kind: string, key: string, event: ActorEvent): Dispatched {
    this.stats.routedLocal++;
    // Taking a place in the mailbox is synchronous.
    const done = this.host.send(kind, key, event);
    void done.then(() => this.stats.consumed++, () => undefined);
    return { queued: Promise.resolve(), done };
  }

  ask(kind: string, key: string, event: ActorEvent): Promise<Delivery> {
    return this.dispatch(kind, key, event).done;
  }

  async start(): Promise<void> {}

  async release(): Promise<void> {}

  async stop(): Promise<void> {}

  async backlog(): Promise<number> {
    return 0;
  }
}
