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
  /** Send the status, headers and full Content-Length but only half the body, then close (a truncated download). */
  truncate?: boolean;
}

export interface FakePinbot {
  origin: string;
  requests: RecordedRequest[];
  /** Responses used in order for the next requests; after them, `fallback`. */
  script(...responses: ScriptedResponse[]): void;
  fallback: ScriptedResponse;
  /**
   * Answers `GET /v1/downloadmedia/{id}` for this media id: `failures` in
   * order, then `file` for every later request (scripted per id, so other
   * requests never take them).
   */
  media(id: string, file: ScriptedResponse, ...failures: ScriptedResponse[]): void;
  /** Complete 2xx download answers sent, by media id. */
  downloads: Map<string, number>;
  /** Resolves once `n` requests have been recorded (or rejects after `timeoutMs`). */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  close(): Promise<void>;
}

let messageCounter = 0;

export async function startFakePinbot(): Promise<FakePinbot> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptedResponse[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const media = new Map<string, { failures: ScriptedResponse[]; file: ScriptedResponse }>();
  const fake: FakePinbot = {
    media: (id, file, ...failures) => void media.set(id, { failures, file }),
    downloads: new Map(),
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
      const mediaId = /^\/v1\/downloadmedia\/([^/?]+)/.exec(req.url ?? '')?.[1];
      const scripted = mediaId === undefined ? undefined : media.get(decodeURIComponent(mediaId));
      const r = scripted ? (scripted.failures.shift() ?? scripted.file) : (queue.shift() ?? fake.fallback);
      const answer = () => {
        if (r.drop) return void req.socket.destroy();
        const payload = r.body ?? { messaging_product: 'whatsapp', messages: [{ id: `wamid.fake${++messageCounter}` }] };
        const bytes = typeof payload === 'string' || Buffer.isBuffer(payload) ? Buffer.from(payload) : Buffer.from(JSON.stringify(payload));
        res.writeHead(r.status, { 'content-type': 'application/json', 'content-length': String(bytes.length), ...r.headers });
        if (r.truncate) {
          res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy());
          return;
        }
        if (req.socket.destroyed) return; // the client went away while this answer waited
        res.end(bytes, () => {
          if (mediaId !== undefined && r.status < 300 && !req.socket.destroyed) fake.downloads.set(decodeURIComponent(mediaId), (fake.downloads.get(decodeURIComponent(mediaId)) ?? 0) + 1);
        });
      };
      if (r.delayMs) setTimeout(answer, r.delayMs);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  fake.origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}
