/**
 * An in-repo HTTP/1.1 load client (the role autocannon plays), written for
 * sub-millisecond percentiles: raw keep-alive sockets, optional pipelining,
 * requests stamped from a byte template, each latency kept as a float.
 *
 * Closed loop (`rate` unset): every connection keeps `pipelining` requests in
 * flight — maximum throughput. Open loop (`rate` set): requests fall due on a
 * schedule regardless of answers and leave on a connection with room (never
 * more than `pipelining` in flight on one); latency is measured from when each
 * was due, so waiting for a free connection counts (no coordinated omission),
 * and the service time from its write is reported beside it.
 */
import { connect, type Socket } from 'node:net';
import { Samples, type Summary } from './stats.ts';
import { fieldOffsets, httpPost, stamp, webhookTemplate } from './webhook-body.ts';

export interface HttpLoadSpec {
  port: number;
  path: string;
  connections: number;
  pipelining: number;
  durationMs: number;
  /** Requests to send at most (the run also ends at `durationMs`). */
  maxRequests: number;
  /** Requests per second across all connections (open loop); unset: as fast as answers allow. */
  rate?: number;
  /** Answers during this first part of the run are not recorded. */
  warmupMs: number;
  /** Distinct customers the webhooks rotate through. */
  customers: number;
  runTag: string;
  /** How long to wait for answers still in flight after the run (default 5 s). */
  drainMs?: number;
}

export interface HttpLoadResult {
  sent: number;
  completed: number;
  /** Answers in the measured window (after warm-up) and its length. */
  measured: number;
  windowS: number;
  rps: number;
  /** Open loop: from when the schedule wanted each request to leave (client-side waiting included); closed loop: from its write. */
  latencyMs: Summary;
  /** From each request's write to its answer. */
  serviceMs: Summary;
  non2xx: number;
  socketErrors: number;
  /** Connections the server closed while the run was sending. */
  closedEarly: number;
  /**
   * Open loop: requests due in the measured window that had no answer when the
   * run ended. They enter the latency percentiles with a lower bound (run end
   * minus when they were due), so an overloaded server shows as slow, not as absent.
   */
  unanswered: number;
  /** Open loop only: how late requests left compared with their schedule (ms): waiting for a free connection, timer jitter. */
  scheduleLagMsP99: number;
  /** `performance.now()` when sending began, and (open loop) how many requests fell due. */
  startedAt: number;
  scheduled: number;
}

