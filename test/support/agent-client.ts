/** A dashboard stand-in: one agent WebSocket with request/reply by id and a log of pushes. */
import WebSocket from 'ws';
import { signToken } from '../../src/infra/jwt.ts';
import { checkFrame, violations } from './api-check.ts';
import { TEST_JWT_SECRET } from './app.ts';

export interface Frame {
  event: string;
  id?: string | number | null;
  data?: any;
  error?: { code: string; message: string };
}

export class AgentClient {
  readonly pushes: Frame[] = [];
  /** Frames received that /api/asyncapi.json does not describe (close() fails when there are any). */
  readonly apiViolations: string[] = [];
  private readonly waiting = new Map<string, (f: Frame) => void>();
  private counter = 0;

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (raw) => {
      const frame = JSON.parse(raw.toString()) as Frame;
      const problem = checkFrame(frame);
      if (problem) {
        this.apiViolations.push(problem);
        violations.push(problem);
      }
      const resolve = frame.id !== undefined && frame.id !== null ? this.waiting.get(String(frame.id)) : undefined;
      if (resolve) {
        this.waiting.delete(String(frame.id));
        resolve(frame);
      } else this.pushes.push(frame);
    });
  }

  /** Connects as `agent` (to `/ws/{chatId}` when given). */
  static async connect(baseUrl: string, agent: string, opts: { chatId?: string; role?: 'agent' | 'admin' } = {}): Promise<AgentClient> {
    const token = signToken({ sub: agent, role: opts.role ?? 'agent' }, TEST_JWT_SECRET);
    const url = `${baseUrl.replace(/^http/, 'ws')}/ws${opts.chatId ? `/${opts.chatId}` : ''}?token=${token}`;
    const ws = new WebSocket(url);
    const client = new AgentClient(ws); // listening before the open: a frame may arrive with the upgrade's answer
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    });
    return client;
  }

  /** Sends a frame and resolves with the reply carrying the same id (reply or error). */
  request(event: string, data?: unknown, id: string | number = `r${++this.counter}`): Promise<Frame> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${event} (${id}) within 15 s`)), 15_000);
      this.waiting.set(String(id), (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.ws.send(JSON.stringify({ event, data, id }));
    });
  }

  /** Resolves with the first push (already received or arriving within 5 s) that matches. */
  async waitForPush(match: (f: Frame) => boolean, timeoutMs = 5000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.pushes.find(match);
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`no matching push within ${timeoutMs} ms; got ${this.pushes.map((p) => p.event).join(', ')}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState !== WebSocket.CLOSED) {
      await new Promise<void>((r) => {
        this.ws.once('close', () => r());
        this.ws.close();
      });
    }
    const seen = this.apiViolations.splice(0);
    if (seen.length > 0) throw new Error(`frames not described by /api/asyncapi.json:\n${[...new Set(seen)].join('\n')}`);
  }
}
