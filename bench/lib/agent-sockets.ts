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
import { randomBytes } from 'node:crypto';
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
