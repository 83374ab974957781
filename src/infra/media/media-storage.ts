/**
 * Where downloaded customer media is kept, behind one interface with three
 * drivers (`test/contract/media-store.contract.ts` holds them to it): GridFS
 * through the MongoDB driver, process memory (embedded mode), and an
 * S3-compatible object store. Files are written whole (a download is capped
 * at 16 MiB) and read back as streams, whole or one byte range.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { ErrorCode } from '../errors.ts';

export interface StoredMedia {
  /** WhatsApp's media id: the file's key in every driver. */
  id: string;
  contentType: string;
  size: number;
  /** A strong HTTP entity tag (quoted), from the bytes' SHA-256: the same in every driver. */
  etag: string;
  storedAt: Date;
}

/** Bytes `start` to `end`, both included (HTTP's own convention). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface MediaStorage {
  readonly kind: 'memory' | 'gridfs' | 's3' | 'legacy';
  /** Stores the bytes under `id`; storing the same id again replaces them (a download repeated after a crash). */
  put(id: string, bytes: Buffer, contentType: string): Promise<StoredMedia>;
  /** What is stored under `id`, or null. */
  stat(id: string): Promise<StoredMedia | null>;
  /**
   * The bytes of a stored file (of `range` when given, which must lie within
   * it), read as the stream is consumed: nothing holds the whole file.
   * Rejects when nothing is stored under `id`.
   */
  open(id: string, range?: ByteRange): Promise<Readable>;
  delete(id: string): Promise<void>;
}

/** Thrown by `open` for an id with no stored file. */
export class MediaNotFoundError extends Error {
  override readonly name = 'MediaNotFoundError';
  /** A file gone between its stat and its read (deleted meanwhile). */
  readonly publicCode: ErrorCode = 'NOT_FOUND';
}

/** The entity tag of `bytes`: quoted SHA-256, base64url. */
export function entityTag(bytes: Buffer): string {
  return `"${sha256(bytes)}"`;
}

export function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('base64url');
}

/** How many bytes `range` covers in a file of `size` (the whole file without one). */
export function rangeLength(size: number, range?: ByteRange): number {
  return range ? range.end - range.start + 1 : size;
}

/** Serves from `primary`, falling back to `older` (files kept in a previous format) for reads only. */
export class MediaStorageWithFallback implements MediaStorage {
  readonly kind: MediaStorage['kind'];

  constructor(
    private readonly primary: MediaStorage,
    private readonly older: MediaStorage,
  ) {
    this.kind = primary.kind;
  }

  put(id: string, bytes: Buffer, contentType: string): Promise<StoredMedia> {
    return this.primary.put(id, bytes, contentType);
  }

  async stat(id: string): Promise<StoredMedia | null> {
    return (await this.primary.stat(id)) ?? this.older.stat(id);
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    if (await this.primary.stat(id)) return this.primary.open(id, range);
    return this.older.open(id, range);
  }

  async delete(id: string): Promise<void> {
    await Promise.all([this.primary.delete(id), this.older.delete(id)]);
  }
}