interface Conn {
  socket: Socket;
  /** (latency start, write time, request number) of each request in flight, oldest first, flattened. */
  inflight: number[];
  head: number;
  buf: Buffer;
  open: boolean;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/**
 * `onSent(n, writtenAt, intendedAt)` is called as request `n` (stamped with
 * `n`) is written; in open-loop runs `intendedAt` is when the schedule wanted
 * it to leave (`performance.now()` clock).
 */
export async function runHttpLoad(
  spec: HttpLoadSpec,
  onSent?: (n: number, writtenAt: number, intendedAt: number) => void,
  /** Told each answer's status with its request number. */
  onAnswered?: (n: number, status: number) => void,
): Promise<HttpLoadResult> {
  const template = httpPost(spec.path, webhookTemplate(spec.runTag));
  const offsets = fieldOffsets(template);
  const latency = new Samples();
  const service = new Samples();
  const lag = new Samples(200_000);
  let sent = 0;
  let completed = 0;
  let measured = 0;
  let non2xx = 0;
  let socketErrors = 0;
  let closedEarly = 0;
  let sending = true;
  let warmEnd = Infinity;
  let measureEnd = 0;

  const conns: Conn[] = [];
  const closedLoop = spec.rate === undefined;
  /** Open loop: intended departure times of requests that are due but wait for a free connection. */
  const due: number[] = [];
  let dueHead = 0;
  let rr = 0;
  /** Open loop: requests that have fallen due so far. */
  let scheduled = 0;

  /** Writes one request on `c`; false if `c` cannot take it. */
  const sendOne = (c: Conn, intendedAt: number | undefined): boolean => {
    if (!c.open || !sending || sent >= spec.maxRequests) return false;
    if (c.socket.writableLength > 1 << 20) return false; // the server stopped reading: do not buffer without bound
    const n = sent++;
    const req = stamp(template, offsets, n, spec.customers);
    const at = performance.now();
    c.inflight.push(intendedAt ?? at, at, n);
    c.socket.write(req);
    if (intendedAt !== undefined) lag.add(at - intendedAt);
    onSent?.(n, at, intendedAt ?? at);
    return true;
  };

  /** Closed loop: up to `count` requests on `c`, written together. */
  const sendMany = (c: Conn, count: number): void => {
    if (count > 1) c.socket.cork();
    for (let i = 0; i < count && sendOne(c, undefined); i++);
    if (count > 1) process.nextTick(() => c.socket.uncork());
  };

  /** Open loop: due requests go out on connections with room (never more than `pipelining` in flight on one). */
  const dispatch = (): void => {
    while (dueHead < due.length && sending) {
      let pick: Conn | undefined;
      for (let i = 0; i < conns.length && !pick; i++) {
        const c = conns[(rr + i) % conns.length]!;
        if (c.open && (c.inflight.length - c.head) / 3 < spec.pipelining) pick = c;
      }
      rr = (rr + 1) % Math.max(1, conns.length);
      if (!pick || !sendOne(pick, due[dueHead]!)) break;
      dueHead++;
    }
    if (dueHead > 4096) {
      due.splice(0, dueHead);
      dueHead = 0;
    }
  };

  const onAnswer = (c: Conn, status: number): void => {
    const began = c.inflight[c.head++]!;
    const written = c.inflight[c.head++]!;
    const n = c.inflight[c.head++]!;
    if (c.head > 3072) {
      c.inflight = c.inflight.slice(c.head);
      c.head = 0;
    }
    const now = performance.now();
    completed++;
    onAnswered?.(n, status);
    if (status < 200 || status > 299) non2xx++;
    else {
      if (now >= warmEnd && sending) measured++; // throughput: answers inside the window
      if (began >= warmEnd) {
        // latency: every request that started (or fell due) after the warm-up, answered in the window or the drain
        latency.add(now - began);
        service.add(now - written);
      }
    }
    if (sending) {
      if (closedLoop) sendMany(c, 1);
      else dispatch();
    }
    if (!sending && measureEnd === 0) measureEnd = now;
  };

  const parse = (c: Conn): void => {
    for (;;) {
      const end = c.buf.indexOf(HEADER_END);
      if (end < 0) return;
      const head = c.buf.toString('latin1', 0, end);
      const status = Number(head.slice(9, 12));
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      if (!m) throw new Error(`answer without content-length: ${head.slice(0, 200)}`);
      const total = end + 4 + Number(m[1]);
      if (c.buf.length < total) return;
      c.buf = c.buf.subarray(total);
      onAnswer(c, status);
    }
  };

  await Promise.all(
    Array.from({ length: spec.connections }, () =>
      new Promise<void>((resolve, reject) => {
        const socket = connect({ host: '127.0.0.1', port: spec.port, noDelay: true });
        const c: Conn = { socket, inflight: [], head: 0, buf: Buffer.alloc(0), open: false };
        socket.once('connect', () => {
          c.open = true;
          conns.push(c);
          resolve();
        });
        socket.on('data', (d: Buffer) => {
          c.buf = c.buf.length ? Buffer.concat([c.buf, d]) : d;
          parse(c);
        });
        socket.on('error', (err) => {
          socketErrors++;
          if (!c.open) reject(err);
        });
        socket.on('close', () => {
          if (c.open && sending) closedEarly++;
          c.open = false;
        });
      }),
    ),
  );

  const started = performance.now();
  warmEnd = started + spec.warmupMs;
  let ticker: NodeJS.Timeout | undefined;
  if (closedLoop) {
    for (const c of conns) sendMany(c, spec.pipelining);
  } else {
    const rate = spec.rate!;
    ticker = setInterval(() => {
      // Request k falls due at k / rate: k = 0 at the start, so floor(elapsed * rate) + 1 are due by now.
      const until = Math.min(spec.maxRequests, Math.floor(((performance.now() - started) * rate) / 1000) + 1);
      for (; scheduled < until; scheduled++) due.push(started + (scheduled * 1000) / rate);
      dispatch();
      if (!conns.some((c) => c.open)) sending = false; // every connection is gone: the server closed them
    }, 1);
  }

  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      const now = performance.now();
      if (now - started >= spec.durationMs || sent >= spec.maxRequests) {
        sending = false;
        measureEnd ||= now;
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  if (ticker) clearInterval(ticker);
  // Let answers still in flight arrive (bounded), then close.
  const drainUntil = performance.now() + (spec.drainMs ?? 5000);
  while (completed + socketErrors < sent && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 5));
  for (const c of conns) c.socket.destroy();

  let unanswered = 0;
  if (!closedLoop) {
    // Due in the window, by schedule; the last ones due are the ones still unanswered (FIFO per connection).
    const rate = spec.rate!;
    const end = performance.now();
    const firstInWindow = Math.ceil(((warmEnd - started) * rate) / 1000);
    unanswered = Math.max(0, scheduled - firstInWindow - latency.count);
    for (let k = scheduled - unanswered; k < scheduled; k++) latency.add(end - (started + (k * 1000) / rate));
  }

  const windowS = Math.max(1e-3, (measureEnd - warmEnd) / 1000);
  return {
    sent,
    completed,
    measured,
    windowS,
    rps: measured / windowS,
    latencyMs: latency.summary(),
    serviceMs: service.summary(),
    non2xx,
    socketErrors,
    closedEarly,
    unanswered,
    scheduleLagMsP99: lag.count ? lag.summary().p99 : 0,
    startedAt: started,
    scheduled,
  };
}
