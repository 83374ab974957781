import { createWebSocketInspector } from '@statelyai/inspect';
import type { AnyStateMachine } from 'xstate';
import type { Logger } from '../../infra/logger.ts';

/** What the actor host tells an observer (the live inspector). */
export interface HostObserver {
  activated(kind: string, key: string, machine: AnyStateMachine, snapshot: { value: unknown; context: unknown }): void;
  transitioned(kind: string, key: string, event: { type: string }, snapshot: { value: unknown; context: unknown }): void;
  stop(): void;
}

/**
 * Live inspection with `XSTATE_INSPECT_URL` (issue: "for product people"):
 * actors report to a `@statelyai/inspect` WebSocket inspector. The host runs
 * machines by pure transitions (no interpreter per actor), so it sends the
 * inspection events itself: an actor when it activates (with its machine's
 * definition), then each event and the snapshot it led to.
 * For development and staging: the inspector buffers while disconnected.
 */
export function webSocketInspection(url: string, log: Logger): HostObserver {
  const inspector = createWebSocketInspector({ url });
  const id = (kind: string, key: string) => `${kind}:${key}`;
  log.info({ url }, 'actors report to a live XState inspector');
  return {
    activated(kind, key, machine, s) {
      // An actor-like object, not a string id: the library only takes the definition from `logic.config`.
      const ref = { sessionId: id(kind, key), id: id(kind, key), logic: { config: machine.config } };
      inspector.actor(ref as never, { status: 'active', value: s.value, context: s.context });
    },
    transitioned(kind, key, event, s) {
      inspector.event(id(kind, key), event);
      inspector.snapshot(id(kind, key), { status: 'active', value: s.value, context: s.context }, { event });
    },
    stop() {
      inspector.stop();
    },
  };
}
