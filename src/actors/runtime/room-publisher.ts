/** Rooms every dashboard connection is in, and a chat's own room. */
export const DASHBOARD_ROOM = 'dashboard';
/** The room of one agent's own sockets (every connection is in its agent's room): mentions reach that agent only. */
export const agentRoom = (username: string): string => `agent:${username}`;

/**
 * Pushes an event to every agent in a room, on every pod. The WebSocket hub
 * implements it (`src/transport/ws-hub.ts`); tests record with it.
 */
export interface RoomPublisher {
  publish(room: string, event: string, data: unknown): void;
  /**
   * Whether a push to `room` can reach anyone now (a member on this pod, or
   * other pods to relay it to): a payload that costs something to build is
   * built only then. A publisher without it gets every push.
   */
  reaches?(room: string): boolean;
}
