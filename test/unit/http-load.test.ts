/**
 * The benchmarks' open-loop load client times each request from when it was
 * due, so it must send each one when due: an off-by-one once sent every
 * request one interval late, and every open-loop latency read that much high.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { runHttpLoad } from '../../bench/lib/http-load.ts';

describe('bench http load client, open loop', () => {
  it('sends request k when it falls due (k / rate after the start), not an interval later', async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': 12 }).end('{"status":1}'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const rate = 20; // one request every 50 ms: the old bug added 50 ms to each, timer jitter adds ~1
    const sends: { n: number; lag: number; intendedAt: number }[] = [];
    try {
      const r = await runHttpLoad(
        { port: (server.address() as AddressInfo).port, path: '/hook', connections: 2, pipelining: 1, durationMs: 600, warmupMs: 0, customers: 10, maxRequests: 100, rate, runTag: 'lt', drainMs: 1000 },
        (n, writtenAt, intendedAt) => sends.push({ n, lag: writtenAt - intendedAt, intendedAt }),
      );
      assert.equal(r.non2xx, 0);
      assert.ok(sends.length >= 10, `sent ${sends.length}`);
      assert.ok(Math.abs(sends[0]!.intendedAt - r.startedAt) < 1e-6, 'the first request is due at the start');
      for (const s of sends) assert.ok(s.lag >= 0, 'never sent before it is due');
      const lags = sends.map((s) => s.lag).sort((a, b) => a - b);
      assert.ok(lags[Math.floor(lags.length / 2)]! < 25, `median lag ${lags[Math.floor(lags.length / 2)]} ms should be far below one interval (50 ms)`);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});
