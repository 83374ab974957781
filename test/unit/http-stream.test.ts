/**
 * pipeBody against a uWS response whose socket takes a bounded number of
 * bytes until it drains: the source is paused while the socket is full (so
 * at most about one chunk is held), resumed on onWritable from the offset
 * uWS reports, and the client gets every byte once, in order.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { pipeBody } from '../../src/transport/http-stream.ts';
import type { HttpResponse } from '../../src/transport/uws.ts';

/** A response over a socket that accepts `room` bytes, then nothing until `drain()`. */
function slowResponse(room: number) {
  const sent: Buffer[] = [];
  let offset = 0;
  let free = room;
  let writable: ((offset: number) => boolean) | undefined;
  let ended = false;
  let closed = false;
  const res = {
    cork: (cb: () => void) => (cb(), res),
    getWriteOffset: () => offset,
    onWritable: (h: (offset: number) => boolean) => ((writable = h), res),
    tryEnd: (chunk: Uint8Array, total: number): [boolean, boolean] => {
      const take = Math.min(free, chunk.byteLength);
      sent.push(Buffer.from(chunk.subarray(0, take)));
      offset += take;
      free -= take;
      if (offset === total) ended = true;
      return [take === chunk.byteLength, ended];
    },
    end: () => ((ended = true), res),
    close: () => ((closed = true), res),
  };
  return {
    res: res as unknown as HttpResponse,
    sent: () => Buffer.concat(sent),
    ended: () => ended,
    closed: () => closed,
    /** The socket drained `n` more bytes: uWS calls onWritable with the current offset. */
    drain(n: number) {
      free += n;
      writable?.(offset);
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));
const log = pino({ level: 'silent' });

describe('streaming a body with backpressure (uWS tryEnd/onWritable)', () => {
  it('reads the source only as the socket drains, and delivers every byte once', async () => {
    const body = randomBytes(1024 * 1024);
    let pulled = 0;
    const source = Readable.from((function* () {
      for (let at = 0; at < body.length; at += 64 * 1024) {
        pulled += 64 * 1024;
        yield body.subarray(at, at + 64 * 1024);
      }
    })(), { objectMode: false, highWaterMark: 64 * 1024 });
    const socket = slowResponse(100_000);
    let done: boolean | undefined;
    pipeBody(socket.res, source, body.length, log, (ok) => (done = ok));
    for (let i = 0; i < 20; i++) await tick();
    // The socket took 100,000 bytes; the source was read one chunk beyond it, plus its own small buffer — not the whole megabyte.
    assert.ok(pulled <= 100_000 + 4 * 64 * 1024, `pulled ${pulled} bytes while the socket took 100,000`);
    assert.equal(done, undefined);
    while (!socket.ended()) {
      socket.drain(50_000);
      for (let i = 0; i < 3; i++) await tick();
      assert.ok(pulled - socket.sent().length <= 5 * 64 * 1024, `${pulled - socket.sent().length} bytes read ahead of the socket`);
    }
    assert.equal(done, true);
    assert.ok(socket.sent().equals(body), 'every byte, once, in order');
  });

  it('closes the connection when the source fails or ends short, never sending a wrong body', async () => {
    for (const make of [
      () => Readable.from((function* () { yield Buffer.alloc(10); throw new Error('store went away'); })(), { objectMode: false }),
      () => Readable.from([Buffer.alloc(10)], { objectMode: false }),
    ]) {
      const socket = slowResponse(1_000_000);
      let done: boolean | undefined;
      pipeBody(socket.res, make(), 100, log, (ok) => (done = ok));
      for (let i = 0; i < 10; i++) await tick();
      assert.equal(done, false);
      assert.equal(socket.closed(), true);
      assert.equal(socket.ended(), false);
    }
  });

  it('stops reading when the client goes away', async () => {
    const source = Readable.from([Buffer.alloc(10), Buffer.alloc(10)], { objectMode: false });
    const socket = slowResponse(5);
    const abort = pipeBody(socket.res, source, 20, log, () => undefined);
    await tick();
    abort();
    assert.equal(source.destroyed, true);
  });
});
