/**
 * When to try a Pinbot request again, and how long to wait first: exponential
 * backoff with full jitter, at least what `Retry-After` asks, never past a cap.
 */

export interface BackoffOptions {
  /** The first retry waits up to this long (then 2×, 4×, …). */
  baseMs: number;
  /** No wait is longer than this, whatever `Retry-After` says. */
  maxMs: number;
  /** [0, 1); injectable so tests are deterministic. */
  random?: () => number;
}

/** The wait before retry number `retry` (1 = the first retry). */
export function backoffMs(retry: number, opts: BackoffOptions, retryAfterMs?: number): number {
  const ceiling = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.max(0, retry - 1));
  // "Equal jitter": half fixed, half random, so waits grow but pods retrying together spread out.
  const jittered = ceiling / 2 + (opts.random ?? Math.random)() * (ceiling / 2);
  return Math.round(Math.min(opts.maxMs, Math.max(jittered, retryAfterMs ?? 0)));
}

/** `Retry-After` as ms from `now`: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Statuses worth another attempt: rate limiting and server errors. Other 4xx are final. */
export const isRetryableStatus = (status: number): boolean => status === 429 || status >= 500;

/**
 * Error codes that prove the request never reached Pinbot (no connection was
 * made), so sending again cannot duplicate the message.
 */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT']);

/** The first error code in an error's cause chain (or an AggregateError's errors). */
export function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    const inner = (e as { errors?: unknown[] }).errors;
    if (Array.isArray(inner) && inner.length) {
      const c = errorCode(inner[0]);
      if (c) return c;
    }
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** True when a failed request certainly never left this process (safe to repeat). */
export const neverSent = (err: unknown): boolean => NOT_SENT_CODES.has(errorCode(err) ?? '');
