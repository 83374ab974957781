import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { AppError, errorBody, toAppError } from '../infra/errors.ts';
import type { Logger } from '../infra/logger.ts';
import type { Metrics } from '../infra/metrics.ts';
import { decodeSegment, parseClientJson } from './client-input.ts';
import type { HttpRateLimit } from './http-rate-limit.ts';
import { pipeBody, type StreamedBody } from './http-stream.ts';
import { logFailure, shield } from './shield.ts';
import type { HttpRequest, HttpResponse, TemplatedApp } from './uws.ts';

/** Bodies over this size are refused with 413 while they arrive (CONTRACT.md). */
export const BODY_LIMIT = 256 * 1024;

/** A request copied off uWS's stack-allocated object, safe to use after `await`. */
export interface Request {
  readonly method: string;
  readonly path: string;
  /** The route pattern, e.g. `/api/chats/whatsapp_chat/:channel` (a bounded metrics label). */
  readonly route: string;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  /** Lower-cased header names. */
  readonly headers: Readonly<Record<string, string>>;
  /** The raw body bytes (empty for GET). */
  readonly body: Buffer;
  /** The client's IP address as text: the TCP peer's, or with TRUST_PROXY_HOPS the one the outermost trusted proxy saw (`clientAddress`). */
  readonly remoteAddress: string;
  readonly reqId: string;
  readonly log: Logger;
  /** The body parsed as JSON; throws AppError BAD_JSON. */
  json(): unknown;
}

/**
 * The Request routes get. A class, not an object literal with getters: such a
 * literal, built per request, kept ~2.7 KB of every request alive past a young
 * collection (measured with --trace-gc-nvp: promoted to the old generation,
 * where only the slower full collections free it).
 */
class IncomingRequest implements Request {
  private parsedQuery: URLSearchParams | undefined;

  constructor(
    readonly method: string,
    readonly path: string,
    readonly route: string,
    readonly params: readonly string[],
    private readonly rawQuery: string,
    readonly headers: Readonly<Record<string, string>>,
    readonly body: Buffer,
    readonly reqId: string,
    readonly remoteAddress: string,
    private readonly logger: () => Logger,
  ) {}

  /** Parsed on first read: most routes (every webhook) never look at it. */
  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.rawQuery));
  }

  get log(): Logger {
    return this.logger();
  }

  json(): unknown {
    return parseClientJson(this.body, 'Body');
  }
}

export interface Reply {
  status?: number;
  /** Serialised as JSON. */
  json?: unknown;
  /** Sent as is (text/plain unless `contentType` says otherwise). */
  text?: string;
  /** Raw bytes (application/octet-stream unless `contentType` says otherwise). */
  bytes?: Uint8Array;
  /** A body streamed with backpressure (`http-stream.ts`); `contentType` as for `bytes`. */
  stream?: StreamedBody;
  contentType?: string;
  headers?: Record<string, string>;
}

export type Handler = (req: Request) => Reply | Promise<Reply>;

export interface RouteOptions {
  /** A request budget per client address: over it, 429 RATE_LIMITED with Retry-After before the handler runs. */
  rateLimit?: HttpRateLimit;
}

export interface HttpRouterOptions {
  log: Logger;
  metrics: Metrics;
  corsOrigins: readonly string[];
  bodyLimit?: number;
  /** Proxies in front of the pods that append to X-Forwarded-For (TRUST_PROXY_HOPS); 0 trusts no header. */
  trustProxyHops?: number;
}

/** The most a route that takes no body reads (and drops) of one sent to it before answering 413. */
const DROPPED_BODY_LIMIT = 8 * 1024 * 1024;

const CORS_ALLOW_HEADERS = 'authorization, content-type, x-request-id, x-hub-signature-256';
const CORS_ALLOW_METHODS = 'GET, POST, PUT, PATCH, DELETE, OPTIONS';

/**
 * The one way routes meet uWebSockets.js: aborts are tracked from the first
 * moment, body chunks are copied and capped as they arrive, every response is
 * corked and sent exactly once, and every failure leaves as a coded error body.
 */
