/**
 * Child process: one server under test ("pod"). `argv[2]` names it:
 *
 * - `app` — smart-chat itself (`startApp`), embedded or on Redis + MongoDB
 *   (`BENCH_APP_ENV`, JSON of loadConfig overrides);
 * - `uws-bare` — a bare uWebSockets.js handler that reads the body and answers 200 (the ceiling);
 * - `fastify` — Fastify 5 parsing the JSON body and answering 200;
 * - `node-http` — node:http doing the same by hand;
 * - `socketio` — socket.io 4 (`BENCH_SIO_ADAPTER=memory|redis`), clients joined to a room from their handshake query.
 *
 * Prints nothing; answers `port`, `publish`, `memory`, `cpu`, `gc-start`/`gc-stop`, `inbox`, and `exit` over IPC.
 * Several pods of one kind can run side by side: that is how the multi-pod
 * variants will be built once the app routes between pods.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GCProfiler, type GCProfilerResult } from 'node:v8';
import { serveCommands } from '../lib/proc.ts';

type Publish = (room: string, event: string, data: unknown) => void;

interface Pod {
  port: number;
  publish?: Publish;
  /** Inbox items still pending / all (the app only): how far background processing lags the acks. */
  inbox?: () => Promise<{ pending: number; total: number }>;
  /** Shard-stream reads (Redis mode only): batches, entries and the time spent in the handoff's older-entries check. */
  reads?: () => { batches: number; entries: number; olderCheckMs: number } | null;
  /** Shards this pod owns and how many there are (the app only): whether a multi-pod run has settled. */
  shards?: () => { owned: number; total: number };
  stop(): Promise<void>;
}

const ACK = JSON.stringify({ status: 1 });

async function startPod(kind: string): Promise<Pod> {
  switch (kind) {
    case 'app': {
      const { startApp } = await import('../../src/app.ts');
      const { loadConfig } = await import('../../src/infra/config.ts');
      const env = JSON.parse(process.env.BENCH_APP_ENV ?? '{}') as Record<string, string>;
      const app = await startApp(loadConfig(env));
      const inbox = app.store.collection('inbox');
      return {
        port: app.port,
        publish: (room, event, data) => app.hub.publish(room, event, data),
        inbox: async () => ({ pending: await inbox.countDocuments({ state: 'pending' }), total: await inbox.countDocuments({}) }),
        shards: () => ({ owned: app.actors.ownership.owned().size, total: app.actors.ownership.shards }),
        reads: () => ('reads' in app.actors.dispatcher ? (app.actors.dispatcher.reads as { batches: number; entries: number; olderCheckMs: number }) : null),
        stop: () => app.stop(),
      };
    }
    case 'uws-bare': {
      const { uWS } = await import('../../src/transport/uws.ts');
      const app = uWS.App();
      app.any('/*', (res) => {
        let aborted = false;
        res.onAborted(() => (aborted = true));
        res.onData((_chunk, isLast) => {
          if (isLast && !aborted) res.cork(() => res.writeStatus('200 OK').writeHeader('content-type', 'application/json').end(ACK));
        });
      });
      const socket = await new Promise<import('uWebSockets.js').us_listen_socket>((resolve, reject) =>
        app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('uWS listen failed')))),
      );
      return { port: uWS.us_socket_local_port(socket), stop: async () => uWS.us_listen_socket_close(socket) };
    }
    case 'fastify': {
      const { default: Fastify } = await import('fastify');
      const app = Fastify({ logger: false, bodyLimit: 256 * 1024 });
      app.post('/api/chats/whatsapp_chat/:channel', async (req) => {
        if (typeof req.body !== 'object' || req.body === null) throw new Error('not a webhook');
        return { status: 1 };
      });
      await app.listen({ host: '127.0.0.1', port: 0 });
      return { port: (app.server.address() as AddressInfo).port, stop: () => app.close() };
    }
    case 'node-http': {
      const server = createServer((req: IncomingMessage, res: ServerResponse) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          let status = 200;
          try {
            JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            status = 400;
          }
          res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(ACK) });
          res.end(ACK);
        });
      });
      server.keepAliveTimeout = 60_000;
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return { port: (server.address() as AddressInfo).port, stop: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
    }
    case 'socketio': {
      const { Server } = await import('socket.io');
      const http = createServer();
      const io = new Server(http, { transports: ['websocket'], serveClient: false });
      const redis: { quit(): Promise<unknown> }[] = [];
      if (process.env.BENCH_SIO_ADAPTER === 'redis') {
        const { Redis } = await import('ioredis');
        const { createAdapter } = await import('@socket.io/redis-adapter');
        const pub = new Redis(process.env.BENCH_REDIS_URL ?? '');
        const sub = pub.duplicate();
        redis.push(pub, sub);
        io.adapter(createAdapter(pub, sub, { key: process.env.BENCH_SIO_KEY ?? `bench-sio-${process.pid}` }));
      }
      io.on('connection', (socket) => {
        const room = socket.handshake.query.room;
        if (typeof room === 'string') void socket.join(room);
      });
      await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
      return {
        port: (http.address() as AddressInfo).port,
        publish: (room, event, data) => void io.to(room).emit(event, data),
        stop: async () => {
          await new Promise((r) => io.close(() => r(undefined)));
          await Promise.all(redis.map((c) => c.quit().catch(() => undefined)));
        },
      };
    }
    default:
      throw new Error(`unknown pod kind ${kind}`);
  }
}

