/**
 * GET /api/media/{id} for each media driver (memory, GridFS, S3 on a real
 * S3-compatible server): whole files and byte ranges with the right bytes
 * and headers, conditional GETs, HEAD, 416, signed links; files of the old
 * chunk format still served; a 10 MB file streamed with bounded memory.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { signedMediaPath } from '../../src/infra/media/media-link.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { TEST_S3_CREDENTIALS, createBucket, startS3Server, type S3ServerHandle } from '../support/s3-server.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const agentToken = signToken({ sub: '9099039188' }, TEST_JWT_SECRET);
const AUTH = { authorization: `Bearer ${agentToken}` };

const DRIVERS: { name: string; env: (s3: S3ServerHandle | undefined) => Promise<Record<string, string>> }[] = [
  { name: 'memory', env: async () => ({}) },
  { name: 'gridfs', env: async () => ({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('serve') }) },
  {
    name: 's3',
    env: async (s3) => {
      const bucket = uniqueName('serve').toLowerCase().replace(/_/g, '-');
      await createBucket(s3!.url, bucket);
      return { MEDIA_STORE: 's3', S3_ENDPOINT: s3!.url, S3_BUCKET: bucket, AWS_ACCESS_KEY_ID: TEST_S3_CREDENTIALS.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_S3_CREDENTIALS.secretAccessKey };
    },
  },
];

for (const driver of DRIVERS) {
  describe(`GET /api/media/{id} (${driver.name})`, () => {
    let app: TestApp;
    let s3: S3ServerHandle | undefined;
    const file = randomBytes(700_000);
    const get = (path: string, headers: Record<string, string> = {}, method = 'GET') => fetch(`${app.url}${path}`, { method, headers: { ...AUTH, ...headers } });
    const bytes = async (res: Response) => Buffer.from(await res.arrayBuffer());

    before(async () => {
      if (driver.name === 's3') s3 = await startS3Server();
      app = await startTestApp(await driver.env(s3));
      assert.equal(app.mediaStorage.kind, driver.name);
      await app.mediaStorage.put('serve-1', file, 'video/mp4');
    });
    after(async () => {
      await app.stop();
      await s3?.stop();
    });

    it('serves the whole file with its type, length, entity tag and caching headers', async () => {
      const res = await get('/api/media/serve-1');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), 'video/mp4');
      assert.equal(res.headers.get('content-length'), String(file.length));
      assert.equal(res.headers.get('etag'), `"${createHash('sha256').update(file).digest('base64url')}"`);
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.equal(res.headers.get('cache-control'), 'private, max-age=86400');
      assert.ok(res.headers.get('last-modified'));
      assert.ok((await bytes(res)).equals(file));
      const head = await get('/api/media/serve-1', {}, 'HEAD');
      assert.deepEqual([head.status, head.headers.get('content-length'), head.headers.get('etag')], [200, String(file.length), res.headers.get('etag')]);
      assert.equal((await head.arrayBuffer()).byteLength, 0);
      assert.equal((await get('/api/media/no-such-file')).status, 404);
    });

    it('answers 304 to If-None-Match with its entity tag', async () => {
      const etag = (await get('/api/media/serve-1', {}, 'HEAD')).headers.get('etag')!;
      const res = await get('/api/media/serve-1', { 'if-none-match': `"other", ${etag}` });
      assert.equal(res.status, 304);
      assert.equal(res.headers.get('etag'), etag);
      assert.equal((await get('/api/media/serve-1', { 'if-none-match': '"other"' })).status, 200);
    });

    it('answers byte ranges with 206 and the right bytes (first, middle, open-ended, suffix; of several, the first)', async () => {
      for (const [range, start, end] of [
        ['bytes=0-99', 0, 99],
        ['bytes=300000-555555', 300_000, 555_555],
        ['bytes=699000-', 699_000, file.length - 1],
        ['bytes=-500', file.length - 500, file.length - 1],
        ['bytes=10-19, 40-49', 10, 19],
        ['bytes=690000-9999999', 690_000, file.length - 1],
      ] as const) {
        const res = await get('/api/media/serve-1', { range });
        assert.equal(res.status, 206, range);
        assert.equal(res.headers.get('content-range'), `bytes ${start}-${end}/${file.length}`, range);
        assert.equal(res.headers.get('content-length'), String(end - start + 1), range);
        assert.ok((await bytes(res)).equals(file.subarray(start, end + 1)), range);
      }
    });

    it('answers 416 to a range past the end, and the whole file when If-Range names other bytes', async () => {
      const res = await get('/api/media/serve-1', { range: `bytes=${file.length}-` });
      assert.equal(res.status, 416);
      assert.equal(res.headers.get('content-range'), `bytes */${file.length}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'RANGE_NOT_SATISFIABLE');
      const stale = await get('/api/media/serve-1', { range: 'bytes=0-9', 'if-range': '"not-these-bytes"' });
      assert.equal(stale.status, 200);
      assert.equal((await bytes(stale)).length, file.length);
    });

    it('serves a signed link without a token, for that file only and until it expires', async () => {
      const link = await get('/api/media/serve-1/link');
      assert.equal(link.status, 200);
      assert.equal(link.headers.get('cache-control'), 'no-store');
      const { data } = (await link.json()) as { data: { url: string; expires_at: string } };
      assert.match(data.url, /^\/api\/media\/serve-1\?exp=\d+&sig=[\w-]{43}$/);
      assert.ok(Date.parse(data.expires_at) > Date.now() + 50 * 60_000);
      const plain = (path: string, headers: Record<string, string> = {}) => fetch(`${app.url}${path}`, { headers });
      const ok = await plain(data.url, { range: 'bytes=5-9' });
      assert.equal(ok.status, 206, 'ranges work through a link (a <video> seeking)');
      assert.ok((await bytes(ok)).equals(file.subarray(5, 10)));
      await app.mediaStorage.put('serve-2', Buffer.from('another file'), 'image/png');
      assert.equal((await plain(data.url.replace('serve-1', 'serve-2'))).status, 401, 'not for another file');
      const sig = /sig=(.)/.exec(data.url)![1]!;
      assert.equal((await plain(data.url.replace(`sig=${sig}`, `sig=${sig === 'A' ? 'B' : 'A'}`))).status, 401, 'a changed signature');
      const expired = signedMediaPath(TEST_JWT_SECRET, 'serve-1', Date.now() - 7200_000);
      assert.equal((await plain(expired.url)).status, 401, 'an expired link');
      assert.equal((await plain(data.url.replace(/&sig=.*/, ''))).status, 401, 'exp without sig');
      assert.equal((await plain('/api/media/serve-1/link')).status, 401, 'links are for agents');
      assert.equal((await get('/api/media/no-such-file/link')).status, 404);
    });

    it('serves media kept in the old chunk format (base64 chunk documents), ranges included', async () => {
      const old = randomBytes(768 * 1024 * 2 + 1000);
      const CHUNK = 768 * 1024;
      for (let n = 0; n * CHUNK < old.length; n++) {
        await app.store.collection('media_chunks').insertOne({ _id: `legacy-1:${n}`, media_id: 'legacy-1', n, data: old.subarray(n * CHUNK, (n + 1) * CHUNK).toString('base64') });
      }
      await app.store.collection('media').insertOne({ _id: 'legacy-1', mime_type: 'image/jpeg', size: old.length, sha256: createHash('sha256').update(old).digest('base64'), chunks: 3, stored_at: new Date() });
      const res = await get('/api/media/legacy-1');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('etag'), `"${createHash('sha256').update(old).digest('base64url')}"`, 'the same tag as the current drivers give');
      assert.ok((await bytes(res)).equals(old));
      const part = await get('/api/media/legacy-1', { range: `bytes=${CHUNK - 10}-${2 * CHUNK + 10}` });
      assert.equal(part.status, 206);
      assert.ok((await bytes(part)).equals(old.subarray(CHUNK - 10, 2 * CHUNK + 11)));
    });
  });
}

