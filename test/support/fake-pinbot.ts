/**
 * A stand-in for Pinbot (outside our network): a loopback HTTP server that
 * records every request and answers from a script of responses.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  json: unknown;
  at: number;
}

export interface ScriptedResponse {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (to test client timeouts). */
  delayMs?: number;
  /** Close the connection instead of answering (a connection lost after the request arrived). */
  drop?: boolean;
}

export interface FakePinbot {
  origin: string;
  requests: RecordedRequest[];
  /** Responses used in order for the next requests; after them, `fallback`. */
  script(...responses: ScriptedResponse[]): void;
  fallback: ScriptedResponse;
  /** Resolves once `n` requests have been recorded (or rejects after `timeoutMs`). */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

let messageCounter = 0;

export async function startFakePinbot(): Promise<FakePinbot> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedResponse[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const fake: FakePinbot = {
    origin: '',
    requests,
    script: (...r) => void queue.push(...r),
    fallback: { status: 200 },
    waitForRequests: (n, timeoutMs = 5000) =>
      new Promise((resolve, reject) => {
        if (requests.length >= n) return resolve(requests.slice());
        const timer = setTimeout(() => reject(new Error(`fake Pinbot saw ${requests.length} of ${n} requests after ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(requests.slice())) });
      }),
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown = undefined;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      requests.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body, json, at: Date.now() });
      for (const w of waiters.filter((w) => requests.length >= w.n)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
      const r = queue.shift() ?? fake.fallback;
      const answer = () => {
        if (r.drop) return void req.socket.destroy();
        const payload = r.body ?? { messaging_product: 'whatsapp', messages: [{ id: `wamid.fake${++messageCounter}` }] };
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers });
        res.end(typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload));
      };
      if (r.delayMs) setTimeout(answer, r.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
