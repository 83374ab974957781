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
  FORBIDDEN: { status: 403, message: 'Not allowed' },
  CORS_ORIGIN_DENIED: { status: 403, message: 'Origin not allowed' },
  VERIFY_TOKEN_MISMATCH: { status: 403, message: 'Verification token does not match' },
  NOT_FOUND: { status: 404, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route' },
  UNKNOWN_CHANNEL: { status: 404, message: 'Unknown WhatsApp channel' },
  OUTSIDE_SERVICE_WINDOW: { status: 409, message: 'The 24-hour customer-service window is closed: send a template instead' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'Body exceeds 256 KiB' },
  RATE_LIMITED: { status: 429, message: 'Too many requests' },
  INTERNAL: { status: 500, message: 'Internal error' },
  UPSTREAM_REJECTED: { status: 502, message: 'WhatsApp (Pinbot) refused the message' },
  STORE_UNAVAILABLE: { status: 503, message: 'Storage is unavailable' },
  NOT_READY: { status: 503, message: 'Service is not ready' },
  UPSTREAM_UNAVAILABLE: { status: 503, message: 'WhatsApp (Pinbot) is unavailable' },
  SHUTTING_DOWN: { status: 503, message: 'Service is shutting down' },
  // Load shedding: the client is told when to retry (Retry-After), and it is not logged as a fault.
  OVERLOADED: { status: 503, message: 'Too many acknowledged events are waiting to be applied; retry shortly', retryAfterS: 1 },
} as const satisfies Record<string, { status: number; message: string; retryAfterS?: number }>;

export type ErrorCode = keyof typeof ERRORS;

/** An error meant for a client: its code and message are public, `cause` is not. */
export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;
  /** Seconds the client should wait before retrying; set for load shedding. */
  readonly retryAfterS: number | undefined;
  constructor(
    readonly code: ErrorCode,
    message: string = ERRORS[code].message,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.status = ERRORS[code].status;
    const entry = ERRORS[code];
    this.retryAfterS = 'retryAfterS' in entry ? entry.retryAfterS : undefined;
  }
}

/** The public body of an error: `{status: 0, error: {code, message}}` (CONTRACT.md). */
export function errorBody(err: AppError): { status: 0; error: { code: ErrorCode; message: string } } {
  return { status: 0, error: { code: err.code, message: err.message } };
}

/** Any thrown value as an AppError; unknown failures become INTERNAL (details stay in the log). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  // Message builders (src/domain/messages.ts) refuse input with MessageBuildError; matched by name to keep infra free of domain imports.
  if (err instanceof Error && err.name === 'MessageBuildError') return new AppError('VALIDATION_FAILED', err.message, { cause: err });
  return new AppError('INTERNAL', ERRORS.INTERNAL.message, { cause: err });
}
