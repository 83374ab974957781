import { randomUUID } from 'node:crypto';
import { AppError, errorBody, toAppError } from '../infra/errors.ts';
import type { Identity } from '../infra/jwt.ts';
import type { Logger } from '../infra/logger.ts';
import { DASHBOARD_ROOM, agentRoom, type RoomPublisher } from '../actors/runtime/room-publisher.ts';
import { bearerToken, type Authenticator } from './auth.ts';
import { assertSafeJson, decodeSegment, parseJson } from './client-input.ts';
import { writeError } from './http.ts';
import { logFailure, shield } from './shield.ts';
import type { TemplatedApp, WebSocket } from './uws.ts';

/** Frames over this size close the connection (CONTRACT.md). */
export const MAX_FRAME = 64 * 1024;
/** A client this far behind on reading is dropped rather than buffered without bound. */
export const MAX_BACKPRESSURE = 1024 * 1024;
/** Per-connection rate limit: a bucket of 40 frames refilled at 20 per second. */
const BURST = 40;
const PER_SECOND = 20;

export const CLOSE_GOING_AWAY = 1001;
/** Close code for a connection whose token expired or was revoked (4000-4999 are the application's; 4401 mirrors HTTP 401). */
export const CLOSE_TOKEN_EXPIRED = 4401;
/** Close code for `/ws/{chat_id}` of a chat that does not exist (after a NOT_FOUND error frame; mirrors HTTP 404). */
export const CLOSE_CHAT_NOT_FOUND = 4404;
/** Close code when `/ws/{chat_id}` could not be checked (a store down): 1013 "try again later". */
export const CLOSE_TRY_AGAIN_LATER = 1013;
/** The longest delay setTimeout honours (2^31 - 1 ms, ~24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface Connection {
  readonly id: string;
  readonly identity: Identity;
  readonly rooms: Set<string>;
  /** Set once the socket is gone: nothing may be sent on it after that. */
  closed: boolean;
  tokens: number;
  refilledAt: number;
  chatId?: string;
  /** Closes the connection when the token expires. */
  expiry?: NodeJS.Timeout;
}

/** What read-cursor bookkeeping needs of a pushed message. */
export interface ShownMessage {
  seq: number;
  sender: string;
}

const NEW_MESSAGE = 'new_message';
/** How `publish` serialises a `new_message` push: another pod's copy is recognised without parsing every push. */
const NEW_MESSAGE_PREFIX = `{"event":"${NEW_MESSAGE}"`;

export interface Frame {
  event: string;
  data: unknown;
  id: string | number | null;
}

export type FrameHandler = (conn: Connection, frame: Frame) => Promise<unknown>;

/** Carries pushes to the other pods (Redis Pub/Sub `ws:chat:{room}`); absent with one pod. */
export interface RoomFanout {
  /** Whether some other pod may have members in `room` (only then is a push sent). */
  reaches(room: string): boolean;
  send(room: string, payload: string): void;
  /** The first local member joined `room` / the last one left. */
  watch(room: string): void;
  unwatch(room: string): void;
}

/**
 * The agent WebSocket (`/ws`, `/ws/{chat_id}`): token-checked upgrades, rooms
 * as uWS topics (fan-out happens in native code), one JSON frame in → one
 * reply out with the same id, coded errors that never close the connection,
 * a per-connection rate limit, and a bound on what a slow reader may pile up.
 */
export class WsHub implements RoomPublisher {
  private readonly sockets = new Map<string, WebSocket<Connection>>();
  private handler: FrameHandler = async () => {
    throw new AppError('UNKNOWN_EVENT');
  };
  /** Called with (conn, room) when a connection leaves a room or closes (presence bookkeeping). */
  onLeave: (conn: Connection, room: string) => void = () => undefined;
  /**
   * Checks the chat of a `/ws/{chat_id}` connection once it is open (and records its presence);
   * rejects with NOT_FOUND for a chat that does not exist. Until set, every chat is taken.
   */
  onChatConnection: (conn: Connection, chatId: string) => Promise<void> = async () => undefined;
  /**
   * Called with a chat room's local agents (their token identities, each once) when a `new_message`
   * is pushed to it — from this pod or another: the message is shown to them (read-cursor bookkeeping).
   */
  onMessageShown: (room: string, agents: string[], message: ShownMessage) => void = () => undefined;
  /** Called when a connection opens and when it closes (agent availability: an agent with no socket anywhere goes offline). */
  onConnection: (conn: Connection, open: boolean) => void = () => undefined;
  /** Local connections per room, so other pods' pushes are subscribed to only for rooms with members here. */
  private readonly members = new Map<string, Set<Connection>>();
  private fanout: RoomFanout | undefined;

