import { createActor, type AnyActorScope, type AnyMachineSnapshot, type AnyStateMachine, type EventObject } from 'xstate';

/** What a transition would do: the next snapshot and the actions XState would execute (emits, delayed raises…). */
export type Transition = (snapshot: AnyMachineSnapshot, event: EventObject) => [AnyMachineSnapshot, { type: string; params?: unknown }[]];

/**
 * XState's pure `transition(machine, snapshot, event)`, with its inert actor
 * scope built once per machine instead of on every call: XState's version
 * constructs a throwaway actor and system each time, which was most of a chat
 * event's transition cost. Nothing is executed; actions are only collected.
 * Safe to share because the host applies one transition at a time
 * (synchronously) and these machines spawn no children.
 *
 * The scope's `actionExecutor` is an XState internal, so `xstate` is pinned to
 * the exact version this was written for (package.json) and
 * test/unit/pure-transition.test.ts checks it against the public `transition()`
 * on generated event sequences. The public API alone costs ~4× per chat event
 * (35–45 µs against 8–11 µs, `bench/transition-cost.ts`, xstate 5.33.3).
 */
export function pureTransition(machine: AnyStateMachine): Transition {
  const self = createActor(machine);
  let collected: { type: string; params?: unknown }[] = [];
  const scope = {
    self,
    id: '',
    sessionId: '',
    system: self.system,
    defer: () => {},
    logger: () => {},
    stopChild: () => {},
    emit: () => {},
    actionExecutor: (action: { type: string; params?: unknown }) => void collected.push(action),
  } as unknown as AnyActorScope;
  return (snapshot, event) => {
    collected = [];
    const next = machine.transition(snapshot, event, scope) as AnyMachineSnapshot;
    return [next, collected];
  };
}
