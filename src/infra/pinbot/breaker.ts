/**
 * A circuit breaker for one Pinbot origin: after `failureThreshold`
 * consecutive failures it opens and refuses requests at once (so an outage
 * does not pile up work), after `coolDownMs` it lets one probe through
 * (half-open), and that probe's outcome closes or re-opens it.
 */

export type BreakerState = 'closed' | 'open' | 'half_open';

export interface BreakerOptions {
  failureThreshold?: number;
  coolDownMs?: number;
  now?: () => number;
  /** Called on every state change (for logs and metrics). */
  onChange?: (from: BreakerState, to: BreakerState) => void;
}

export class CircuitBreaker {
  private current: BreakerState = 'closed';
  private failures = 0;
  private openedAt = 0;
  private probing = false;
  private readonly threshold: number;
  private readonly coolDownMs: number;
  private readonly now: () => number;

  constructor(private readonly opts: BreakerOptions = {}) {
    this.threshold = opts.failureThreshold ?? 5;
    this.coolDownMs = opts.coolDownMs ?? 30_000;
    this.now = opts.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.coolDownMs) this.move('half_open');
    return this.current;
  }

  /** Ms until an open breaker lets a probe through (0 when it would now). */
  get retryInMs(): number {
    return this.current === 'open' ? Math.max(0, this.coolDownMs - (this.now() - this.openedAt)) : 0;
  }

  /** Whether a request may go now; in half-open only one probe at a time. Call `success`/`failure` after it. */
  tryAcquire(): boolean {
    const s = this.state;
    if (s === 'closed') return true;
    if (s === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  success(): void {
    this.failures = 0;
    this.probing = false;
    if (this.current !== 'closed') this.move('closed');
  }

  failure(): void {
    this.probing = false;
    this.failures++;
    if (this.current === 'half_open' || (this.current === 'closed' && this.failures >= this.threshold)) {
      this.openedAt = this.now();
      this.move('open');
    }
  }

  /** A request that ended without telling anything about the origin's health (a 4xx): frees a half-open probe slot. */
  neutral(): void {
    if (this.probing) this.success();
  }

  private move(to: BreakerState): void {
    const from = this.current;
    this.current = to;
    this.opts.onChange?.(from, to);
  }
}
