/**
 * Media in an S3-compatible object store (AWS S3, MinIO, Ceph…), one object
 * per file under `media/{id}` in S3_BUCKET, through the AWS SDK v3. The
 * entity tag is our SHA-256 (object metadata), the same as the other
 * drivers'; ranges are S3's own `Range` reads, streamed as they arrive.
 */
import type { Readable } from 'node:stream';
import { DeleteObjectCommand, GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { MediaNotFoundError, entityTag, type ByteRange, type MediaStorage, type StoredMedia } from './media-storage.ts';

export interface S3MediaOptions {
  bucket: string;
  region: string;
  /** An S3-compatible endpoint; unset: AWS's own. */
  endpoint?: string | undefined;
  forcePathStyle?: boolean | undefined;
  /** Unset: the SDK's default chain (environment, shared files, instance or pod role). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string | undefined } | undefined;
}

const key = (id: string) => `media/${id}`;

export class S3MediaStorage implements MediaStorage {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;

  constructor(opts: S3MediaOptions) {
    this.bucket = opts.bucket;
    this.client = new S3Client({
      region: opts.region,
      ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
      forcePathStyle: opts.forcePathStyle ?? opts.endpoint !== undefined,
      ...(opts.credentials ? { credentials: opts.credentials } : {}),
      maxAttempts: 3,
    });
  }

  /** Proves the bucket exists and the credentials reach it (start-up). */
  async check(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async put(id: string, bytes: Buffer, contentType: string): Promise<StoredMedia> {
    const etag = entityTag(bytes);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key(id), Body: bytes, ContentType: contentType, ContentLength: bytes.length, Metadata: { etag: etag.slice(1, -1) } }));
    return { id, contentType, size: bytes.length, etag, storedAt: new Date() };
  }

  async stat(id: string): Promise<StoredMedia | null> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key(id) }));
      const tag = h.Metadata?.etag;
      return {
        id,
        contentType: h.ContentType ?? 'application/octet-stream',
        size: h.ContentLength ?? 0,
        etag: tag ? `"${tag}"` : (h.ETag ?? `"s3-${id}"`),
        storedAt: h.LastModified ?? new Date(0),
      };
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
  }

  async open(id: string, range?: ByteRange): Promise<Readable> {
    try {
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key(id), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }));
      return r.Body as Readable; // Node.js: an IncomingMessage, read as it is consumed
    } catch (err) {
      if (isNotFound(err)) throw new MediaNotFoundError(`no stored media ${id}`);
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key(id) }));
  }

  close(): void {
    this.client.destroy();
  }
}

function isNotFound(err: unknown): boolean {
  return err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound');
}
