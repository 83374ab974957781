import type { ActorEvent } from '../runtime/actor-kind.ts';
import type { Delivery } from '../runtime/actor-host.ts';

/** Counters of what a dispatcher did (for /metrics). */
export interface DispatchStats {
  /** Events for actors whose shard this pod owned when they were dispatched. */
  routedLocal: number;
  /** Events for actors owned elsewhere, handed to their owner. */
  routedRemote: number;
  /** Events applied here as the owner. */
  consumed: number;
  /** Events a previous owner took and never finished, taken over here. */
  claimed: number;
}

/** Delivers an event to its actor wherever it lives and resolves with the outcome once applied. */
export type AskActor = (kind: string, key: string, event: ActorEvent) => Promise<Delivery>;

/** An event handed to its actor: `queued` once it has its place in the actor's order, `done` once applied. */
export interface Dispatched {
  queued: Promise<void>;
  done: Promise<Delivery>;
}

/**
 * Delivers actor events to the pod that owns the actor, in one order per
 * actor (DESIGN.md §6). `dispatch.local.ts` (one pod: the host's mailbox is
 * the order) and `dispatch.streams.ts` (a Redis stream per shard, read by its
 * owner) pass `test/contract/dispatch.contract.ts`.
 */
export interface ActorDispatcher {
  readonly stats: DispatchStats;
  dispatch(kind: string, key: string, event: ActorEvent): Dispatched;
  /** `dispatch(...).done`: the outcome, once applied. */
  ask(kind: string, key: string, event: ActorEvent): Promise<Delivery>;
  start(): Promise<void>;
  /** Before this pod gives `shard` up: stop taking its events and let those taken finish (bounded). */
  release(shard: number): Promise<void>;
  /** Stops taking events; those in flight finish (bounded). Events dispatched afterwards are refused, or never applied here. */
  stop(): Promise<void>;
  /** Events taken for this pod's actors and not applied yet (queue lag). */
  backlog(): Promise<number>;
}
