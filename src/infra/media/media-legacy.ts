/**
 * Owns `media` and `media_chunks`: media stored by earlier versions (base64
 * strings in 768 KiB-of-bytes chunk documents, the `media` document written
 * last). Read-only: new files go to the configured driver, and this reader
 * keeps the old ones served (`MediaStorageWithFallback`), a range reading
 * only the chunks it covers. `npm run media:migrate` copies them over.
 */
import { Readable } from 'node:stream';
import type { Collection, DocumentStore, IndexSpec } from '../store/store.ts';
import { MediaNotFoundError, type ByteRange, type MediaStorage, type StoredMedia } from './media-storage.ts';

const MEDIA = 'media';
const MEDIA_CHUNKS = 'media_chunks';

/** Chunks are read back in order. */
export const MEDIA_INDEXES: readonly IndexSpec[] = [{ collection: MEDIA_CHUNKS, name: 'media_n', keys: { media_id: 1, n: 1 } }];

/** Bytes per chunk document in the old format. */
const CHUNK_BYTES = 768 * 1024;

export class LegacyChunkMedia implements MediaStorage {
  readonly kind = 'legacy' as const;
  private readonly files: Collection;
  private readonly chunks: Collection;

  constructor(store: DocumentStore) {
    this.files = store.collection(MEDIA);
    this.chunks = store.collection(MEDIA_CHUNKS);
  }

  put(): Promise<StoredMedia> {
    return Promise.reject(new Error('the old media format is read-only'));
  }

  async stat(id: string): Promise<StoredMedia | null> {
    const doc = await this.files.findOne({ _id: id });
    if (!doc) return null;
    return {
      id,
      contentType: String(doc.mime_type ?? 'application/octet-stream'),
      size: Number(doc.size),
      // Its SHA-256 was kept in base64: the same tag as the current drivers give the same bytes.
      etag: `"${Buffer.from(String(doc.sha256), 'base64').toString('base64url')}"`,
      storedAt: doc.stored_at instanceof Date ? doc.stored_at : new Date(0),
    };
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    const meta = await this.stat(id);
    if (!meta) throw new MediaNotFoundError(`no stored media ${id}`);
    const { start, end } = range ?? { start: 0, end: meta.size - 1 };
    // Not object mode: the stream buffers bytes (about one chunk), not 16 chunk documents.
    return Readable.from(this.read(id, start, end), { objectMode: false, highWaterMark: CHUNK_BYTES });
  }

  /** Chunk by chunk, only those covering `start`..`end`. */
  private async *read(id: string, start: number, end: number): AsyncGenerator<Buffer> {
    for (let n = Math.floor(start / CHUNK_BYTES); n * CHUNK_BYTES <= end; n++) {
      const doc = await this.chunks.findOne({ media_id: id, n });
      if (!doc) throw new Error(`media ${id}: chunk ${n} is missing`);
      const bytes = Buffer.from(String(doc.data), 'base64');
      const from = Math.max(0, start - n * CHUNK_BYTES);
      const to = Math.min(bytes.length, end - n * CHUNK_BYTES + 1);
      yield bytes.subarray(from, to);
    }
  }

  /** Ids of files in the old format, `limit` at a time after `after` (the migration). */
  async ids(after: string, limit: number): Promise<string[]> {
    const docs = await this.files.find({ _id: { $gt: after } }, { sort: { _id: 1 }, limit, projection: { _id: 1 } });
    return docs.map((d) => String(d._id));
  }

  async delete(id: string): Promise<void> {
    await this.files.deleteOne({ _id: id });
    await this.chunks.deleteMany({ media_id: id });
  }
}