type GcStatistic = GCProfilerResult['statistics'][number];

/**
 * What the collector did between `gc-start` and `gc-stop`: young collections,
 * full ones, and the bytes young collections moved to the old generation —
 * what the full collections must later mark and free.
 */
function summariseGc(statistics: GcStatistic[]): { scavenges: number; scavengeMs: number; fullGcs: number; fullGcMs: number; promotedBytes: number } {
  const oldSpace = (s: GcStatistic['beforeGC']) => s.heapSpaceStatistics.find((x) => x.spaceName === 'old_space')?.spaceUsedSize ?? 0;
  const out = { scavenges: 0, scavengeMs: 0, fullGcs: 0, fullGcMs: 0, promotedBytes: 0 };
  for (const s of statistics) {
    if (s.gcType === 'Scavenge') {
      out.scavenges++;
      out.scavengeMs += s.cost / 1000;
      out.promotedBytes += Math.max(0, oldSpace(s.afterGC) - oldSpace(s.beforeGC));
    } else if (s.gcType === 'MarkSweepCompact') {
      out.fullGcs++;
      out.fullGcMs += s.cost / 1000;
    }
  }
  return out;
}

let gcProfiler: GCProfiler | undefined;
const pod = await startPod(process.argv[2] ?? '');
serveCommands(
  async (cmd, args) => {
    switch (cmd) {
      case 'port':
        return pod.port;
      case 'publish': {
        if (!pod.publish) throw new Error('this pod cannot publish');
        pod.publish(String(args.room), String(args.event), args.data);
        return true;
      }
      case 'memory':
        return process.memoryUsage();
      case 'cpu': {
        // CPU time this process has used (µs): the server's cost of a run, apart from how fast clients read.
        return process.cpuUsage();
      }
      case 'gc-start':
        gcProfiler?.stop();
        gcProfiler = new GCProfiler();
        gcProfiler.start();
        return true;
      case 'gc-stop': {
        const stats = gcProfiler?.stop();
        gcProfiler = undefined;
        if (!stats) throw new Error('gc-start first');
        return summariseGc(stats.statistics);
      }
      case 'reads':
        return pod.reads?.() ?? null;
      case 'shards':
        if (!pod.shards) throw new Error('this pod owns no shards');
        return pod.shards();
      case 'inbox':
        if (!pod.inbox) throw new Error('this pod has no inbox');
        return pod.inbox();
      default:
        throw new Error(`unknown command ${cmd}`);
    }
  },
  () => pod.stop(),
);
