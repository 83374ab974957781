/**
 * Many agent WebSockets in one process, as light as possible so the client
 * side hides as little of the server's fan-out as it can: raw TCP sockets, a
 * hand-rolled RFC 6455 frame reader (server frames are unmasked), and a
 * substring test on the frame bytes instead of JSON parsing. (The `ws`
 * library costs ~40 µs per frame here: 1,000 sockets took ~40 ms per round
 * whatever the server did.) Speaks smart-chat's agent protocol, or
 * socket.io's for the baseline: engine.io v4 over a WebSocket — `0{…}` open,
 * `40` namespace connect, `2`/`3` ping/pong, `42[…]` events.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type Socket } from 'node:net';

export type Protocol = 'smart-chat' | 'socketio';

export interface AgentSockets {
  readonly count: number;
  /** Called with (socket index, frame payload) for every text frame that is not protocol housekeeping. */
  onFrame: (i: number, payload: Buffer) => void;
  close(): Promise<void>;
}

const HEADER_END = Buffer.from('\r\n\r\n');

/** A masked client frame (RFC 6455 §5.3: every client frame is masked). */
function clientFrame(opcode: number, payload: Buffer): Buffer {
  if (payload.length > 125) throw new Error('benchmark client frames stay under 126 bytes');
  const mask = randomBytes(4);
  const out = Buffer.allocUnsafe(6 + payload.length);
  out[0] = 0x80 | opcode;
  out[1] = 0x80 | payload.length;
  mask.copy(out, 2);
  for (let i = 0; i < payload.length; i++) out[6 + i] = payload[i]! ^ mask[i % 4]!;
  return out;
}

const text = (s: string) => clientFrame(0x1, Buffer.from(s));

/** Opens `count` sockets to `urls` round-robin (at most `parallel` handshakes at a time), resolving when every one is ready. */
export async function openSockets(urls: readonly string[], count: number, protocol: Protocol, parallel = 50): Promise<AgentSockets> {
  const parsed = urls.map((x) => new URL(x));
  const sockets: Socket[] = [];
  const set: AgentSockets = {
    count,
    onFrame: () => undefined,
    close: async () => {
      await Promise.all(
        sockets.map(
          (s) =>
            new Promise<void>((r) => {
              if (s.destroyed) return r();
              s.once('close', () => r());
              s.end(clientFrame(0x8, Buffer.from([0x03, 0xe8])));
              setTimeout(() => (s.destroy(), r()), 1000).unref();
            }),
        ),
      );
    },
  };

  const openOne = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const u = parsed[i % parsed.length]!;
      const s = connect({ host: u.hostname, port: Number(u.port), noDelay: true });
      sockets[i] = s;
      const timer = setTimeout(() => (s.destroy(), reject(new Error(`socket ${i} not ready within 10 s`))), 10_000);
      const ready = () => (clearTimeout(timer), resolve());
      let buf: Buffer = Buffer.alloc(0);
      let upgraded = false;
      s.once('connect', () => {
        s.write(
          `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
            `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
        );
      });
      s.on('error', (e) => (clearTimeout(timer), reject(e)));
      s.on('data', (d: Buffer) => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        if (!upgraded) {
          const end = buf.indexOf(HEADER_END);
          if (end < 0) return;
          const status = buf.toString('latin1', 9, 12);
          if (status !== '101') return reject(new Error(`upgrade refused: ${buf.toString('latin1', 0, Math.min(end, 200))}`));
          upgraded = true;
          buf = buf.subarray(end + 4);
          if (protocol === 'smart-chat') ready();
        }
        // Frames: FIN+opcode, length (7 / 16 / 64 bit), unmasked payload.
        while (buf.length >= 2) {
          const opcode = buf[0]! & 0x0f;
          let len = buf[1]! & 0x7f;
          let at = 2;
          if (len === 126) {
            if (buf.length < 4) return;
            len = buf.readUInt16BE(2);
            at = 4;
          } else if (len === 127) {
            if (buf.length < 10) return;
            len = Number(buf.readBigUInt64BE(2));
            at = 10;
          }
          if (buf.length < at + len) return;
          const payload = buf.subarray(at, at + len);
          buf = buf.subarray(at + len);
          if (opcode === 0x9) s.write(clientFrame(0xa, Buffer.from(payload)));
          else if (opcode === 0x8) s.end();
          else if (opcode === 0x1 || opcode === 0x2) {
            if (protocol === 'socketio') {
              const type = payload[0];
              if (type === 48 /* 0: engine open */) { s.write(text('40')); continue; }
              if (type === 50 /* 2: ping */) { s.write(text('3')); continue; }
              if (type === 52 && payload[1] === 48 /* 40: namespace connected */) { ready(); continue; }
            }
            set.onFrame(i, payload);
          }
        }
      });
    });
  for (let i = 0; i < count; i += parallel) {
    await Promise.all(Array.from({ length: Math.min(parallel, count - i) }, (_, k) => openOne(i + k)));
  }
  return set;
}

/** The socket.io endpoint for a room (the baseline server joins clients to `room` from the query). */
export const socketIoUrl = (port: number, room: string): string => `ws://127.0.0.1:${port}/socket.io/?EIO=4&transport=websocket&room=${encodeURIComponent(room)}`;

/** smart-chat's agent endpoint: `/ws/{room}` puts the connection in that chat's room from the start. */
export const smartChatUrl = (port: number, token: string, room?: string): string => `ws://127.0.0.1:${port}/ws${room ? `/${encodeURIComponent(room)}` : ''}?token=${token}`;

