/** Rooms every dashboard connection is in, and a chat's own room. */
export const DASHBOARD_ROOM = 'dashboard';

/**
 * Pushes an event to every agent in a room, on every pod. The WebSocket hub
 * implements it (`src/transport/ws-hub.ts`); tests record with it.
 */
export interface RoomPublisher {
  publish(room: string, event: string, data: unknown): void;
}
