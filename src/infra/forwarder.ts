import { request } from 'undici';
import type { Logger } from './logger.ts';

export interface ForwarderOptions {
  url: string;
  log: Logger;
  /** Payloads waiting at most; past it the oldest is dropped (and counted). */
  maxQueue?: number;
  /** Bytes of payloads waiting at most (default 8 MiB); past it the oldest are dropped (and counted). */
  maxQueueBytes?: number;
  concurrency?: number;
  timeoutMs?: number;
}

const DEFAULT_MAX_QUEUE_BYTES = 8 * 1024 * 1024;

/**
 * Forwards inbound webhook payloads to Communication Master (spec FR-9):
 * asynchronous, bounded in memory and in concurrency, never blocking a chat.
 * Best effort by design: a payload dropped here is still in our own inbox.
 */
export class Forwarder {
  private readonly queue: Buffer[] = [];
  /** Bytes `queue` holds: bounded by size as well as count, since one body can be 256 KiB. */
  private queuedBytes = 0;
  private active = 0;
  private closed = false;
  private droppedLoggedAt = 0;
  dropped = 0;
  failed = 0;
  sent = 0;

  constructor(private readonly opts: ForwarderOptions) {}

  forward(rawBody: Buffer): void {
    if (this.closed) return;
    const maxBytes = this.opts.maxQueueBytes ?? DEFAULT_MAX_QUEUE_BYTES;
    while (this.queue.length > 0 && (this.queue.length >= (this.opts.maxQueue ?? 1000) || this.queuedBytes + rawBody.byteLength > maxBytes)) {
      this.queuedBytes -= this.queue.shift()!.byteLength;
      this.dropped++;
      // One line per 10 s while dropping: the count is in /metrics.
      if (Date.now() - this.droppedLoggedAt > 10_000) {
        this.droppedLoggedAt = Date.now();
        this.opts.log.warn({ dropped: this.dropped }, 'Communication Master queue full: oldest payloads dropped');
      }
    }
    this.queue.push(rawBody);
    this.queuedBytes += rawBody.byteLength;
    this.pump();
  }

  /** Bytes of payloads waiting to be forwarded. */
  get queuedSize(): number {
    return this.queuedBytes;
  }

  /** Stops taking payloads and waits (bounded) for those in flight. */
  async close(timeoutMs = 2000): Promise<void> {
    this.closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    const deadline = Date.now() + timeoutMs;
    while (this.active > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  private pump(): void {
    while (this.active < (this.opts.concurrency ?? 4) && this.queue.length) {
      const body = this.queue.shift()!;
      this.queuedBytes -= body.byteLength;
      this.active++;
      void this.post(body).finally(() => {
        this.active--;
        this.pump();
      });
    }
  }

  private async post(body: Buffer): Promise<void> {
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
