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
}
