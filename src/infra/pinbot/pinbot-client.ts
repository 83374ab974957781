import { Pool, type Dispatcher } from 'undici';
import type { Logger } from '../logger.ts';
import { CircuitBreaker, type BreakerState } from './breaker.ts';
import { RateLimitTimeout, type RateLimiter } from './rate-limiter.ts';
import { backoffMs, errorCode, isRetryableStatus, neverSent, parseRetryAfter, type BackoffOptions } from './retry.ts';
import type { ErrorCode } from '../errors.ts';

/**
 * The one Pinbot client (spec §7.1): a keep-alive connection pool per origin
 * (HTTP/2 when a TLS origin offers it), 5 s connect and 10 s total timeouts
 * per attempt, retries with backoff and jitter on 429, 5xx and failures that
 * provably sent nothing, a circuit breaker per origin, an optional rate
 * limiter per business number, and one log line per attempt (never the key).
 *
 * Exactly once: a request that may have reached Pinbot but got no answer (a
 * timeout, a connection lost mid-request) is never repeated; it comes back as
 * `uncertain`, for a person to decide.
 */

export interface PinbotClientOptions {
  log: Logger;
  limiter?: RateLimiter;
  connectTimeoutMs?: number;
  /** Bound on one attempt, connect to last body byte. */
  timeoutMs?: number;
  /** Attempts per send, the first included. */
  maxAttempts?: number;
  /** No retry starts after this long since the send began. */
  sendBudgetMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Connections per origin (spec §7.1: 100). */
  connections?: number;
  /** Idle keep-alive per connection (spec §7.1: 30 s). */
  keepAliveMs?: number;
  /** Negotiate HTTP/2 over TLS when the origin prefers it. */
  allowH2?: boolean;
  breaker?: { failureThreshold?: number; coolDownMs?: number; now?: () => number };
  sleep?: (ms: number) => Promise<void>;
}

/** Where and as whom one request goes. */
export interface PinbotTarget {
  originUrl: string;
  path: string;
  apiKey: string;
  /** The `wanumber` header (v1/v2 URLs). */
  wanumber?: string | undefined;
  /** The sending number, for the rate limit. */
  businessNumber: string;
  /** For logs: the send type. */
  channel: string;
}

export interface OutboundError {
  code: 'UPSTREAM_REJECTED' | 'UPSTREAM_UNAVAILABLE';
  message: string;
  /** Pinbot's HTTP status, when it answered. */
  status?: number;
}

export type SendOutcome =
  | { result: 'sent'; waMessageId: string | undefined; status: number; attempts: number }
  | { result: 'failed'; error: OutboundError; attempts: number }
  | { result: 'uncertain'; error: OutboundError; attempts: number };

/** Thrown by `download` for a body over its cap. Internal: the media download records it on the message (INTERNAL if it escaped). */
export class MediaTooLargeError extends Error {
  override readonly name = 'MediaTooLargeError';
  /** Only the background media download meets it (recorded on the message); escaping, our bug. */
  readonly publicCode: ErrorCode = 'INTERNAL';
}

