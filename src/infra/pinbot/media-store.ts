/** Owns `media` and `media_chunks`: downloaded WhatsApp media, kept so the dashboard can show it (`mediaUrl`). */
import { createHash } from 'node:crypto';
import type { Collection, DocumentStore, IndexSpec } from '../store/store.ts';

const MEDIA = 'media';
const MEDIA_CHUNKS = 'media_chunks';

/** Chunks are read back in order. */
export const MEDIA_INDEXES: readonly IndexSpec[] = [{ collection: MEDIA_CHUNKS, name: 'media_n', keys: { media_id: 1, n: 1 } }];

export interface MediaMeta {
  /** WhatsApp's media id. */
  id: string;
  mimeType: string;
  size: number;
  sha256: string;
  chatId?: string | undefined;
  messageId?: string | undefined;
}

const CHUNK_BYTES = 768 * 1024; // 1 MiB of base64 per chunk document

/**
 * Bytes go in `media_chunks` as base64 strings (a 16 MiB file would not fit
 * one 16 MB MongoDB document, and strings survive both store drivers alike);
 * the `media` document, written last, marks the file complete.
 */
export class MediaStore {
  private readonly files: Collection;
  private readonly chunks: Collection;

  constructor(store: DocumentStore) {
    this.files = store.collection(MEDIA);
    this.chunks = store.collection(MEDIA_CHUNKS);
  }

  /** Stores the bytes under `id`; storing the same id again rewrites the same chunks (idempotent). */
  async save(id: string, bytes: Buffer, info: { mimeType: string; chatId?: string; messageId?: string }): Promise<MediaMeta> {
    const count = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
    for (let n = 0; n < count; n++) {
      const data = bytes.subarray(n * CHUNK_BYTES, (n + 1) * CHUNK_BYTES).toString('base64');
      await this.chunks.updateOne({ _id: `${id}:${n}` }, { $set: { media_id: id, n, data } }, { upsert: true });
    }
    const meta: MediaMeta = { id, mimeType: info.mimeType, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('base64'), chatId: info.chatId, messageId: info.messageId };
    await this.files.updateOne(
      { _id: id },
      { $set: { mime_type: meta.mimeType, size: meta.size, sha256: meta.sha256, chunks: count, chat_id: info.chatId ?? null, message_id: info.messageId ?? null, stored_at: new Date() } },
      { upsert: true },
    );
    return meta;
  }

  /** The stored file, or null when there is none (or it is incomplete). */
  async load(id: string): Promise<{ meta: MediaMeta; bytes: Buffer } | null> {
    const doc = await this.files.findOne({ _id: id });
    if (!doc) return null;
    const parts = await this.chunks.find({ media_id: id }, { sort: { n: 1 } });
    if (parts.length !== doc.chunks) return null;
    const bytes = Buffer.concat(parts.map((p) => Buffer.from(String(p.data), 'base64')));
    if (bytes.length !== doc.size) return null;
    return { meta: { id, mimeType: String(doc.mime_type), size: Number(doc.size), sha256: String(doc.sha256) }, bytes };
  }

  async has(id: string): Promise<boolean> {
    return (await this.files.countDocuments({ _id: id })) > 0;
  }
}

/** The dashboard's URL for a stored file (served by `GET /api/media/{id}` with an agent token). */
export const mediaUrl = (id: string): string => `/api/media/${encodeURIComponent(id)}`;
