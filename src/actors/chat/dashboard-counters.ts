import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';
import type { DocumentStore } from '../../infra/store/store.ts';
import { DASHBOARD_ROOM, type RoomPublisher } from '../runtime/room-publisher.ts';
import { ChatStore } from './chat-store.ts';

/** The spec's shape (FR-6); snoozed chats are counted by `inbox_counts`. */
export interface DashboardStats {
  active: number;
  resolved: number;
  pending: number;
}

/** The counted statuses, each an atomic counter (a change to another status, snoozed, moves only the one it leaves or enters). */
const STATUSES = ['active', 'resolved', 'pending'] as const;
type Counted = (typeof STATUSES)[number];
const KEYS: Record<Counted, string> = { active: 'dashboard::count::active', resolved: 'dashboard::count::resolved', pending: 'dashboard::count::pending' };
/** Spec FR-6: the HTTP answer is cached 60 s; every change drops the cache so it is never stale. */
const CACHE = 'dashboard::stats';
const CACHE_TTL_MS = 60_000;
/** Markers of applied changes; a crashed pod's effects are re-run within minutes, so a day is ample. */
const ONCE = 'dashboard::once::';
const ONCE_TTL_MS = 24 * 3600_000;

/**
 * The live active/resolved counts (spec FR-6): atomic counters in Redis (or in
 * process), changed on every chat transition, pushed to every dashboard, and
 * resynchronised from MongoDB by a background job against drift.
 */
export class DashboardCounters {
  private readonly chats: ChatStore;
  /** The changes of this turn, written together once it ends. */
  private turn: { sums: Record<Counted, number>; written: Promise<void> } | undefined;

  constructor(
    private readonly kv: KeyValueStore,
    store: DocumentStore,
    private readonly rooms: RoomPublisher,
    private readonly log: Logger,
  ) {
    this.chats = new ChatStore(store);
  }

  /**
   * Applies a change once per `onceKey`: effects may run again after a crash,
   * and a counter must not count the same transition twice. The changes of one
   * event-loop turn are written together: one INCRBY per counter with their
   * sum, one cache drop, one read and one `dashboard_stats` push with the
   * counts after all of them (resolves once that write is done).
   */
  async change(delta: Partial<Record<string, number>>, onceKey: string): Promise<void> {
    if (!(await this.kv.set(`${ONCE}${onceKey}`, '1', { onlyIfAbsent: true, ttlMs: ONCE_TTL_MS }))) return;
    let turn = this.turn;
    if (!turn) {
      const sums: Record<Counted, number> = { active: 0, resolved: 0, pending: 0 };
      const written = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.write(sums));
      turn = this.turn = { sums, written };
    }
    for (const s of STATUSES) turn.sums[s] += delta[s] ?? 0;
    return turn.written;
  }

  private async write(sums: Record<Counted, number>): Promise<void> {
    this.turn = undefined;
    // Issued together, in this order, on one connection (Redis runs them in order): the increments, the cache
    // drop, then the read of the counts after both. One round trip instead of three, which first contacts wait on.
    const [, , after] = await Promise.all([
      Promise.all(STATUSES.map((s) => (sums[s] ? this.kv.incrBy(KEYS[s], sums[s]) : undefined))),
      this.kv.del(CACHE),
      this.read(),
    ]);
    this.rooms.publish(DASHBOARD_ROOM, 'dashboard_stats', after);
  }

  /** The counts as `GET /api/dashboard/stats` answers them (cached up to 60 s, dropped on change). */
  async stats(): Promise<DashboardStats> {
    const cached = await this.kv.get(CACHE);
    if (cached) return JSON.parse(cached) as DashboardStats;
    const stats = await this.read();
    await this.kv.set(CACHE, JSON.stringify(stats), { ttlMs: CACHE_TTL_MS });
    return stats;
  }

  /**
   * Recounts from MongoDB and overwrites the counters (the drift protection of
   * spec §8.3) — unless `stillHolds` says this pod lost the job's lock meanwhile.
   */
  async resync(stillHolds: () => Promise<boolean> = async () => true): Promise<DashboardStats | null> {
    const counts = await Promise.all(STATUSES.map((s) => this.chats.countByStatus(s)));
    const after = Object.fromEntries(STATUSES.map((s, i) => [s, counts[i] ?? 0])) as unknown as DashboardStats;
    const before = await this.read();
    if (!(await stillHolds())) {
      this.log.warn('counter resync skipped: the job lock moved to another pod');
      return null;
    }
    await Promise.all([...STATUSES.map((s) => this.kv.set(KEYS[s], String(after[s]))), this.kv.del(CACHE)]);
    if (STATUSES.some((s) => before[s] !== after[s])) {
      this.log.info({ before, after }, 'dashboard counters resynchronised');
      this.rooms.publish(DASHBOARD_ROOM, 'dashboard_stats', after);
    }
    return after;
  }

  private async read(): Promise<DashboardStats> {
    const values = await this.kv.getMany(STATUSES.map((s) => KEYS[s]));
    return Object.fromEntries(STATUSES.map((s, i) => [s, Number(values[i] ?? 0)])) as unknown as DashboardStats;
  }
}
