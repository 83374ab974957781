/** Media kept in process memory: embedded mode (no MongoDB), lost with the process like everything else there. */
import { Readable } from 'node:stream';
import { MediaNotFoundError, entityTag, type ByteRange, type MediaStorage, type StoredMedia } from './media-storage.ts';

/** Slices handed to the stream at a time (views, no copies). */
const SLICE = 64 * 1024;

export class MemoryMediaStorage implements MediaStorage {
  readonly kind = 'memory' as const;
  private readonly files = new Map<string, { meta: StoredMedia; bytes: Buffer }>();

  async put(id: string, bytes: Buffer, contentType: string): Promise<StoredMedia> {
    const meta: StoredMedia = { id, contentType, size: bytes.length, etag: entityTag(bytes), storedAt: new Date() };
    this.files.set(id, { meta, bytes: Buffer.from(bytes) }); // a copy: the caller may reuse its buffer
    return { ...meta };
  }

  async stat(id: string): Promise<StoredMedia | null> {
    const f = this.files.get(id);
    return f ? { ...f.meta } : null;
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    const f = this.files.get(id);
    if (!f) throw new MediaNotFoundError(`no stored media ${id}`);
    const bytes = range ? f.bytes.subarray(range.start, range.end + 1) : f.bytes;
    return Readable.from(slices(bytes), { objectMode: false, highWaterMark: SLICE });
  }

  async delete(id: string): Promise<void> {
    this.files.delete(id);
  }
}

function* slices(bytes: Buffer): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += SLICE) yield bytes.subarray(at, at + SLICE);
}
