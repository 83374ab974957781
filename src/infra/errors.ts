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
  CANNED_RESPONSE_EXISTS: { status: 409, message: 'A canned response with this shortcode already exists' },
  LABEL_EXISTS: { status: 409, message: 'A label with this name already exists' },
  OUTSIDE_SERVICE_WINDOW: { status: 409, message: 'The 24-hour customer-service window is closed: send a template instead' },
  INVALID_TRANSITION: { status: 409, message: 'The chat is in a state that does not take this change' },
  NUMBER_IN_OTHER_TEAM: { status: 409, message: 'A WhatsApp number belongs to one team at most' },
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

/**
 * What an internal error class says a client gets should it escape: every
 * error class in src/ carries its `publicCode` (a registered code; a plain
 * string, so domain/ need not import this file) and, when its message is
 * written for the client, `publicMessage: true` — or the public message
 * itself. Otherwise the client gets the registry's message and the error
 * stays the logged `cause`: a 5xx never tells a client about internals.
 * test/unit/error-registry.test.ts holds every class in src/ to this.
 */
export interface PublicFailure {
  readonly publicCode: string;
  readonly publicMessage?: true | string;
}

/** Any thrown value as an AppError: AppErrors as they are, errors by the code they carry, anything else INTERNAL (details stay in the log). */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const { publicCode, publicMessage } = (err instanceof Error ? err : {}) as Partial<PublicFailure>;
  if (!(err instanceof Error) || typeof publicCode !== 'string' || !Object.hasOwn(ERRORS, publicCode)) {
    return new AppError('INTERNAL', ERRORS.INTERNAL.message, { cause: err });
  }
  const code = publicCode as ErrorCode;
  const message = publicMessage === true ? err.message : typeof publicMessage === 'string' ? publicMessage : ERRORS[code].message;
  return new AppError(code, message, { cause: err });
}
