import { z } from 'zod';

/** How often each pod re-announces every room it has members in. */
export const ANNOUNCE_EVERY_MS = 10_000;
/** A room a pod has not announced for this long is forgotten for it: the pod died without saying so. */
export const FORGET_AFTER_MS = 3 * ANNOUNCE_EVERY_MS + 5_000;
/** While a pod cannot know the others' rooms (it just started, or its subscription lapsed), for this long every room counts as heard. */
export const UNSURE_FOR_MS = 2_000;

/**
 * What a pod tells the others on the control channel: it `joined` rooms (its
 * first member there, once it is subscribed) or `left` them (its last member
 * went); `rooms` is its periodic full list; `hello` asks every pod for its
 * list (a pod starting, or one that may have missed announcements).
 */
export const announcementSchema = z.object({
  pod: z.string().min(1).max(200),
  op: z.enum(['joined', 'left', 'rooms', 'hello']),
  rooms: z.array(z.string().max(1_000)).max(1_000),
});
export type Announcement = z.infer<typeof announcementSchema>;

/**
 * Which rooms the other pods have members in, learnt from their
 * announcements, so a push nobody on any pod can hear is never serialised or
 * published (most chat rooms, and every room while no dashboard is open).
 * Soft state: an entry lives `FORGET_AFTER_MS` past its last announcement,
 * so it is bounded by the other pods' own room lists and a dead pod's rooms
 * go. A missed `joined` can only drop pushes, which the dashboard already
 * recovers with `fetch_missed`; so when it may have missed any, it answers
 * "heard" for every room until the others' lists are in again.
 */
export class RoomInterest {
  /** Room → pod → when its interest is forgotten (ms). */
  private readonly remote = new Map<string, Map<string, number>>();
  private unsureUntil = 0;

  constructor(
    private readonly self: string,
    private readonly opts: { now?: () => number; unsureForMs?: number } = {},
  ) {}

  /** Whether a push to `room` may reach another pod. */
  heard(room: string): boolean {
    return this.remote.has(room) || this.now() < this.unsureUntil;
  }

  /** Every room counts as heard for a while: announcements may have been missed. */
  unsure(): void {
    this.unsureUntil = this.now() + (this.opts.unsureForMs ?? UNSURE_FOR_MS);
  }

  /** Applies another pod's announcement; true when it asks for this pod's list. */
  apply(a: Announcement): boolean {
    if (a.pod === this.self) return false;
    if (a.op === 'hello') return true;
    if (a.op === 'left') {
      for (const room of a.rooms) this.drop(room, a.pod);
      return false;
    }
    const until = this.now() + FORGET_AFTER_MS;
    for (const room of a.rooms) {
      const pods = this.remote.get(room);
      if (pods) pods.set(a.pod, until);
      else this.remote.set(room, new Map([[a.pod, until]]));
    }
    return false;
  }

  /** Forgets what no pod re-announced in time. */
  sweep(): void {
    const now = this.now();
    for (const [room, pods] of this.remote) {
      for (const [pod, until] of pods) if (until <= now) pods.delete(pod);
      if (pods.size === 0) this.remote.delete(room);
    }
  }

  /** Rooms another pod is known to listen to (inspection, tests). */
  get size(): number {
    return this.remote.size;
  }

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  private drop(room: string, pod: string): void {
    const pods = this.remote.get(room);
    if (!pods?.delete(pod) || pods.size > 0) return;
    this.remote.delete(room);
  }
}