/** Thrown by `download` when Pinbot refused the file for good (a 4xx other than 429: gone, unknown id, no access). */
export class MediaRejectedError extends Error {
  override readonly name = 'MediaRejectedError';
  /** The media job records it on the message; escaping, our bug. */
  readonly publicCode: ErrorCode = 'INTERNAL';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

type Attempt =
  | { kind: 'ok'; status: number; body: Buffer; headers: Dispatcher.ResponseData['headers'] }
  | { kind: 'rejected'; status: number; message: string }
  | { kind: 'retry'; message: string; status?: number; waitMs?: number }
  | { kind: 'ambiguous'; message: string };

const MAX_ANSWER_BYTES = 64 * 1024;
// Unref'd: a backoff wait never keeps a stopping process alive.
const sleeper = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class PinbotClient {
  private readonly pools = new Map<string, Pool>();
  private readonly breakers = new Map<string, CircuitBreaker>();
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly budgetMs: number;
  private readonly backoff: BackoffOptions;
  private readonly sleep: (ms: number) => Promise<void>;
  private closed = false;
  /** Times each origin's breaker opened (metrics: `pinbot_breaker_opened_total`). */
  readonly breakerOpenings: Record<string, number> = {};
  private attemptObserver: ((method: 'POST' | 'GET', outcome: string, seconds: number) => void) | undefined;

  constructor(private readonly opts: PinbotClientOptions) {
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.maxAttempts = opts.maxAttempts ?? 5;
    this.budgetMs = opts.sendBudgetMs ?? 60_000;
    this.backoff = { baseMs: opts.backoff?.baseMs ?? 500, maxMs: opts.backoff?.maxMs ?? 30_000, ...(opts.backoff?.random ? { random: opts.backoff.random } : {}) };
    this.sleep = opts.sleep ?? sleeper;
  }

  /** POSTs one Cloud API message body; resolves with what became of it (never rejects for Pinbot's sake). */
  async send(target: PinbotTarget, body: Record<string, unknown>, meta: { outboxKey: string; type: string }): Promise<SendOutcome> {
    const started = Date.now();
    const payload = JSON.stringify(body);
    for (let attempt = 1; ; attempt++) {
      const a = await this.attempt(target, 'POST', payload, { ...meta, attempt });
      if (a.kind === 'ok') return { result: 'sent', waMessageId: messageId(a.body), status: a.status, attempts: attempt };
      if (a.kind === 'rejected') return { result: 'failed', error: { code: 'UPSTREAM_REJECTED', message: a.message, status: a.status }, attempts: attempt };
      if (a.kind === 'ambiguous') return { result: 'uncertain', error: { code: 'UPSTREAM_UNAVAILABLE', message: a.message }, attempts: attempt };
      const wait = backoffMs(attempt, this.backoff, a.waitMs);
      if (attempt >= this.maxAttempts || this.closed || Date.now() - started + wait > this.budgetMs) {
        return { result: 'failed', error: { code: 'UPSTREAM_UNAVAILABLE', message: `gave up after ${attempt} attempt(s): ${a.message}`, ...(a.status ? { status: a.status } : {}) }, attempts: attempt };
      }
      await this.sleep(wait);
    }
  }

  /**
   * GETs raw bytes (media download), retrying like `send` (a GET is safe to
   * repeat) up to `maxAttempts`; rejects on failure, with MediaRejectedError
   * for an answer that repeating cannot change (a 4xx other than 429).
   */
  async download(
    target: PinbotTarget,
    maxBytes: number,
    meta: { outboxKey: string; type: string },
    opts: { maxAttempts?: number; timeoutMs?: number } = {},
  ): Promise<{ bytes: Buffer; contentType: string }> {
    const maxAttempts = opts.maxAttempts ?? this.maxAttempts;
    for (let attempt = 1; ; attempt++) {
      const a = await this.attempt(target, 'GET', undefined, { ...meta, attempt }, maxBytes, opts.timeoutMs);
      if (a.kind === 'ok') {
        const type = a.headers['content-type'];
        return { bytes: a.body, contentType: (Array.isArray(type) ? type[0] : type) ?? 'application/octet-stream' };
      }
      const message = a.kind === 'rejected' ? `Pinbot answered ${a.status}: ${a.message}` : a.message;
      if (a.kind === 'rejected') throw new MediaRejectedError(message, a.status);
      if (attempt >= maxAttempts || this.closed) throw new Error(message);
      await this.sleep(backoffMs(attempt, this.backoff, a.kind === 'retry' ? a.waitMs : undefined));
    }
  }

  /** Called once per request that went out, with its outcome (as logged) and duration (metrics). */
  observeAttempts(fn: (method: 'POST' | 'GET', outcome: string, seconds: number) => void): void {
    this.attemptObserver = fn;
  }

  /** The breaker state of an origin (for tests and metrics). */
  breakerState(originUrl: string): BreakerState {
    return this.breaker(originUrl).state;
  }

  /** Stops retrying and closes the pools (in-flight requests get `timeoutMs` to finish). */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.pools.values()].map((p) => Promise.race([p.close(), sleeper(this.timeoutMs)]).finally(() => p.destroy())));
    this.pools.clear();
  }

  private async attempt(
    target: PinbotTarget,
    method: 'POST' | 'GET',
    payload: string | undefined,
    meta: { outboxKey: string; type: string; attempt: number },
    maxBytes = MAX_ANSWER_BYTES,
    timeoutMs = this.timeoutMs,
  ): Promise<Attempt> {
    const log = (fields: Record<string, unknown>, msg: string, level: 'info' | 'warn' = 'info') =>
      this.opts.log[level]({ channel: target.channel, type: meta.type, outboxKey: meta.outboxKey, attempt: meta.attempt, method, ...fields }, msg);
    if (this.closed) return { kind: 'retry', message: 'client is closing' };
    if (this.opts.limiter) {
      try {
        await this.opts.limiter.acquire(target.businessNumber);
      } catch (err) {
        if (err instanceof RateLimitTimeout) return { kind: 'retry', message: err.message };
        throw err;
      }
    }
    const breaker = this.breaker(target.originUrl);
    if (!breaker.tryAcquire()) {
      log({ status: null, latencyMs: 0, outcome: 'circuit_open' }, 'pinbot attempt refused: circuit open', 'warn');
      return { kind: 'retry', message: `circuit open for ${target.originUrl}`, waitMs: breaker.retryInMs };
    }
    const started = performance.now();
    const latency = () => Math.round(performance.now() - started);
    const observe = (outcome: string) => this.attemptObserver?.(method, outcome, (performance.now() - started) / 1000);
    let res: Dispatcher.ResponseData;
    try {
      res = await this.pool(target.originUrl).request({
        path: target.path,
        method,
        headers: { apikey: target.apiKey, ...(payload ? { 'content-type': 'application/json' } : {}), ...(target.wanumber ? { wanumber: target.wanumber } : {}) },
        ...(payload ? { body: payload } : {}),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      breaker.failure();
      const reason = describe(err, timeoutMs);
      // A POST that may have left cannot be repeated without risking a second message; a GET can.
      const safe = method === 'GET' || neverSent(err);
      observe(safe ? 'retry' : 'uncertain');
      log({ status: null, latencyMs: latency(), outcome: safe ? 'retry' : 'uncertain', err: reason }, 'pinbot attempt failed', 'warn');
      return safe ? { kind: 'retry', message: reason } : { kind: 'ambiguous', message: `${reason}; the request may have reached Pinbot, so it is not repeated` };
    }
    let body: Buffer;
    try {
      if (Number(res.headers['content-length'] ?? 0) > maxBytes) {
        // Destroying an unread body emits its abort as an 'error': with no listener it would be an uncaught exception.
        res.body.once('error', () => undefined).destroy();
        throw new MediaTooLargeError(`answer exceeds ${maxBytes} bytes (content-length ${String(res.headers['content-length'])})`);
      }
      body = await readCapped(res.body, maxBytes);
    } catch (err) {
      if (err instanceof MediaTooLargeError) {
        breaker.neutral(); // the origin answered; the file is just too big
        observe('too_large');
        log({ status: res.statusCode, latencyMs: latency(), outcome: 'too_large', err: err.message }, 'pinbot attempt failed', 'warn');
        throw err;
      }
      const reason = `the answer broke off: ${describe(err, timeoutMs)}`;
      if (method === 'GET') {
        breaker.failure();
        observe('retry');
        log({ status: res.statusCode, latencyMs: latency(), outcome: 'retry', err: reason }, 'pinbot attempt failed', 'warn');
        return { kind: 'retry', message: reason };
      }
      // A POST's status line arrived, so Pinbot's decision is known even though its body broke off.
      log({ status: res.statusCode, latencyMs: latency(), err: reason }, 'pinbot answer body broke off', 'warn');
      body = Buffer.alloc(0);
    }
    const status = res.statusCode;
    const outcome = status < 300 ? 'ok' : isRetryableStatus(status) ? 'retry' : 'rejected';
    if (status >= 500) breaker.failure();
    else if (status === 429) breaker.neutral();
    else breaker.success();
    observe(outcome);
    log({ status, latencyMs: latency(), outcome }, `pinbot ${method} ${status}`, status < 300 ? 'info' : 'warn');
    if (outcome === 'ok') return { kind: 'ok', status, body, headers: res.headers };
    const message = errorMessage(body.toString('utf8'), status);
    if (outcome === 'rejected') return { kind: 'rejected', status, message };
    const retryAfter = parseRetryAfter(res.headers['retry-after']);
    return { kind: 'retry', status, message: `Pinbot answered ${status}: ${message}`, ...(retryAfter !== undefined ? { waitMs: retryAfter } : {}) };
  }

  private pool(originUrl: string): Pool {
    let p = this.pools.get(originUrl);
    if (!p) {
      p = new Pool(originUrl, {
        connections: this.opts.connections ?? 100,
        pipelining: 1,
        keepAliveTimeout: this.opts.keepAliveMs ?? 30_000,
        keepAliveMaxTimeout: this.opts.keepAliveMs ?? 30_000,
        connectTimeout: this.opts.connectTimeoutMs ?? 5_000,
        // ALPN only happens over TLS; plain-HTTP origins (tests, sidecars) speak HTTP/1.1.
        allowH2: (this.opts.allowH2 ?? true) && originUrl.startsWith('https:'),
      });
      this.pools.set(originUrl, p);
    }
    return p;
  }

  private breaker(originUrl: string): CircuitBreaker {
    let b = this.breakers.get(originUrl);
    if (!b) {
      b = new CircuitBreaker({
        ...this.opts.breaker,
        onChange: (from, to) => {
          if (to === 'open') this.breakerOpenings[originUrl] = (this.breakerOpenings[originUrl] ?? 0) + 1;
          this.opts.log[to === 'open' ? 'warn' : 'info']({ origin: originUrl, from, to }, `pinbot circuit ${to}`);
        },
      });
      this.breakers.set(originUrl, b);
    }
    return b;
  }
}

/** Reads a body, refusing more than `maxBytes`. */
async function readCapped(body: Dispatcher.ResponseData['body'], maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      body.destroy();
      throw new MediaTooLargeError(`answer exceeds ${maxBytes} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** Pinbot's (Cloud API's) message id from a 2xx answer: `messages[0].id`. */
function messageId(body: Buffer): string | undefined {
  try {
    const id = (JSON.parse(body.toString('utf8')) as { messages?: { id?: unknown }[] }).messages?.[0]?.id;
    return typeof id === 'string' && id !== '' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A short, key-free description of an error answer (Cloud API `error.message`/`error_data.details`, or the text). */
function errorMessage(body: string, status: number): string {
  try {
    const e = (JSON.parse(body) as { error?: { message?: unknown; error_data?: { details?: unknown } } | string; message?: unknown }) ?? {};
    const err = typeof e.error === 'string' ? e.error : [e.error?.message, e.error?.error_data?.details].filter((x) => typeof x === 'string').join(': ');
    const text = err || (typeof e.message === 'string' ? e.message : '');
    if (text) return text.slice(0, 500);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.trim().slice(0, 500) || `HTTP ${status}`;
}

function describe(err: unknown, timeoutMs: number): string {
  const code = errorCode(err);
  const name = (err as { name?: string }).name;
  if (name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_ABORTED') return `no answer within ${timeoutMs} ms`;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect timeout';
  return `${code ?? name ?? 'error'}: ${(err as Error).message ?? String(err)}`.slice(0, 300);
}
