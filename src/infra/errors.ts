/**
 * The one registry of errors a client can see. Each has a stable code, an HTTP
 * status and a default message; the README's error table is checked against it.
 */
export const ERRORS = {
  BAD_JSON: { status: 400, message: 'Body is not valid JSON' },
  BAD_ENCODING: { status: 400, message: 'Malformed percent-encoding in the URL' },
  VALIDATION_FAILED: { status: 400, message: 'Request failed validation' },
  NOT_A_WEBHOOK: { status: 400, message: 'Body is not a WhatsApp webhook' },
  UNKNOWN_EVENT: { status: 400, message: 'Unknown event' },
  UNAUTHORIZED: { status: 401, message: 'Missing or invalid token' },
  BAD_SIGNATURE: { status: 401, message: 'X-Hub-Signature-256 does not match the body' },
  // The same answer for an unknown username, a wrong password and a disabled account: a login never says which.
  BAD_CREDENTIALS: { status: 401, message: 'Wrong username or password' },
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  CORS_ORIGIN_DENIED: { status: 403, message: 'Origin not allowed' },
  VERIFY_TOKEN_MISMATCH: { status: 403, message: 'Verification token does not match' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route' },
  UNKNOWN_CHANNEL: { status: 404, message: 'Unknown WhatsApp channel' },
  AGENT_EXISTS: { status: 409, message: 'An agent with this username already exists' },
  OUTSIDE_SERVICE_WINDOW: { status: 409, message: 'The 24-hour customer-service window is closed: send a template instead' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Body exceeds 256 KiB' },
  RANGE_NOT_SATISFIABLE: { status: 416, message: 'The requested range is outside the file' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  INTERNAL: { status: 500, message: 'Internal error' },
  UPSTREAM_REJECTED: { status: 502, message: 'WhatsApp (Pinbot) refused the message' },
  STORE_UNAVAILABLE: { status: 503, message: 'Storage is unavailable' },
  NOT_READY: { status: 503, message: 'Service is not ready' },
  UPSTREAM_UNAVAILABLE: { status: 503, message: 'WhatsApp (Pinbot) is unavailable' },
  SHUTTING_DOWN: { status: 503, message: 'Service is shutting down' },
  // Load shedding: the client is told when to retry (Retry-After), and it is not logged as a fault.
  OVERLOADED: { status: 503, message: 'Too many acknowledged events are waiting to be applied; retry shortly', retryAfterS: 1 },
  // A race the client loses through no fault of its own (the chat moved pods or was written elsewhere): retry, not a fault.
  ACTOR_CONFLICT: { status: 503, message: 'The chat changed elsewhere while this request ran; retry shortly', retryAfterS: 1 },
  // The pod holding the chat did not answer a request routed to it in time (it may be overloaded, paused or gone).
  // The request may still be applied: retry it with the same id, which is applied once.
  OWNER_TIMEOUT: { status: 503, message: 'The pod holding this chat did not answer in time; retry shortly with the same request id', retryAfterS: 1 },
} as const satisfies Record<string, { status: number; message: string; retryAfterS?: number }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error meant for a client: its code and message are public, `cause` is not. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  /** Seconds the client should wait before retrying (`Retry-After`); set for load shedding and rate limits. */
  readonly retryAfterS: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    options?: { cause?: unknown; retryAfterS?: number },
  ) {
    super(message, options);
    this.status = ERRORS[code].status;
    const entry = ERRORS[code];
    this.retryAfterS = options?.retryAfterS ?? ('retryAfterS' in entry ? entry.retryAfterS : undefined);
  }
}

/** The public body of an error: `{status: 0, error: {code, message}}` (CONTRACT.md). */
export function errorBody(err: AppError): { status: 0; error: { code: ErrorCode; message: string } } {
  return { status: 0, error: { code: err.code, message: err.message } };
}

/** How an escaped error is answered (see ESCAPES). */
interface Escape {
  code: ErrorCode;
  /** Send the error's own message (a 4xx naming what was wrong). */
  publicMessage?: true;
  /** The public message, when the registry's default would mislead. */
  message?: string;
  /** The code by the error's `kind`, where the kind decides; else `code`. */
  kinds?: Record<string, ErrorCode>;
}

/**
 * What a client sees when an error that is not an AppError escapes to it. Every
 * error class in src/ has a row, keyed by its `name` so infra imports nothing
 * from domain or actors (test/unit/error-registry.test.ts holds the classes to
 * this table). Unless `publicMessage`, the client gets the registry's (or the
 * row's) message and the error itself stays the logged `cause`: a 5xx never
 * tells a client about internals.
 */
export const ESCAPES = {
  // domain/messages.ts: a builder refused the client's input; its message names the field.
  MessageBuildError: { code: 'VALIDATION_FAILED', publicMessage: true },
  // domain/webhook.ts: parseWebhook turns it into NOT_A_WEBHOOK itself; escaping, it would mean the same.
  WebhookRejected: { code: 'NOT_A_WEBHOOK', publicMessage: true },
  // actors/runtime/actor-host.ts: one actor's mailbox is full, i.e. load shedding for that chat.
  MailboxFullError: { code: 'OVERLOADED', message: 'Too many events are waiting for this chat; retry shortly' },
  // actors/runtime/actor-host.ts: fenced out, a newer stored version, or an earlier event failed; the record is reloaded, so a retry can succeed.
  ActorConflictError: { code: 'ACTOR_CONFLICT' },
  // infra/store: MongoDB (or the embedded store) down, or closed by shutdown; a duplicate key or bad query escaping is our bug.
  StoreError: { code: 'INTERNAL', kinds: { unavailable: 'STORE_UNAVAILABLE', closed: 'SHUTTING_DOWN' } },
  // infra/kv: Redis likewise; `bad_input` is our bug.
  KvError: { code: 'INTERNAL', kinds: { unavailable: 'STORE_UNAVAILABLE', closed: 'SHUTTING_DOWN' } },
  // infra/pinbot/rate-limiter.ts: no send slot within the wait, nothing sent; PinbotClient retries it as an attempt.
  RateLimitTimeout: { code: 'UPSTREAM_UNAVAILABLE' },
  // infra/pinbot/pinbot-client.ts: only the background media download meets it (recorded on the message); escaping, our bug.
  MediaTooLargeError: { code: 'INTERNAL' },
  // pinbot-client.ts: Pinbot refused a media download for good. Internal: the media job records it on the message (INTERNAL if it escaped).
  MediaRejectedError: { code: 'INTERNAL' },
  // infra/media: a file gone between its stat and its read (deleted meanwhile).
  MediaNotFoundError: { code: 'NOT_FOUND' },
  // infra/config.ts: the process exits at boot before serving anyone.
  ConfigError: { code: 'INTERNAL' },
  // infra/connect.ts, app.ts: likewise, start-up only.
  StartupError: { code: 'INTERNAL' },
} as const satisfies Record<string, Escape>;

/** Any thrown value as an AppError: AppErrors as they are, named errors by ESCAPES, anything else INTERNAL (details stay in the log). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (!(err instanceof Error) || !Object.hasOwn(ESCAPES, err.name)) return new AppError('INTERNAL', ERRORS.INTERNAL.message, { cause: err });
  const escape: Escape = ESCAPES[err.name as keyof typeof ESCAPES];
  const kind = (err as { kind?: unknown }).kind;
  const byKind = typeof kind === 'string' && escape.kinds && Object.hasOwn(escape.kinds, kind) ? escape.kinds[kind] : undefined;
  if (byKind) return new AppError(byKind, ERRORS[byKind].message, { cause: err });
  return new AppError(escape.code, escape.publicMessage ? err.message : (escape.message ?? ERRORS[escape.code].message), { cause: err });
}
