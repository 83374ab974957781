/**
 * One suite, every media driver: GridFS, process memory and an S3-compatible
 * store keep the same promises — whole files and byte ranges back exactly,
 * one entity tag for the same bytes, nothing for an unknown id, a second
 * store of an id replacing the first — and a file is read as a stream.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { MediaNotFoundError, entityTag, type MediaStorage } from '../../src/infra/media/media-storage.ts';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

export interface MediaStoreFixture {
  storage: MediaStorage;
  close(): Promise<void>;
}

export function mediaStoreContract(driver: string, open: () => Promise<MediaStoreFixture>): void {
  describe(`media store contract: ${driver}`, () => {
    let fx: MediaStoreFixture;
    let storage: MediaStorage;
    // Over several GridFS chunks (255 KiB), not a multiple of any chunk size.
    const big = randomBytes(1024 * 1024 + 12_345);
    before(async () => {
      fx = await open();
      storage = fx.storage;
    });
    after(async () => {
      await fx.close();
    });

    it('has nothing under an unknown id: stat is null, open rejects', async () => {
      assert.equal(await storage.stat('nothing-here'), null);
      await assert.rejects(storage.open('nothing-here'), MediaNotFoundError);
    });

    it('stores a file and gives it back whole, with its type, size and an entity tag of its bytes', async () => {
      const stored = await storage.put('file.1', big, 'video/mp4');
      assert.deepEqual([stored.id, stored.contentType, stored.size, stored.etag], ['file.1', 'video/mp4', big.length, entityTag(big)]);
      const stat = await storage.stat('file.1');
      assert.ok(stat);
      assert.deepEqual([stat.id, stat.contentType, stat.size, stat.etag], ['file.1', 'video/mp4', big.length, entityTag(big)]);
      assert.ok(stat.storedAt instanceof Date && !Number.isNaN(stat.storedAt.getTime()));
      const back = await readAll(await storage.open('file.1'));
      assert.equal(back.length, big.length);
      assert.ok(back.equals(big), 'the same bytes');
    });

    it('reads byte ranges: first byte, last byte, across chunk boundaries, the tail', async () => {
      await storage.put('file.2', big, 'application/pdf');
      const cases: [number, number][] = [
        [0, 0],
        [big.length - 1, big.length - 1],
        [255 * 1024 - 10, 255 * 1024 + 10],
        [100_000, 900_000],
        [768 * 1024 - 1, 768 * 1024],
        [1_000_000, big.length - 1],
      ];
      for (const [start, end] of cases) {
        const got = await readAll(await storage.open('file.2', { start, end }));
        assert.ok(got.equals(big.subarray(start, end + 1)), `bytes ${start}-${end}: got ${got.length} bytes`);
      }
    });

    it('streams: a large file arrives in several chunks, not one buffer', async () => {
      const stream = await storage.open('file.2');
      let chunks = 0;
      let size = 0;
      for await (const c of stream) {
        chunks++;
        size += (c as Buffer).length;
      }
      assert.equal(size, big.length);
      assert.ok(chunks > 1, `${chunks} chunk(s)`);
    });

    it('replaces a file stored again under the same id (a download repeated after a crash)', async () => {
      const first = randomBytes(300_000);
      const second = randomBytes(1000);
      await storage.put('file.3', first, 'image/jpeg');
      await storage.put('file.3', second, 'image/png');
      const stat = await storage.stat('file.3');
      assert.deepEqual([stat?.size, stat?.contentType, stat?.etag], [1000, 'image/png', entityTag(second)]);
      assert.ok((await readAll(await storage.open('file.3'))).equals(second));
    });

    it('keeps an empty file', async () => {
      await storage.put('file.empty', Buffer.alloc(0), 'text/plain');
      assert.equal((await storage.stat('file.empty'))?.size, 0);
      assert.equal((await readAll(await storage.open('file.empty'))).length, 0);
    });

    it('deletes a file; deleting one that is not there is no error', async () => {
      await storage.put('file.4', Buffer.from('bye'), 'text/plain');
      await storage.delete('file.4');
      assert.equal(await storage.stat('file.4'), null);
      await storage.delete('file.4');
    });

    it('gives the same entity tag for the same bytes under another id', async () => {
      const a = await storage.put('same.a', Buffer.from('same bytes'), 'text/plain');
      const b = await storage.put('same.b', Buffer.from('same bytes'), 'text/plain');
      const c = await storage.put('same.c', Buffer.from('other bytes'), 'text/plain');
      assert.equal(a.etag, b.etag);
      assert.notEqual(a.etag, c.etag);
      assert.match(a.etag, /^"[\w-]{43}"$/);
    });
  });
}