  constructor(
    private readonly app: TemplatedApp,
    private readonly opts: { log: Logger; auth: Authenticator },
  ) {
    const { log } = opts;
    // `/ws/` (an empty chat id) is the dashboard connection, like `/ws`.
    for (const pattern of ['/ws', '/ws/', '/ws/:chat_id']) {
      app.ws<Connection>(pattern, {
        maxPayloadLength: MAX_FRAME,
        maxBackpressure: MAX_BACKPRESSURE,
        closeOnBackpressureLimit: 1,
        idleTimeout: 120,
        sendPingsAutomatically: true,
        upgrade: shield(log, `upgrade ${pattern}`, (res, req, context) => {
          // Copied off the stack-allocated request first; only then can anything throw.
          const url = req.getUrl();
          const headers = { authorization: req.getHeader('authorization') };
          const query = new URLSearchParams(req.getQuery() ?? '');
          const key = req.getHeader('sec-websocket-key');
          const protocol = req.getHeader('sec-websocket-protocol');
          const extensions = req.getHeader('sec-websocket-extensions');
          // The token check may read the account (revocation): the upgrade finishes after it, unless the client left.
          let aborted = false;
          res.onAborted(() => {
            aborted = true;
          });
          opts.auth
            .token(bearerToken(headers) ?? (query.get('token') || undefined))
            .then((identity) => {
              if (aborted) return;
              // Read after the token: a caller without one learns nothing about paths.
              const chatId = url.startsWith('/ws/') ? chatIdOf(url.slice(4)) : undefined;
              const conn: Connection = { id: randomUUID(), identity, rooms: new Set(), closed: false, tokens: BURST, refilledAt: Date.now(), ...(chatId ? { chatId } : {}) };
              res.cork(() => res.upgrade(conn, key, protocol, extensions, context));
            })
            .catch((err: unknown) => {
              if (aborted) return;
              const e = toAppError(err);
              logFailure(log, e, `upgrade ${pattern}`);
              try {
                writeError(res, e);
              } catch (again) {
                log.error({ err: again }, 'refusing a WebSocket upgrade failed');
              }
            });
        }, (e, res) => {
          writeError(res, e);
        }),
        open: shield(log, 'ws open', (ws) => {
          const conn = ws.getUserData();
          this.sockets.set(conn.id, ws);
          this.join(ws, DASHBOARD_ROOM);
          this.join(ws, agentRoom(conn.identity.sub));
          this.onConnection(conn, true);
          // In the room from the first moment (no push is missed while the chat is looked up); out again if it does not exist.
          if (conn.chatId) {
            this.join(ws, conn.chatId);
            void this.checkChat(ws, conn, conn.chatId);
          }
          this.closeAtExpiry(ws, conn);
        }),
        message: shield(log, 'ws message', (ws, message) => {
          const conn = ws.getUserData();
          // Counted before anything is read, so junk frames spend the sender's budget too.
          const allowed = this.take(conn);
          const bytes = Buffer.from(new Uint8Array(message)); // copied: uWS neuters the buffer on return
          void this.onFrame(ws, conn, bytes, allowed);
        }),
        close: shield(log, 'ws close', (ws) => {
          const conn = ws.getUserData();
          conn.closed = true;
          clearTimeout(conn.expiry);
          this.sockets.delete(conn.id);
          for (const room of conn.rooms) this.left(conn, room);
          this.onConnection(conn, false);
        }),
      });
    }
  }

  /** Sets the function that answers frames (the agent events). */
  handle(handler: FrameHandler): void {
    this.handler = handler;
  }

  /** Most chat rooms have no member on any pod (only agents with the chat open join one). */
  reaches(room: string): boolean {
    return this.members.has(room) || (this.fanout?.reaches(room) ?? false);
  }

  publish(room: string, event: string, data: unknown): void {
    const local = this.members.has(room);
    const remote = this.fanout?.reaches(room) ?? false;
    if (!local && !remote) return; // nothing to hand uWS, nothing to serialise
    const payload = JSON.stringify({ event, data });
    if (local) this.app.publish(topic(room), payload);
    if (remote) this.fanout?.send(room, payload);
    if (local && event === NEW_MESSAGE) this.shown(room, data);
  }

