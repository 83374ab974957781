/**
 * Clients for the fuzz suites: raw HTTP requests and WebSocket upgrades
 * through node:http (the path leaves byte for byte; fetch and `ws` would
 * re-encode or resolve it), a WebSocket that sends one frame at a time and
 * collects its replies, and the checks every answer must pass.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import WebSocket from 'ws';
import { ERRORS } from '../../src/infra/errors.ts';
import type { AgentEvent } from '../../src/transport/ws-events.ts';
import { checkFrame, checkHttp } from './api-check.ts';

export interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: any;
  /** Why /api/openapi.json does not describe this answer (undefined when it does). */
  apiProblem?: string | undefined;
}

/** A description of one request, for failure messages. */
export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer;
}

export function describeRequest(r: RawRequest): string {
  const body = r.body === undefined ? '' : ` body(${r.body.length} B)=${JSON.stringify(r.body.subarray(0, 300).toString('latin1'))}`;
  const headers = Object.entries(r.headers ?? {});
  const shown = JSON.stringify(Object.fromEntries(headers.map(([k, v]) => [k, v.length > 200 ? `${v.slice(0, 200)}…(${v.length} chars)` : v])));
  return `${r.method} ${JSON.stringify(r.path.slice(0, 300))}${r.path.length > 300 ? `…(${r.path.length} chars)` : ''} ${headers.length} headers=${shown.slice(0, 600)}${body}`;
}

/**
 * Sends one request on its own connection and resolves with the answer;
 * rejects when the connection drops before an answer or nothing arrives
 * within `timeoutMs` (a hang).
 */
export function rawRequest(port: number, r: RawRequest, timeoutMs = 10_000): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, a?: RawAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(a!);
    };
    // A body always goes with its Content-Length: node:http would send a GET's body unframed, which
    // is not HTTP (the bytes read as a second, garbage request, and the server rightly drops the connection).
    const length: Record<string, string> = r.body === undefined ? {} : { 'content-length': String(Buffer.byteLength(r.body)) };
    const req = request({ host: '127.0.0.1', port, method: r.method, path: r.path, agent: false, headers: { connection: 'close', ...length, ...r.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => done(new Error(`response broken: ${e.message}`)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        const method = r.method.toUpperCase();
        const apiProblem = method === 'OPTIONS' ? undefined : checkHttp(method, r.path.split('?')[0]!, res.statusCode ?? 0, String(res.headers['content-type'] ?? ''), text);
        done(undefined, { status: res.statusCode ?? 0, headers: res.headers, text, json, apiProblem });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      done(new Error(`no answer within ${timeoutMs} ms (hang)`));
    }, timeoutMs);
    req.on('error', (e) => done(new Error(`connection dropped: ${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`)));
    req.end(r.body);
  });
}

const CODES = new Set(Object.keys(ERRORS));

/**
 * What every HTTP answer must be: a success (2xx, a JSON success body says
 * `status: 1`), or an error status with `{status: 0, error: {code, message}}`
 * whose code is registered, whose status is that code's, and which is not
 * INTERNAL (a fault, not an answer to bad input).
 */
export function assertRegisteredAnswer(a: RawAnswer, method: string, what: string): void {
  const isJson = String(a.headers['content-type'] ?? '').startsWith('application/json');
  assert.equal(a.apiProblem, undefined, `${what}: an answer /api/openapi.json does not describe`);
  if (a.status >= 200 && a.status < 300) {
    assert.ok(a.status === 200 || (a.status === 204 && method === 'OPTIONS'), `${what}: success status ${a.status}`);
    if (isJson && method !== 'HEAD') assert.equal(a.json?.status, 1, `${what}: success body ${a.text.slice(0, 300)}`);
    return;
  }
  assert.ok(a.status >= 400 && a.status < 600, `${what}: status ${a.status} is neither a success nor an error`);
  if (method === 'HEAD') return;
  assert.ok(isJson, `${what}: error ${a.status} with content-type ${String(a.headers['content-type'])}: ${a.text.slice(0, 300)}`);
  const code = a.json?.error?.code as string | undefined;
  assert.ok(code !== undefined && CODES.has(code), `${what}: error code ${String(code)} is not in ERRORS: ${a.text.slice(0, 300)}`);
  assert.notEqual(code, 'INTERNAL', `${what}: answered 500 INTERNAL`);
  assert.equal(a.status, ERRORS[code as keyof typeof ERRORS].status, `${what}: status ${a.status} for ${code}`);
  assert.equal(a.json.status, 0, `${what}: error body without status 0`);
  assert.equal(typeof a.json.error.message, 'string', `${what}: error without a message`);
}

/**
 * A WebSocket upgrade through node:http with `path` sent as is; resolves with
 * the status (101 when upgraded, then the socket is closed). Rejects on a
 * dropped connection or a hang.
 */
export function rawUpgrade(port: number, path: string, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err: Error | undefined, v?: { status: number; json: any }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(v!);
    };
    const req = request({
      host: '127.0.0.1', port, path, agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': randomBytes(16).toString('base64'), ...headers },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      done(undefined, { status: res.statusCode ?? 101, json: undefined });
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        done(undefined, { status: res.statusCode ?? 0, json });
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      done(new Error(`no answer to the upgrade within ${timeoutMs} ms (hang)`));
    }, timeoutMs);
    req.on('error', (e) => done(new Error(`upgrade connection dropped: ${(e as NodeJS.ErrnoException).code ?? ''} ${e.message}`)));
    req.end();
  });
}

export interface WsReply {
  event: string;
  id?: unknown;
  data?: unknown;
  error?: { code: string; message: string };
}

