/**
 * A bounded work queue in lanes: items of one lane run one at a time in the
 * order they came (one customer's messages arrive in order), lanes run side
 * by side up to `concurrency`. Past `maxQueued` waiting items `push` refuses,
 * and the caller keeps the item elsewhere (the outbox leaves it `pending`).
 */
export interface LaneQueueOptions {
  concurrency: number;
  maxQueued: number;
  onError: (err: unknown, item: string) => void;
}

export class LaneQueue {
  private readonly lanes = new Map<string, string[]>();
  private readonly ready: string[] = [];
  private readonly running = new Set<string>();
  private readonly known = new Set<string>();
  private queued = 0;
  private active = 0;
  private closed = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly run: (item: string) => Promise<void>,
    private readonly opts: LaneQueueOptions,
  ) {}

  /** Queues `item` on `lane`; false when the queue is full or closed. An item already queued or running is not queued twice. */
  push(lane: string, item: string): boolean {
    if (this.closed) return false;
    if (this.known.has(item)) return true;
    if (this.queued >= this.opts.maxQueued) return false;
    this.known.add(item);
    this.queued++;
    const items = this.lanes.get(lane);
    if (items) items.push(item);
    else this.lanes.set(lane, [item]);
    if (!this.running.has(lane) && !this.ready.includes(lane)) this.ready.push(lane);
    this.pump();
    return true;
  }

  has(item: string): boolean {
    return this.known.has(item);
  }

  get size(): { queued: number; active: number } {
    return { queued: this.queued, active: this.active };
  }

  /** Room left before `push` refuses. */
  get free(): number {
    return Math.max(0, this.opts.maxQueued - this.queued);
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.queued === 0 && this.active === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Stops starting items (queued ones are dropped: their owner keeps them) and waits up to `timeoutMs` for running ones; returns how many still run. */
  async close(timeoutMs: number): Promise<number> {
    this.closed = true;
    for (const items of this.lanes.values()) for (const i of items) this.known.delete(i);
    this.lanes.clear();
    this.ready.length = 0;
    this.queued = 0;
    if (this.active > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
      clearTimeout(timer);
    }
    this.wakeIfIdle();
    return this.active;
  }

  private pump(): void {
    while (!this.closed && this.active < this.opts.concurrency && this.ready.length) {
      const lane = this.ready.shift()!;
      const items = this.lanes.get(lane);
      const item = items?.shift();
      if (!item) {
        this.lanes.delete(lane);
        continue;
      }
      this.queued--;
      this.active++;
      this.running.add(lane);
      void this.run(item)
        .catch((err: unknown) => this.opts.onError(err, item))
        .finally(() => {
          this.active--;
          this.running.delete(lane);
          this.known.delete(item);
          if (this.lanes.get(lane)?.length) this.ready.push(lane);
          else this.lanes.delete(lane);
          this.pump();
          this.wakeIfIdle();
        });
    }
  }

  private wakeIfIdle(): void {
    if (this.queued === 0 && this.active === 0) for (const w of this.idleWaiters.splice(0)) w();
  }
}