describe('a 10 MB file to a slow client (GridFS)', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('serve10') });
  });
  after(async () => {
    await app.stop();
  });

  it('is streamed: a client that stops reading leaves process memory bounded, and then gets every byte', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const size = 10 * 1024 * 1024;
    const digest = await (async () => {
      const file = randomBytes(size);
      await app.mediaStorage.put('big-10mb', file, 'video/mp4');
      return createHash('sha256').update(file).digest('hex');
    })();
    // Count what the route pulls from the store.
    let pulled = 0;
    const open = app.mediaStorage.open.bind(app.mediaStorage);
    app.mediaStorage.open = async (id, range) => {
      const s: Readable = await open(id, range);
      s.on('data', (c: Buffer) => (pulled += c.length));
      return s;
    };
    // The upload's buffers are let go a moment after it resolves (the driver's, the file's): a baseline taken at once
    // swung by ±35 MB from run to run (and failed a run at +9.6 MB); settled, it is +2.2 MB every time.
    const baseline = await settledMemory(gc);
    const socket = connect({ host: '127.0.0.1', port: app.port });
    socket.setNoDelay(true);
    await new Promise<void>((r) => socket.once('connect', () => r()));
    // The client hashes as it reads and keeps nothing, so only the server's memory is measured (this test
    // shares the process with it), and it stops reading after its first chunk.
    let received = 0;
    let bodyBytes = 0;
    let head: string | undefined;
    let headBytes = Buffer.alloc(0);
    const hash = createHash('sha256');
    socket.on('data', (c: Buffer) => {
      received += c.length;
      if (received === c.length) socket.pause();
      if (head === undefined) {
        headBytes = Buffer.concat([headBytes, c]);
        const headerEnd = headBytes.indexOf('\r\n\r\n');
        if (headerEnd < 0) return;
        head = headBytes.subarray(0, headerEnd).toString('latin1');
        c = headBytes.subarray(headerEnd + 4);
      }
      bodyBytes += c.length;
      hash.update(c);
    });
    socket.write(`GET /api/media/big-10mb HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${agentToken}\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 1500));
    // Settled here too: read straight after one collection, 1 run in ~10 still counted the driver's freed read
    // buffers (+7.6 MB, +2.3 MB once they were released).
    const whilePaused = (await settledMemory(gc)) - baseline;
    console.log(`paused client: ${(received / 1e6).toFixed(2)} MB received, ${(pulled / 1e6).toFixed(2)} MB read from the store, process memory ${whilePaused >= 0 ? '+' : ''}${(whilePaused / 1e6).toFixed(2)} MB`);
    // What the store gave beyond what the client took sits in loopback's socket buffers (their size is the kernel's,
    // so it is printed, not asserted; test/unit/http-stream.test.ts holds the backpressure itself to account).
    assert.ok(whilePaused < 6 * 1024 * 1024, `memory grew by ${whilePaused} bytes while a 10 MB file waited for its client`);
    assert.ok(pulled < size, `the store was read ahead of the paused client to the end (${pulled} bytes)`);
    socket.resume();
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`received ${received} bytes`)), 20_000);
      const check = () => {
        if (bodyBytes >= size) {
          clearTimeout(timer);
          resolve();
        } else socket.once('data', () => setImmediate(check));
      };
      check();
    });
    socket.destroy();
    assert.match(head ?? '', /^HTTP\/1\.1 200 OK/);
    assert.match(head ?? '', new RegExp(`content-length: ${size}`, 'i'));
    assert.equal(bodyBytes, size);
    assert.equal(hash.digest('hex'), digest, 'the same 10 MB');
    assert.equal(pulled, size);
  });
});

/**
 * Heap plus array buffers that are still referenced: V8 releases the backing
 * stores of collected buffers off the main thread, so a reading taken right
 * after one collection may still count them.
 */
async function settledMemory(gc: () => void): Promise<number> {
  gc();
  await new Promise((r) => setTimeout(r, 300));
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}