/**
 * One agent connection used one frame at a time: `send` resolves with every
 * reply (a frame carrying an `id` key; pushes carry none) that arrived after
 * the frame went out, once the first has come and `settleMs` passed without
 * another. A closed connection or no reply within `timeoutMs` rejects.
 */
export class SequentialSocket {
  private replies: WsReply[] = [];
  private wake: (() => void) | undefined;
  closed: { code: number; reason: string } | undefined;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      let frame: WsReply;
      try {
        frame = JSON.parse(raw.toString()) as WsReply;
      } catch {
        frame = { event: '(not JSON)', id: undefined, data: raw.toString().slice(0, 200) };
      }
      if (!Object.hasOwn(frame, 'id')) return; // a push
      this.replies.push(frame);
      this.wake?.();
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.wake?.();
    });
  }

  static async open(url: string): Promise<SequentialSocket> {
    const ws = new WebSocket(url);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_q, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return new SequentialSocket(ws);
  }

  /** Replies that arrived while no frame was waiting (a second reply to an earlier frame). */
  takeStray(): WsReply[] {
    return this.replies.splice(0);
  }

  async send(frame: string | Buffer, binary: boolean, timeoutMs = 10_000, settleMs = 5): Promise<WsReply[]> {
    const closed = () => (this.closed ? `${this.closed.code} ${this.closed.reason}` : undefined);
    if (closed()) throw new Error(`connection already closed (${closed()})`);
    const stray = this.takeStray();
    if (stray.length > 0) throw new Error(`reply with no frame waiting: ${JSON.stringify(stray).slice(0, 400)}`);
    this.ws.send(frame, { binary });
    const deadline = Date.now() + timeoutMs;
    while (this.replies.length === 0) {
      if (closed()) throw new Error(`connection closed (${closed()}) instead of a reply`);
      if (Date.now() > deadline) throw new Error(`no reply within ${timeoutMs} ms (hang)`);
      await this.nextEvent(deadline - Date.now());
    }
    await new Promise((r) => setTimeout(r, settleMs));
    if (closed()) throw new Error(`connection closed (${closed()}) after the reply`);
    return this.replies.splice(0);
  }

  private nextEvent(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, Math.max(1, ms));
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wake = () => {
        this.wake = undefined;
        done();
      };
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((r) => {
      this.ws.once('close', () => r());
      this.ws.close();
    });
  }
}

/** Events of `src/transport/ws-events.ts`: spec FR-3's ten, `fetch_missed`, `retry_media` and the team inbox's. */
export const AGENT_EVENTS = [
  'config', 'search_chat', 'fetch_all_chats', 'fetch_chats_by_user', 'new_chat', 'join_chat',
  'join_chat_customer', 'send_message', 'leave_chat', 'update_chat_status', 'fetch_missed', 'retry_media',
  'set_availability', 'fetch_agents', 'assign_chat', 'set_chat_status', 'snooze_chat', 'send_note', 'add_label', 'remove_label', 'typing', 'inbox_counts',
] as const satisfies readonly AgentEvent[];
// Every event the server knows is generated: one added to ws-events.ts fails the typecheck here until it is listed above.
export const ALL_AGENT_EVENTS_LISTED: [Exclude<AgentEvent, (typeof AGENT_EVENTS)[number]>] extends [never] ? true : never = true;

/** The id a reply must carry: the frame's id when it is readable (a short well-formed string or a finite number), else null. */
export function expectedReplyId(sent: unknown): { exact: unknown } | { nullOrSame: unknown } {
  if (typeof sent !== 'object' || sent === null || Array.isArray(sent) || !Object.hasOwn(sent, 'id')) return { exact: null };
  const id = (sent as { id: unknown }).id;
  if (typeof id === 'number') return { exact: Number.isFinite(id) ? id : null };
  if (typeof id === 'string') return id.length <= 128 && id.isWellFormed() ? { exact: id } : { nullOrSame: id };
  return { exact: null };
}

/**
 * What every WebSocket reply must be: exactly one, with the frame's id (see
 * `expectedReplyId`); an error with a registered code other than INTERNAL,
 * or the frame's own event with `data`.
 */
export function assertOneReply(replies: WsReply[], sent: unknown, what: string): void {
  assert.equal(replies.length, 1, `${what}: ${replies.length} replies: ${JSON.stringify(replies).slice(0, 400)}`);
  const reply = replies[0]!;
  assert.equal(checkFrame(reply as unknown as Record<string, unknown>), undefined, `${what}: a reply /api/asyncapi.json does not describe`);
  const expected = expectedReplyId(sent);
  if ('exact' in expected) assert.deepEqual(reply.id, expected.exact, `${what}: reply id ${JSON.stringify(reply.id)}`);
  else assert.ok(reply.id === null || reply.id === expected.nullOrSame, `${what}: reply id ${JSON.stringify(reply.id)}`);
  if (reply.event === 'error') {
    const code = reply.error?.code;
    assert.ok(code !== undefined && CODES.has(code), `${what}: error code ${String(code)} is not in ERRORS`);
    assert.notEqual(code, 'INTERNAL', `${what}: answered INTERNAL`);
    assert.equal(typeof reply.error?.message, 'string', `${what}: error without a message`);
    return;
  }
  const event = (sent as { event?: unknown }).event;
  assert.ok((AGENT_EVENTS as readonly unknown[]).includes(event), `${what}: a success reply (${reply.event}) to an event that is not an agent event`);
  assert.equal(reply.event, event, `${what}: reply event`);
  assert.ok(Object.hasOwn(reply, 'data'), `${what}: reply without data`);
}
