import { AppError } from '../../infra/errors.ts';

/**
 * At most `concurrency` password hashes at once, `queue` more waiting; past
 * that a login is refused with OVERLOADED (Retry-After) at once. Each hash
 * holds a libuv thread and 32 MiB for a few hundred milliseconds: a login
 * flood must not take the thread pool (file, DNS and other crypto work) or
 * the memory of the pod.
 */
export class KdfGate {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrency = 2,
    private readonly queue = 32,
  ) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.concurrency) {
      if (this.waiting.length >= this.queue) throw new AppError('OVERLOADED', 'Too many logins in progress; retry shortly');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // The slot passes straight to the next waiter, so `running` counts it throughout.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  get busy(): number {
    return this.running;
  }
}