/**
 * The fan-out scenario's reader: bench/loadgen/fanout-reader, a Go program
 * (standard library only) that holds the sockets, triggers every round and
 * times it on its own clock. Reading 1,000 sockets in one Node event loop cost
 * ~10–15 µs per frame in JavaScript — the reader, not the server, set the
 * round time. The Go reader reads every socket from one epoll thread (one
 * read(2) per readable socket, a few µs of user time per frame) and timestamps
 * triggers and arrivals on one clock.
 */

const READER_SRC = join(import.meta.dirname, '..', 'loadgen', 'fanout-reader');
const BUILD_DIR = join(import.meta.dirname, '..', '.build');

/** Builds the Go reader into bench/.build/ (gitignored by its own .gitignore) and returns the binary's path. */
export function buildFanoutReader(): string {
  mkdirSync(BUILD_DIR, { recursive: true });
  writeFileSync(join(BUILD_DIR, '.gitignore'), '*\n');
  const bin = join(BUILD_DIR, 'fanout-reader');
  try {
    // Offline and with the installed toolchain only: the program has no dependencies to fetch.
    execFileSync('go', ['build', '-o', bin, '.'], { cwd: READER_SRC, stdio: ['ignore', 'inherit', 'inherit'], timeout: 180_000, env: { ...process.env, GOTOOLCHAIN: 'local', GOPROXY: 'off', GOFLAGS: '-mod=mod', CGO_ENABLED: '0' } });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error('the fan-out scenario needs Go (https://go.dev/dl/, any version ≥ 1.21, no modules) on PATH to build its socket reader, bench/loadgen/fanout-reader');
    }
    throw new Error(`building bench/loadgen/fanout-reader failed: ${(e as Error).message}`);
  }
  return bin;
}

export interface GoReaderConfig {
  urls: string[];
  count: number;
  /** `floor`: no server; the reader connects to itself and a bare writer thread sends each round (see floor.go). */
  protocol: Protocol | 'floor';
  rounds: number;
  warmupRounds: number;
  gapMs: number;
  roundTimeoutMs: number;
  maxMs: number;
  via: 'parent' | 'webhook';
  webhookUrl?: string;
  /** With `IIIIIIIIIIII` (message id digits) and `MARKER` to fill per round. */
  webhookBody?: string;
  /** `floor`: the frame payload, with `MARKER` filled per round. */
  floorPayload?: string;
  /** Poll without sleeping while a round is on; false: the reader sleeps in epoll_wait between frames. */
  spin: boolean;
  /** The Go process exits by itself after this long, and is killed from here after it too. */
  lifetimeMs: number;
}

/** Per-round times in ms, all on the Go process's monotonic clock, from the instant it sent the trigger. */
export interface GoReaderResult {
  sockets: number;
  roundsRun: number;
  incomplete: number;
  lastMs: number[];
  firstMs: number[];
  /** Trigger → its answer (the parent's ack after the pod's publish call returned, or the webhook's response). */
  ackMs: number[];
  /** The reader's own CPU per timed round (user + kernel, and kernel alone). */
  readerCpuMs: number;
  readerSysMs: number;
  /** `floor`: the bare writer thread's CPU per timed round. */
  writerCpuMs?: number;
}

/**
 * Runs the Go reader: it connects, `onReady` runs (e.g. a CPU snapshot of the
 * pods), then it runs its rounds, asking `onPublish` for each one when the
 * trigger is `parent`. The child is killed on every way out of here.
 */
export async function runGoReader(bin: string, cfg: GoReaderConfig, hooks: { onReady: () => Promise<void>; onPublish: (marker: string) => Promise<unknown> }): Promise<GoReaderResult> {
  const child = spawn(bin, [JSON.stringify(cfg)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  const killer = setTimeout(kill, cfg.lifetimeMs + 5000);
  const send = (line: string) => {
    if (child.stdin.writable) child.stdin.write(`${line}\n`);
  };
  try {
    return await new Promise<GoReaderResult>((resolve, reject) => {
      let pending = '';
      child.on('error', reject);
      child.on('exit', (code, signal) => reject(new Error(`fanout-reader exited (${code ?? signal}) before its result`)));
      child.stdin.on('error', () => undefined); // the child may be gone; its exit says why
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        pending += chunk;
        for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          const sp = line.indexOf(' ');
          const kind = sp < 0 ? line : line.slice(0, sp);
          const rest = sp < 0 ? '' : line.slice(sp + 1);
          if (kind === 'publish') {
            const [round, marker] = rest.split(' ');
            hooks.onPublish(marker!).then(
              () => send(`ack ${round} ok`),
              (e: unknown) => send(`ack ${round} err ${String(e).replace(/\s+/g, ' ')}`),
            );
          } else if (kind === 'ready') {
            hooks.onReady().then(() => send('go'), reject);
          } else if (kind === 'result') resolve(JSON.parse(rest) as GoReaderResult);
          else if (kind === 'error') reject(new Error(`fanout-reader: ${rest}`));
        }
      });
    });
  } finally {
    clearTimeout(killer);
    // After its result it closes its sockets and exits; give it a moment, then make sure.
    if (child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((r) => {
        const t = setTimeout(() => (kill(), r()), 3000);
        child.once('exit', () => (clearTimeout(t), r()));
      });
    }
    process.off('exit', kill);
  }
}
