/**
 * Media in MongoDB's GridFS (bucket `media_files`: `media_files.files` and
 * `media_files.chunks`, created and indexed by the driver): binary chunks of
 * 255 KiB, the file's document written after its last chunk, so a file that
 * is listed is complete. Ranges read only the chunks they cover.
 */
import { Readable } from 'node:stream';
import type { GridFSBucket } from 'mongodb';
import type { MongoStore } from '../store/store.mongo.ts';
import { MediaNotFoundError, entityTag, type ByteRange, type MediaStorage, type StoredMedia } from './media-storage.ts';

const BUCKET = 'media_files';
const CHUNK_BYTES = 255 * 1024;
/** Read per download stream: 4 chunks. */
const WINDOW_BYTES = 4 * CHUNK_BYTES;

interface FileDoc {
  _id: string;
  length: number;
  uploadDate: Date;
  metadata?: { content_type?: string; etag?: string };
}

export class GridFsMediaStorage implements MediaStorage {
  readonly kind = 'gridfs' as const;
  private readonly bucket: GridFSBucket;

  constructor(store: MongoStore) {
    this.bucket = store.gridfsBucket(BUCKET, CHUNK_BYTES);
  }

  async put(id: string, bytes: Buffer, contentType: string): Promise<StoredMedia> {
    await this.delete(id); // an earlier copy, or chunks a crash left without their file document
    const etag = entityTag(bytes);
    const upload = this.bucket.openUploadStreamWithId(id as never, id, { metadata: { content_type: contentType, etag } });
    await new Promise<void>((resolve, reject) => {
      upload.once('error', reject);
      upload.end(bytes, () => resolve());
    });
    return { id, contentType, size: bytes.length, etag, storedAt: new Date() };
  }

  async stat(id: string): Promise<StoredMedia | null> {
    const [doc] = (await this.bucket.find({ _id: id as never }, { limit: 1 }).toArray()) as unknown as FileDoc[];
    if (!doc) return null;
    return {
      id,
      contentType: doc.metadata?.content_type ?? 'application/octet-stream',
      size: doc.length,
      etag: doc.metadata?.etag ?? `"gridfs-${id}-${doc.length}"`,
      storedAt: doc.uploadDate,
    };
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    const meta = await this.stat(id);
    if (!meta) throw new MediaNotFoundError(`no stored media ${id}`);
    const { start, end } = range ?? { start: 0, end: meta.size - 1 };
    return Readable.from(this.windows(id, start, end), { objectMode: false, highWaterMark: CHUNK_BYTES });
  }

  /**
   * The bytes `start`..`end` a window of a few chunks at a time: one download
   * stream reads its whole cursor batch (up to 16 MB of chunks) whatever its
   * reader takes, so each stream covers only WINDOW_BYTES.
   */
  private async *windows(id: string, start: number, end: number): AsyncGenerator<Buffer> {
    for (let at = start; at <= end; at += WINDOW_BYTES) {
      // GridFS's `end` is exclusive.
      for await (const chunk of this.bucket.openDownloadStream(id as never, { start: at, end: Math.min(end + 1, at + WINDOW_BYTES) })) yield chunk as Buffer;
    }
  }

  async delete(id: string): Promise<void> {
    try {
      await this.bucket.delete(id as never);
    } catch (err) {
      if (!/not found/i.test((err as Error).message)) throw err; // FileNotFound: nothing (left) to delete
    }
  }
}