export class HttpRouter {
  /** Every registered route, in order (for tests and documentation). */
  readonly routes: { method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'; pattern: string }[] = [];
  private inFlight = 0;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly bodyLimit: number;
  private readonly anyOrigin: boolean;

  constructor(
    private readonly app: TemplatedApp,
    private readonly opts: HttpRouterOptions,
  ) {
    this.bodyLimit = opts.bodyLimit ?? BODY_LIMIT;
    this.anyOrigin = opts.corsOrigins.includes('*');
    app.options('/*', shield(opts.log, 'preflight', (res: HttpResponse, req: HttpRequest) => this.preflight(res, req)));
  }

  /**
   * A GET route, answered to HEAD too (the same status and headers, no body),
   * unless `sideEffects` says it acts: then HEAD is 405, so a probe never sends anything.
   */
  get(pattern: string, handler: Handler, opts: RouteOptions & { sideEffects?: boolean } = {}): this {
    this.routes.push({ method: 'GET', pattern });
    this.app.get(pattern, this.entry(pattern, limited(handler, opts), false));
    const head: Handler = opts.sideEffects
      ? () => {
          throw new AppError('METHOD_NOT_ALLOWED', 'HEAD would run this GET, which acts: use GET');
        }
      : limited(handler, opts);
    this.app.head(pattern, this.entry(pattern, head, false));
    return this;
  }

  post(pattern: string, handler: Handler, opts: RouteOptions = {}): this {
    this.routes.push({ method: 'POST', pattern });
    this.app.post(pattern, this.entry(pattern, limited(handler, opts), true));
    return this;
  }

  put(pattern: string, handler: Handler, opts: RouteOptions = {}): this {
    this.routes.push({ method: 'PUT', pattern });
    this.app.put(pattern, this.entry(pattern, limited(handler, opts), true));
    return this;
  }

  patch(pattern: string, handler: Handler, opts: RouteOptions = {}): this {
    this.routes.push({ method: 'PATCH', pattern });
    this.app.patch(pattern, this.entry(pattern, limited(handler, opts), true));
    return this;
  }

  /** A DELETE route: it takes no body (one sent is read and dropped). */
  delete(pattern: string, handler: Handler, opts: RouteOptions = {}): this {
    this.routes.push({ method: 'DELETE', pattern });
    this.app.del(pattern, this.entry(pattern, limited(handler, opts), false));
    return this;
  }

  /** Answers every unmatched route with 404; register last. */
  fallback(): this {
    this.app.any('/*', this.entry('unmatched', (req) => {
      throw new AppError('NOT_FOUND', `No route for ${req.method} ${req.path.slice(0, 200)}`);
    }, false));
    return this;
  }

  /** The native callback for one route: `handle` answers its own failures; the shield catches what escapes even that. */
  private entry(route: string, handler: Handler, hasBody: boolean): (res: HttpResponse, req: HttpRequest) => void {
    return shield(this.opts.log, route, (res: HttpResponse, req: HttpRequest) => this.handle(res, req, route, handler, hasBody), (e, res) => {
      writeError(res, e, { close: true });
    });
  }

  /** From now on responses close their connection, so keep-alive clients move to other pods. */
  startDraining(): void {
    this.draining = true;
  }

  /** Resolves when no request is in flight, or after `timeoutMs`; returns how many were left. */
  async waitIdle(timeoutMs: number): Promise<number> {
    if (this.inFlight === 0) return 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    return this.inFlight;
  }

  private handle(res: HttpResponse, raw: HttpRequest, route: string, handler: Handler, hasBody: boolean): void {
    const started = performance.now();
    const state: { aborted: boolean; done: boolean; onAbort?: () => void } = { aborted: false, done: false };
    let method = 'UNKNOWN';
    let origin: string | undefined;
    this.inFlight++;
    res.onAborted(() => {
      state.aborted = true;
      state.onAbort?.();
      this.finish(route, method, 499, started);
    });
    let reqId = '';
    // A child logger costs microseconds: made only when a handler or an error logs.
    let child: Logger | undefined;
    const log = (): Logger => (child ??= this.opts.log.child({ reqId: reqId || undefined }));

    const send = (status: number, reply: Reply): void => {
      if (state.aborted || state.done) return void reply.stream?.source?.destroy();
      const { body, contentType } = encode(reply);
      state.done = true;
      const closeConnection = this.draining;
      const streamed = method === 'HEAD' ? undefined : reply.stream?.source;
      try {
        res.cork(() => {
          res.writeStatus(`${status} ${STATUS_CODES[status] ?? ''}`);
          res.writeHeader('content-type', contentType);
          res.writeHeader('x-content-type-options', 'nosniff');
          if (reqId) res.writeHeader('x-request-id', reqId);
          this.corsHeaders(res, origin);
          for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
          if (streamed) state.onAbort = pipeBody(res, streamed, reply.stream!.length, log(), (ok) => ok && this.finish(route, method, status, started));
          else if (method === 'HEAD') res.endWithoutBody(reply.stream?.length ?? (typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength), closeConnection);
          else res.end(body, closeConnection);
        });
        if (streamed) return; // finished when the last byte is handed over, or by onAborted
        reply.stream?.source?.destroy();
      } catch (err) {
        // Half a response cannot be taken back: drop the connection rather than leave the client waiting.
        log().error({ err, route }, 'writing the response failed');
        try {
          res.close();
        } catch {
          /* already gone */
        }
      }
      this.finish(route, method, status, started);
    };
    const fail = (err: unknown): void => {
      const e = toAppError(err);
      logFailure(log(), e, route);
      send(e.status, { json: errorBody(e), ...(e.retryAfterS === undefined ? {} : { headers: { 'retry-after': String(e.retryAfterS) } }) });
    };

    try {
      // Copy everything off the stack-allocated request before any async work.
      method = raw.getCaseSensitiveMethod().toUpperCase();
      const path = raw.getUrl();
      const rawQuery = raw.getQuery() ?? '';
      const headers: Record<string, string> = Object.create(null);
      raw.forEach((k, v) => {
        headers[k] = v;
      });
      origin = headers.origin;
      const remoteAddress = clientAddress(Buffer.from(res.getRemoteAddressAsText()).toString('utf8'), headers['x-forwarded-for'], this.opts.trustProxyHops ?? 0);
      const incomingId = headers['x-request-id'];
      reqId = incomingId && /^[\w.:-]{1,64}$/.test(incomingId) ? incomingId : randomUUID();
      const rawParams: string[] = [];
      for (let i = 0; route.includes(':') && i < 8; i++) {
        const p = raw.getParameter(i);
        if (p === undefined || p === '') break;
        rawParams.push(p);
      }
      // Decoded after the copy: a malformed escape is answered, not thrown into uWS.
      const params = rawParams.map(decodeSegment);

      const run = (body: Buffer): void => {
        const request = new IncomingRequest(method, path, route, params, rawQuery, headers, body, reqId, remoteAddress, log);
        Promise.resolve()
          .then(() => handler(request))
          .then((reply) => send(reply.status ?? 200, reply))
          .catch(fail);
      };

      // A body sent to a route that takes none is still read (and dropped) before the answer: answering
      // first and closing with unread bytes makes the kernel reset the connection, cutting the answer short.
      const declared = Number(headers['content-length'] ?? '0');
      if (!hasBody && !(declared > 0) && headers['transfer-encoding'] === undefined) return run(EMPTY);
      // A dropped body costs no memory, so only a far larger bound applies to it.
      const limit = hasBody ? this.bodyLimit : DROPPED_BODY_LIMIT;
      if (declared > limit) return this.tooLarge(res, state, route, method, started, origin);
      const chunks: Buffer[] = [];
      let received = 0;
      res.onData((chunk, isLast) => {
        try {
          if (state.done || state.aborted) return;
          received += chunk.byteLength;
          if (received > limit) return this.tooLarge(res, state, route, method, started, origin);
          if (hasBody) chunks.push(Buffer.from(new Uint8Array(chunk))); // uWS neuters the ArrayBuffer on return
          if (isLast) run(!hasBody ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
        } catch (err) {
          fail(err);
        }
      });
    } catch (err) {
      fail(err);
    }
  }

  private tooLarge(res: HttpResponse, state: { aborted: boolean; done: boolean }, route: string, method: string, started: number, origin?: string): void {
    if (state.done || state.aborted) return;
    state.done = true;
    // The rest of the body is never read, so the connection cannot be reused.
    writeError(res, new AppError('PAYLOAD_TOO_LARGE'), { close: true, headers: () => this.corsHeaders(res, origin) });
    this.finish(route, method, 413, started);
  }

  private preflight(res: HttpResponse, req: HttpRequest): void {
    const origin = req.getHeader('origin');
    if (!this.allows(origin)) return writeError(res, new AppError('CORS_ORIGIN_DENIED', `Origin ${origin || '(none)'} is not allowed`));
    res.cork(() => {
      res.writeStatus('204 No Content');
      this.corsHeaders(res, origin);
      res.writeHeader('access-control-allow-methods', CORS_ALLOW_METHODS);
      res.writeHeader('access-control-allow-headers', CORS_ALLOW_HEADERS);
      res.writeHeader('access-control-max-age', '600');
      res.endWithoutBody();
    });
  }

  private corsHeaders(res: HttpResponse, origin: string | undefined): void {
    if (!origin || !this.allows(origin)) return;
    res.writeHeader('access-control-allow-origin', origin);
    res.writeHeader('vary', 'origin');
  }

  private allows(origin: string): boolean {
    return origin !== '' && (this.anyOrigin || this.opts.corsOrigins.includes(origin));
  }

  private finish(route: string, method: string, status: number, started: number): void {
    this.opts.metrics.observeHttp(route, method, status, (performance.now() - started) / 1000);
    this.inFlight--;
    if (this.inFlight === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}

const EMPTY = Buffer.alloc(0);

/** The handler behind the route's rate limit, if it has one (checked before anything else the handler does). */
function limited(handler: Handler, opts: RouteOptions): Handler {
  const limit = opts.rateLimit;
  if (!limit) return handler;
  return (req) => {
    const wait = limit.take(req.remoteAddress);
    if (wait > 0) throw new AppError('RATE_LIMITED', `Too many ${limit.label} from this address: retry in ${wait} s`, { retryAfterS: wait });
    return handler(req);
  };
}

/**
 * The client's address: `peer` unless `hops` proxies are trusted, then the
 * X-Forwarded-For entry the outermost of them appended (`hops` from the right;
 * entries further left are whatever the client wrote). Too few entries: `peer`.
 */
export function clientAddress(peer: string, forwardedFor: string | undefined, hops: number): string {
  if (hops === 0 || !forwardedFor) return peer;
  const entries = forwardedFor.split(',').map((e) => e.trim());
  const entry = entries.length >= hops ? entries[entries.length - hops] : undefined;
  return entry && entry.length <= 64 ? entry : peer;
}

/**
 * Answers `e` as its coded JSON body, straight on the uWS response: for the
 * answers written outside a route's `send` (the last-resort guard, 413, a
 * refused preflight, a refused WebSocket upgrade). `headers` adds more before
 * the body; `close` ends the connection (a body left unread).
 */
export function writeError(res: HttpResponse, e: AppError, opts: { close?: boolean; headers?: () => void } = {}): void {
  res.cork(() => {
    res.writeStatus(`${e.status} ${STATUS_CODES[e.status] ?? ''}`).writeHeader('content-type', 'application/json').writeHeader('x-content-type-options', 'nosniff');
    opts.headers?.();
    res.end(JSON.stringify(errorBody(e)), opts.close ?? false);
  });
}

function encode(reply: Reply): { body: string | Uint8Array; contentType: string } {
  if (reply.bytes !== undefined) return { body: reply.bytes, contentType: reply.contentType ?? 'application/octet-stream' };
  if (reply.text !== undefined) return { body: reply.text, contentType: reply.contentType ?? 'text/plain; charset=utf-8' };
  return { body: JSON.stringify(reply.json ?? { status: 1 }), contentType: reply.contentType ?? 'application/json' };
}
