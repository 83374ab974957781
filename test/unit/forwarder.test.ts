/** Communication Master forwarding stays bounded by bytes as well as count while the receiver is stuck. */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { Forwarder } from '../../src/infra/forwarder.ts';

describe('Communication Master forwarder', () => {
  const held: ServerResponse[] = [];
  const received: number[] = [];
  // A receiver that reads each body and never answers: everything else waits in the forwarder's queue.
  const server = createServer((req: IncomingMessage, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => received.push(n));
    held.push(res);
  });
  let url = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`;
  });
  after(async () => {
    for (const res of held) res.destroy();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('holds at most maxQueueBytes of 256 KiB bodies, dropping the oldest and counting them', async () => {
    const forwarder = new Forwarder({ url, log: pino({ level: 'silent' }), concurrency: 1, maxQueueBytes: 1024 * 1024, timeoutMs: 10_000 });
    const body = Buffer.alloc(256 * 1024, 'x');
    for (let i = 0; i < 1000; i++) forwarder.forward(body);
    // One is in flight; four 256 KiB bodies fit in 1 MiB; the other 995 were dropped.
    assert.equal(forwarder.queuedSize, 4 * 256 * 1024);
    assert.equal(forwarder.dropped, 995);
    await forwarder.close(100);
    assert.equal(forwarder.queuedSize, 0);
  });

  it('still bounds by count for small bodies', async () => {
    const forwarder = new Forwarder({ url, log: pino({ level: 'silent' }), concurrency: 1, maxQueue: 10, timeoutMs: 10_000 });
    for (let i = 0; i < 100; i++) forwarder.forward(Buffer.from(`{"n":${i}}`));
    assert.equal(forwarder.dropped, 100 - 1 - 10);
    await forwarder.close(100);
  });
});
