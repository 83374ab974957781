import { request } from 'undici';
import type { Logger } from './logger.ts';

export interface ForwarderOptions {
  url: string;
  log: Logger;
  /** Payloads waiting at most; past it the oldest is dropped (and counted). */
  maxQueue?: number;
  concurrency?: number;
  timeoutMs?: number;
}

/**
 * Forwards inbound webhook payloads to Communication Master (spec FR-9):
 * asynchronous, bounded in memory and in concurrency, never blocking a chat.
 * Best effort by design: a payload dropped here is still in our own inbox.
 */
export class Forwarder {
  private readonly queue: string[] = [];
  private active = 0;
  private closed = false;
  dropped = 0;
  failed = 0;
  sent = 0;

  constructor(private readonly opts: ForwarderOptions) {}

  forward(rawBody: Buffer): void {
    if (this.closed) return;
    if (this.queue.length >= (this.opts.maxQueue ?? 1000)) {
      this.queue.shift();
      this.dropped++;
    }
    this.queue.push(rawBody.toString('utf8'));
    this.pump();
  }

  /** Stops taking payloads and waits (bounded) for those in flight. */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    const deadline = Date.now() + timeoutMs;
    while (this.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private pump(): void {
    while (this.active < (this.opts.concurrency ?? 4) && this.queue.length) {
      const body = this.queue.shift()!;
      this.active++;
      void this.post(body).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async post(body: string): Promise<void> {
    const timeout = this.opts.timeoutMs ?? 5000;
    try {
      const res = await request(this.opts.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
      });
      await res.body.dump();
      if (res.statusCode >= 400) throw new Error(`status ${res.statusCode}`);
      this.sent++;
    } catch (err) {
      this.failed++;
      this.opts.log.warn({ err: (err as Error).message }, 'Communication Master forwarding failed');
    }
  }
}
