/**
 * Streams a body of known length to a uWebSockets.js response with its
 * backpressure: `tryEnd` writes what the socket takes; when it takes less,
 * the source pauses until `onWritable` says the socket drained, and the rest
 * of that chunk is written from the offset uWS reports. So at most one chunk
 * of the source (plus the socket's own buffer) is held, whatever the size.
 */
import type { Readable } from 'node:stream';
import type { Logger } from '../infra/logger.ts';
import type { HttpResponse } from './uws.ts';

/** A response body read from a stream; `source` is absent for HEAD (nothing is read). */
export interface StreamedBody {
  /** Exactly the bytes `source` yields (sent as Content-Length). */
  length: number;
  source?: Readable;
}

/**
 * Writes `source` (its status and headers already written, in the same
 * cork) as the rest of the response. `done(true)` once the last byte was
 * handed to the socket; on a source failure or a short source the
 * connection is closed (the client sees a truncated body, never a wrong
 * one) and `done(false)`. Returns the abort hook: it stops reading.
 */
export function pipeBody(res: HttpResponse, source: Readable, total: number, log: Logger, done: (ok: boolean) => void): () => void {
  let finished = false;
  let pending: { chunk: Uint8Array; offset: number } | undefined;
  let sent = 0;
  const finish = (ok: boolean) => {
    if (finished) return;
    finished = true;
    source.destroy();
    done(ok);
  };
  const fail = (reason: string) => {
    if (finished) return;
    log.warn({ err: reason, sent, total }, 'streaming a response failed: closing the connection');
    finished = true;
    source.destroy();
    done(false);
    try {
      res.close();
    } catch {
      /* already gone */
    }
  };
  if (total === 0) {
    res.cork(() => res.end(''));
    finish(true);
    return () => undefined;
  }
  res.onWritable((offset) => {
    if (!pending || finished) return true;
    const [ok, responded] = res.tryEnd(pending.chunk.subarray(offset - pending.offset), total);
    if (responded) finish(true);
    else if (ok) {
      pending = undefined;
      source.resume();
    }
    return ok;
  });
  source.on('data', (chunk: Buffer) => {
    if (finished) return;
    if (sent + chunk.length > total) return fail(`the source gave more than ${total} bytes`);
    sent += chunk.length;
    const offset = res.getWriteOffset();
    let result: [boolean, boolean] = [false, false];
    res.cork(() => (result = res.tryEnd(chunk, total)));
    const [ok, responded] = result;
    if (responded) finish(true);
    else if (!ok) {
      pending = { chunk, offset };
      source.pause();
    }
  });
  source.once('error', (err: Error) => fail(err.message));
  source.once('end', () => {
    if (sent < total) fail(`the source ended after ${sent} of ${total} bytes`);
  });
  return () => {
    finished = true;
    source.destroy();
  };
}
