/**
 * The agent WebSocket: request/reply by id, pushes to one listener, and
 * reconnection with capped exponential backoff and jitter. Close code 4401
 * (token expired or revoked) and a refused upgrade whose token no longer
 * works on HTTP either end the session instead of retrying.
 */
import { signal } from '@preact/signals';
import { SESSION_ENDED } from './api.ts';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export interface Push {
  event: string;
  data: any;
}

interface Pending {
  resolve: (data: any) => void;
  reject: (err: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

export class WsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BACKOFF_MS = 10_000;
const REQUEST_TIMEOUT_MS = 15_000;
/** A silent network drop leaves a socket that looks open: a small request this often, and no answer within the timeout, means reconnect. */
const HEARTBEAT_MS = 10_000;
const HEARTBEAT_TIMEOUT_MS = 5_000;

export class ConsoleSocket {
  readonly state = signal<ConnectionState>('connecting');
  private ws: WebSocket | undefined;
  private readonly pending = new Map<string, Pending>();
  private counter = 0;
  private attempt = 0;
  private opened = false;
  private stopped = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly token: string,
    private readonly on: {
      push(p: Push): void;
      /** Each time the connection opens; `again` after a reconnect. */
      open(again: boolean): void;
      authLost(reason: string): void;
    },
  ) {
    this.connect();
  }

  private connect(): void {
    if (this.stopped) return;
    const proto = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${proto}://${location.host}/ws?token=${encodeURIComponent(this.token)}`);
    this.ws = ws;
    let openedThis = false;
    ws.onopen = () => {
      openedThis = true;
      const again = this.opened;
      this.opened = true;
      this.attempt = 0;
      this.state.value = 'open';
      this.on.open(again);
      clearInterval(this.heartbeat);
      this.heartbeat = setInterval(() => {
        if (this.ws !== ws) return;
        void this.request('config', {}, HEARTBEAT_TIMEOUT_MS).catch((err: WsError) => {
          if (err.code === 'TIMEOUT' && this.ws === ws) this.dropped(ws);
        });
      }, HEARTBEAT_MS);
    };
    ws.onmessage = (e: MessageEvent<string>) => {
      let frame: { event?: string; id?: string | number | null; data?: unknown; error?: { code: string; message: string } };
      try {
        frame = JSON.parse(e.data) as typeof frame;
      } catch {
        return;
      }
      const waiting = frame.id !== undefined && frame.id !== null ? this.pending.get(String(frame.id)) : undefined;
      if (waiting) {
        this.pending.delete(String(frame.id));
        clearTimeout(waiting.timer);
        if (frame.event === 'error') waiting.reject(new WsError(frame.error?.code ?? 'INTERNAL', frame.error?.message ?? 'Request failed'));
        else waiting.resolve(frame.data);
      } else if (typeof frame.event === 'string') this.on.push({ event: frame.event, data: frame.data });
    };
    ws.onclose = (e: CloseEvent) => {
      if (this.ws !== ws) return;
      this.ws = undefined;
      clearInterval(this.heartbeat);
      for (const [id, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(new WsError('DISCONNECTED', 'The connection dropped before the answer came; it will be retried when it is back'));
        this.pending.delete(id);
      }
      if (this.stopped) return;
      if (e.code === 4401) return this.lost();
      this.state.value = 'reconnecting';
      // An upgrade refused before opening may be a revoked token: ask HTTP, which says 401 plainly.
      if (!openedThis) void this.tokenStillWorks().then((ok) => (ok ? this.scheduleRetry() : this.lost()));
      else this.scheduleRetry();
    };
  }

  /** The socket stopped answering: give up on it (its close event may come much later) and reconnect. */
  private dropped(ws: WebSocket): void {
    ws.onclose = null;
    ws.onmessage = null;
    ws.close();
    this.ws = undefined;
    clearInterval(this.heartbeat);
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new WsError('DISCONNECTED', 'The connection stopped answering; reconnecting'));
      this.pending.delete(id);
    }
    this.state.value = 'reconnecting';
    this.scheduleRetry();
  }

  private async tokenStillWorks(): Promise<boolean> {
    try {
      const res = await fetch('/api/dashboard/stats', { headers: { authorization: `Bearer ${this.token}` } });
      return res.status !== 401;
    } catch {
      return true; // the server is unreachable: keep trying
    }
  }

  private scheduleRetry(): void {
    if (this.stopped) return;
    const base = Math.min(MAX_BACKOFF_MS, 300 * 2 ** this.attempt);
    this.attempt++;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), base / 2 + Math.random() * (base / 2));
  }

  private lost(): void {
    this.close();
    this.on.authLost(SESSION_ENDED);
  }

  /** Sends one event and resolves with its reply's `data` (rejects with WsError on an error frame). */
  request<T = any>(event: string, data: Record<string, unknown> = {}, timeoutMs = REQUEST_TIMEOUT_MS): Promise<T> {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.reject(new WsError('DISCONNECTED', 'Not connected: reconnecting…'));
    const id = `c${++this.counter}`;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new WsError('TIMEOUT', `No answer to ${event} within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      ws.send(JSON.stringify({ event, data, id }));
    });
  }

  close(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeat);
    this.state.value = 'closed';
    const ws = this.ws;
    this.ws = undefined;
    ws?.close(1000, 'signed out');
  }
}
