/** The one-off copy of old chunk-format media into the current driver. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { LegacyChunkMedia } from '../../src/infra/media/media-legacy.ts';
import { MemoryMediaStorage } from '../../src/infra/media/media-storage.memory.ts';
import { entityTag } from '../../src/infra/media/media-storage.ts';
import { migrateLegacyMedia } from '../../src/infra/media/migrate-legacy.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';

const CHUNK = 768 * 1024;

async function keepOld(store: MemoryStore, id: string, bytes: Buffer, chunks = Math.max(1, Math.ceil(bytes.length / CHUNK))): Promise<void> {
  for (let n = 0; n < chunks; n++) {
    await store.collection('media_chunks').insertOne({ _id: `${id}:${n}`, media_id: id, n, data: bytes.subarray(n * CHUNK, (n + 1) * CHUNK).toString('base64') });
  }
  await store.collection('media').insertOne({ _id: id, mime_type: 'image/jpeg', size: bytes.length, sha256: createHash('sha256').update(bytes).digest('base64'), chunks, stored_at: new Date() });
}

describe('media migration from the old chunk format', () => {
  it('copies every complete file, checked by its entity tag, removes it from the old collections, and keeps a broken one', async () => {
    const store = new MemoryStore();
    const target = new MemoryMediaStorage();
    const legacy = new LegacyChunkMedia(store);
    const files = [randomBytes(10), randomBytes(CHUNK * 2 + 5), Buffer.alloc(0)];
    for (const [i, f] of files.entries()) await keepOld(store, `old-${i}`, f);
    await keepOld(store, 'old-broken', randomBytes(CHUNK + 1), 1); // its second chunk is missing
    const lines: string[] = [];
    const result = await migrateLegacyMedia(legacy, target, (l) => lines.push(l));
    assert.deepEqual(result, { moved: 3, failed: 1 });
    for (const [i, f] of files.entries()) {
      const stat = await target.stat(`old-${i}`);
      assert.deepEqual([stat?.size, stat?.etag, stat?.contentType], [f.length, entityTag(f), 'image/jpeg']);
      assert.equal(await legacy.stat(`old-${i}`), null, 'gone from the old format');
    }
    assert.equal(await target.stat('old-broken'), null);
    assert.ok(await legacy.stat('old-broken'), 'a file that could not be copied stays where it is');
    assert.ok(lines.some((l) => /old-broken: not migrated: .*chunk 1 is missing/.test(l)), lines.join('\n'));
    assert.deepEqual(await migrateLegacyMedia(legacy, target), { moved: 0, failed: 1 }, 'a second run only retries what failed');
  });
});