  /** A push another pod published: to this pod's members of the room only. */
  deliverLocal(room: string, payload: string): void {
    this.app.publish(topic(room), payload);
    if (!payload.startsWith(NEW_MESSAGE_PREFIX) || !this.members.has(room)) return;
    try {
      this.shown(room, (JSON.parse(payload) as { data: unknown }).data);
    } catch (err) {
      this.opts.log.warn({ err, room }, 'a new_message push from another pod could not be read');
    }
  }

  /** Connects the hub to the other pods; rooms that already have members are watched at once. */
  setFanout(fanout: RoomFanout): void {
    this.fanout = fanout;
    for (const room of this.members.keys()) fanout.watch(room);
  }

  /** Subscribes the connection with `connId` to a room. */
  joinRoom(conn: Connection, room: string): void {
    const ws = this.find(conn);
    if (ws) this.join(ws, room);
  }

  leaveRoom(conn: Connection, room: string): void {
    const ws = this.find(conn);
    if (!ws || !conn.rooms.delete(room)) return;
    ws.unsubscribe(topic(room));
    this.left(conn, room);
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /**
   * Closes, with 4401, the connections whose token no longer stands (an
   * account disabled, or its password or role changed): those of `username`,
   * or all. Resolves to how many it closed; a connection whose check fails
   * (the store is down) stays open until the next check.
   */
  async revalidate(username?: string): Promise<number> {
    let closed = 0;
    const checks = [...this.sockets.values()].map(async (ws) => {
      const conn = ws.getUserData();
      if (conn.identity.tv === undefined || (username !== undefined && conn.identity.sub !== username)) return;
      if (await this.opts.auth.isCurrent(conn.identity)) return;
      if (conn.closed) return;
      closed++;
      ws.end(CLOSE_TOKEN_EXPIRED, 'token revoked');
    });
    const failed = (await Promise.allSettled(checks)).filter((r) => r.status === 'rejected');
    if (failed.length > 0) this.opts.log.warn({ err: (failed[0] as PromiseRejectedResult).reason, connections: failed.length }, 'token check of open WebSockets failed; retried at the next check');
    return closed;
  }

  /** Closes every connection with `code` (1001 on shutdown), so dashboards reconnect to another pod. */
  closeAll(code = CLOSE_GOING_AWAY, reason = 'server shutting down'): void {
    for (const ws of [...this.sockets.values()]) ws.end(code, reason);
  }

  private join(ws: WebSocket<Connection>, room: string): void {
    const conn = ws.getUserData();
    if (conn.rooms.has(room)) return;
    conn.rooms.add(room);
    ws.subscribe(topic(room));
    const here = this.members.get(room);
    if (here) return void here.add(conn);
    this.members.set(room, new Set([conn]));
    this.fanout?.watch(room);
  }

  private left(conn: Connection, room: string): void {
    this.onLeave(conn, room);
    const here = this.members.get(room);
    here?.delete(conn);
    if (here && here.size > 0) return;
    this.members.delete(room);
    this.fanout?.unwatch(room);
  }

  /** Tells `onMessageShown` which local agents a chat room's `new_message` was just pushed to. */
  private shown(room: string, data: unknown): void {
    const here = this.members.get(room);
    if (room === DASHBOARD_ROOM || !here) return;
    const m = data as Partial<ShownMessage> | null;
    if (typeof m?.seq !== 'number' || typeof m.sender !== 'string') return;
    const agents = new Set<string>();
    for (const conn of here) if (!conn.closed) agents.add(conn.identity.sub);
    if (agents.size > 0) this.onMessageShown(room, [...agents], { seq: m.seq, sender: m.sender });
  }

  private find(conn: Connection): WebSocket<Connection> | undefined {
    return conn.closed ? undefined : this.sockets.get(conn.id);
  }

  /** Answers one frame; one over the rate (`allowed` false) is only read for its id, to say which request was refused. */
  private async onFrame(ws: WebSocket<Connection>, conn: Connection, bytes: Buffer, allowed: boolean): Promise<void> {
    let frame: Frame = { event: 'error', data: undefined, id: null };
    try {
      const limited = () => new AppError('RATE_LIMITED', `More than ${PER_SECOND} frames per second`);
      let raw: Record<string, unknown>;
      try {
        raw = parseFrame(bytes);
      } catch (err) {
        throw allowed ? err : limited();
      }
      frame.id = frameId(raw); // read first, so even a refused frame's error names its request
      if (!allowed) throw limited();
      assertSafeJson(raw, 'Frame');
      frame = toFrame(raw, frame.id);
      const data = await this.handler(conn, frame);
      this.send(ws, conn, { event: frame.event, id: frame.id, data });
    } catch (err) {
      const e = toAppError(err);
      if (e.status >= 500) logFailure(this.opts.log, e, `ws ${frame.event}`); // retryable 503s at info, faults at error
      this.send(ws, conn, { event: 'error', id: frame.id, error: errorBody(e).error });
    }
  }

  /**
   * A browser cannot read the status of a refused upgrade, so an unknown chat is said on the open
   * connection: a NOT_FOUND error frame (id null), then close 4404. A check that could not be made
   * (store down) closes with 1013, after its coded error frame, so the client retries.
   */
  private async checkChat(ws: WebSocket<Connection>, conn: Connection, chatId: string): Promise<void> {
    try {
      await this.onChatConnection(conn, chatId);
    } catch (err) {
      if (conn.closed) return;
      const e = toAppError(err);
      if (e.status >= 500) logFailure(this.opts.log, e, 'ws /ws/{chat_id}');
      this.leaveRoom(conn, chatId);
      this.send(ws, conn, { event: 'error', id: null, error: errorBody(e).error });
      ws.end(e.code === 'NOT_FOUND' ? CLOSE_CHAT_NOT_FOUND : CLOSE_TRY_AGAIN_LATER, e.code === 'NOT_FOUND' ? 'chat not found' : 'try again later');
    }
  }

  /** Ends the connection when its token expires (a timer at most MAX_TIMER_MS ahead, re-armed until then). */
  private closeAtExpiry(ws: WebSocket<Connection>, conn: Connection): void {
    const left = conn.identity.exp * 1000 - Date.now();
    conn.expiry = setTimeout(() => {
      if (conn.closed) return;
      if (conn.identity.exp * 1000 > Date.now()) return this.closeAtExpiry(ws, conn);
      ws.end(CLOSE_TOKEN_EXPIRED, 'token expired');
    }, Math.min(Math.max(0, left), MAX_TIMER_MS));
    conn.expiry.unref();
  }

  private send(ws: WebSocket<Connection>, conn: Connection, payload: unknown): void {
    if (conn.closed) return;
    try {
      const text = JSON.stringify(payload);
      ws.cork(() => ws.send(text));
    } catch (err) {
      this.opts.log.error({ err, conn: conn.id }, 'sending a frame failed');
    }
  }

  private take(conn: Connection): boolean {
    const now = Date.now();
    conn.tokens = Math.min(BURST, conn.tokens + ((now - conn.refilledAt) / 1000) * PER_SECOND);
    conn.refilledAt = now;
    if (conn.tokens < 1) return false;
    conn.tokens -= 1;
    return true;
  }
}

function topic(room: string): string {
  return `room:${room}`;
}

/** A frame as a JSON object (VALIDATION_FAILED otherwise: the WebSocket's codes have no BAD_JSON). */
function parseFrame(bytes: Buffer): Record<string, unknown> {
  let raw: unknown;
  try {
    raw = parseJson(bytes, 'Frame');
  } catch (err) {
    throw new AppError('VALIDATION_FAILED', (err as Error).message);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new AppError('VALIDATION_FAILED', 'Frame must be a JSON object');
  return raw as Record<string, unknown>;
}

/** The chat id of `/ws/{chat_id}`: percent-decoded (BAD_ENCODING if malformed), at most 64 characters. */
function chatIdOf(segment: string): string | undefined {
  const id = decodeSegment(segment);
  if (id.length > 64) throw new AppError('VALIDATION_FAILED', 'chat_id: at most 64 characters');
  return id || undefined;
}

function frameId(raw: Record<string, unknown>): Frame['id'] {
  const { id } = raw;
  return (typeof id === 'string' && id.length <= 128 && id.isWellFormed()) || (typeof id === 'number' && Number.isFinite(id)) ? id : null;
}

function toFrame(raw: Record<string, unknown>, id: Frame['id']): Frame {
  if (typeof raw.event !== 'string' || raw.event === '') throw new AppError('VALIDATION_FAILED', 'event: expected a non-empty string');
  return { event: raw.event, data: raw.data ?? {}, id };
}
