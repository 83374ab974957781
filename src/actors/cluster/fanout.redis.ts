import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';
import { announcementSchema, RoomInterest, type Announcement } from './room-interest.ts';

/** Where pushes from other pods are delivered: the local WebSocket hub. */
export interface LocalRooms {
  deliverLocal(room: string, payload: string): void;
}

/** Where pods tell each other which rooms they have members in. */
const CONTROL_CHANNEL = 'ws:rooms';
/** Rooms per `rooms` announcement, so one message stays small. */
const ROOMS_PER_MESSAGE = 500;

/**
 * WebSocket pushes across pods (spec FR-3): published on `ws:chat:{room}`
 * tagged with this pod's id, received by every pod that has members in the
 * room, ignored by the pod that sent it — and published only when some other
 * pod has announced members there (`RoomInterest`). At most once by nature: a
 * dashboard that missed pushes catches up with `fetch_missed` (per-chat
 * sequence numbers).
 */
export class RedisFanout {
  private readonly subscriptions = new Map<string, Promise<() => Promise<void>>>();
  private readonly interest: RoomInterest;
  private control: Promise<() => Promise<void>> | undefined;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly pod: string,
    private readonly local: LocalRooms,
    private readonly log: Logger,
    opts: { unsureForMs?: number } = {},
  ) {
    this.interest = new RoomInterest(pod, opts);
  }

  /** Listens to the other pods' announcements and asks for their lists; until those are in, every room counts as heard. */
  async start(): Promise<void> {
    this.interest.unsure();
    this.control = this.kv.subscribe(CONTROL_CHANNEL, (message) => this.heard(message), () => this.resumed());
    await this.control;
    this.announce('hello', []);
  }

  /** Whether some other pod may have members in `room`. */
  reaches(room: string): boolean {
    return this.interest.heard(room);
  }

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
    // Announced once subscribed, so a pod that learns of it publishes to a channel we already hear.
    sub.then(
      () => {
        if (this.subscriptions.get(room) === sub) this.announce('joined', [room]);
      },
      (err: unknown) => {
        this.subscriptions.delete(room);
        this.log.warn({ err, room }, 'subscribing to a room failed');
      },
    );
    this.subscriptions.set(room, sub);
  }

  unwatch(room: string): void {
    const sub = this.subscriptions.get(room);
    if (!sub) return;
    this.subscriptions.delete(room);
    this.announce('left', [room]);
    void sub.then((off) => off()).catch(() => undefined);
  }

  /**
   * Periodic (`ANNOUNCE_EVERY_MS`): tells the others every room this pod has
   * members in — what keeps it in their view, and repairs an announcement they
   * missed — and forgets the rooms of pods that stopped announcing.
   */
  announceRooms(): void {
    this.interest.sweep();
    const rooms = [...this.subscriptions.keys()];
    for (let i = 0; i < rooms.length; i += ROOMS_PER_MESSAGE) this.announce('rooms', rooms.slice(i, i + ROOMS_PER_MESSAGE));
  }

  /** Rooms some other pod has members in, as far as this pod knows (a gauge). */
  get roomsHeardElsewhere(): number {
    return this.interest.size;
  }

  async stop(): Promise<void> {
    const control = this.control;
    this.control = undefined;
    await control?.then((off) => off()).catch(() => undefined);
  }

  private heard(message: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(message);
    } catch {
      parsed = undefined;
    }
    const announcement = announcementSchema.safeParse(parsed);
    if (!announcement.success) return void this.log.warn({ channel: CONTROL_CHANNEL }, 'ignored an unreadable room announcement');
    if (this.interest.apply(announcement.data)) this.announceRooms();
  }

  /** Our subscription lapsed: announcements may have been missed, so every room is heard until the lists are in again. */
  private resumed(): void {
    this.interest.unsure();
    this.announce('hello', []);
  }

  private announce(op: Announcement['op'], rooms: string[]): void {
    const message = JSON.stringify({ pod: this.pod, op, rooms } satisfies Announcement);
    // A lost announcement is repaired by the next periodic list.
    this.kv.publish(CONTROL_CHANNEL, message).catch((err: unknown) => this.log.warn({ err, op }, 'announcing rooms failed; the next periodic list repairs it'));
  }
}

const channel = (room: string) => `ws:chat:${room}`;
