import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';

/** Where pushes from other pods are delivered: the local WebSocket hub. */
export interface LocalRooms {
  deliverLocal(room: string, payload: string): void;
}

/**
 * WebSocket pushes across pods (spec FR-3): published on `ws:chat:{room}`
 * tagged with this pod's id, received by every pod that has members in the
 * room, ignored by the pod that sent it. At most once by nature: a dashboard
 * that missed pushes catches up with `fetch_missed` (per-chat sequence numbers).
 */
export class RedisFanout {
  private readonly subscriptions = new Map<string, Promise<() => Promise<void>>>();

  constructor(
    private readonly kv: KeyValueStore,
    private readonly pod: string,
    private readonly local: LocalRooms,
    private readonly log: Logger,
  ) {}

  send(room: string, payload: string): void {
    this.kv.publish(channel(room), `${this.pod}\n${payload}`).catch((err: unknown) => this.log.warn({ err, room }, 'cross-pod push failed'));
  }

  watch(room: string): void {
    if (this.subscriptions.has(room)) return;
    const sub = this.kv.subscribe(channel(room), (message) => {
      const cut = message.indexOf('\n');
      if (cut < 0 || message.slice(0, cut) === this.pod) return; // our own push, already delivered here
      this.local.deliverLocal(room, message.slice(cut + 1));
    });
    sub.catch((err: unknown) => {
      this.subscriptions.delete(room);
      this.log.warn({ err, room }, 'subscribing to a room failed');
    });
    this.subscriptions.set(room, sub);
  }

  unwatch(room: string): void {
    const sub = this.subscriptions.get(room);
    if (!sub) return;
    this.subscriptions.delete(room);
    void sub.then((off) => off()).catch(() => undefined);
  }
}

const channel = (room: string) => `ws:chat:${room}`;
