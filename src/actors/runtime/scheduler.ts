import type { KeyValueStore } from '../../infra/kv/kv.ts';
import type { Logger } from '../../infra/logger.ts';

export interface JobOptions {
  name: string;
  everyMs: number;
  /**
   * Run on one pod at a time: the job takes `lock:scheduler:{name}` (`SET NX PX`
   * with this pod's id) for `lockTtlMs`; only the holder releases it.
   */
  exclusive?: { lockTtlMs: number };
  /**
   * The job. `stillHolds()` re-checks (and extends) the lock: an exclusive job
   * calls it right before its writes, so a pod that stalled past its lease
   * (and lost the lock to another) writes nothing.
   */
  run: (stillHolds: () => Promise<boolean>) => Promise<unknown>;
}

/**
 * Background jobs (spec §8.3) on timers with a bound and a shutdown: a job
 * never overlaps itself, and `stop()` waits for a running one (bounded).
 */
export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly kv: KeyValueStore,
    private readonly pod: string,
    private readonly log: Logger,
  ) {}

  every(job: JobOptions): void {
    let busy = false;
    const tick = () => {
      if (busy || this.stopped) return;
      busy = true;
      const p = this.runOnce(job).finally(() => {
        busy = false;
        this.running.delete(p);
      });
      this.running.add(p);
    };
    this.timers.push(setInterval(tick, job.everyMs).unref());
  }

  /** Runs a job now (under its lock if exclusive); resolves false when another pod holds the lock. */
  async runOnce(job: JobOptions): Promise<boolean> {
    let fence: number | null = null;
    try {
      if (job.exclusive) {
        fence = await this.kv.acquireLock(job.name, this.pod, job.exclusive.lockTtlMs);
        if (fence === null) return false;
      }
      const exclusive = job.exclusive;
      await job.run(async () => (exclusive ? this.kv.extendLock(job.name, this.pod, exclusive.lockTtlMs) : true));
      return true;
    } catch (err) {
      this.log.warn({ err, job: job.name }, 'background job failed');
      return false;
    } finally {
      if (fence !== null) await this.kv.releaseLock(job.name, this.pod).catch(() => undefined);
    }
  }

  async stop(timeoutMs = 5000): Promise<void> {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    const timeout = new Promise((r) => setTimeout(r, timeoutMs).unref());
    await Promise.race([Promise.allSettled([...this.running]), timeout]);
  }
}
