import type { AnyStateMachine, EventObject, StateValue } from 'xstate';

/** Every event an actor receives carries an idempotency id and the time it happened (epoch ms). */
export interface ActorEvent extends EventObject {
  id: string;
  at: number;
}

/** A delayed transition XState asked for (`after`), kept as data so it survives passivation and restarts. */
export interface Deadline {
  id: string;
  event: EventObject;
  due: number;
}

export interface TransitionRecord {
  at: number;
  event: string;
  from: StateValue;
  to: StateValue;
}

/** An effect given up on after its last attempt (DESIGN.md decision 8), kept on the actor for inspection. */
export interface DeadLetter {
  /** When it was given up on (epoch ms). */
  at: number;
  /** Id of the event whose transition emitted it. */
  event: string;
  /** The effect as the machine emitted it. */
  effect: unknown;
  /** The last attempt's error message, clipped. */
  error: string;
  attempts: number;
}

/** What is persisted for one actor: its state plus the runtime's bookkeeping, versioned. */
export interface ActorRecord {
  /** Snapshot schema version, so a future machine change can migrate old records. */
  schema: number;
  /** Bumped on every save; saves are conditional on it (optimistic concurrency / fencing). */
  version: number;
  state: { value: StateValue; context: unknown };
  /** Ids of the most recent events applied, so a redelivered event is applied once. */
  applied: string[];
  /** Effects of the last event, kept until they have run, to be run again after a crash. */
  pending: unknown[];
  deadlines: Deadline[];
  history: TransitionRecord[];
  /** The most recent effects that kept failing and were given up on (absent on records that never had one). */
  deadLetters?: DeadLetter[];
  /**
   * The fencing token (shard epoch) of the pod that wrote it. Saves require
   * the stored one to be no larger, so a former owner cannot overwrite a
   * newer owner's state.
   */
  fence?: number;
}

/**
 * One kind of actor (chat, discount): its machine, where its records live and
 * how its effects are carried out. The host (`host.ts`) does the rest.
 */
export interface ActorKind<E extends ActorEvent = ActorEvent> {
  readonly name: string;
  readonly machine: AnyStateMachine;
  readonly schema: number;
  /** Input for a new actor, made when the first event for `key` arrives. */
  input(key: string, event: E): unknown;
  load(key: string): Promise<ActorRecord | null>;
  /**
   * Writes `record` only if the stored version is `expected` (0: none stored). False on conflict.
   * `previous`: the stored record it replaces, when this process wrote that one itself (so the store holds
   * exactly it): a kind may then write only what changed. Absent after a load.
   */
  save(key: string, record: ActorRecord, expected: number, previous?: ActorRecord): Promise<boolean>;
  /**
   * Carries out effects in order. Idempotent: after a crash they may run again.
   * The host passes one effect at a time, so a failure is that effect's alone.
   * `context` and `value` are the actor's state after the event that emitted them.
   */
  execute(key: string, effects: readonly unknown[], context: unknown, value: StateValue): Promise<void>;
  /** Keys of stored actors with a deadline due by `now` (to wake passivated actors). */
  dueKeys?(now: number, limit: number): Promise<string[]>;
}
