/** Picks the media driver from configuration (MEDIA_STORE) and keeps files of the old chunk format readable. */
import type { Config } from '../config.ts';
import { StartupError } from '../connect.ts';
import type { DocumentStore } from '../store/store.ts';
import { MongoStore } from '../store/store.mongo.ts';
import { LegacyChunkMedia } from './media-legacy.ts';
import { GridFsMediaStorage } from './media-storage.gridfs.ts';
import { MemoryMediaStorage } from './media-storage.memory.ts';
import { S3MediaStorage } from './media-storage.s3.ts';
import { MediaStorageWithFallback, type MediaStorage } from './media-storage.ts';

export interface OpenedMediaStorage {
  /** The configured driver, reading old-format files as a fallback. */
  storage: MediaStorage;
  /** The configured driver alone (the migration's target). */
  primary: MediaStorage;
  close(): void;
}

type MediaConfig = Pick<Config, 'MEDIA_STORE' | 'S3_BUCKET' | 'S3_ENDPOINT' | 'S3_REGION' | 'S3_FORCE_PATH_STYLE' | 'AWS_ACCESS_KEY_ID' | 'AWS_SECRET_ACCESS_KEY' | 'AWS_SESSION_TOKEN'>;

/** `auto`: GridFS when the document store is MongoDB, memory when it is embedded. An S3 bucket that cannot be reached stops the start. */
export async function openMediaStorage(config: MediaConfig, store: DocumentStore): Promise<OpenedMediaStorage> {
  const legacy = new LegacyChunkMedia(store);
  const kind = config.MEDIA_STORE === 'auto' ? (store instanceof MongoStore ? 'gridfs' : 'memory') : config.MEDIA_STORE;
  if (kind === 's3') {
    const s3 = new S3MediaStorage(s3Options(config));
    try {
      await s3.check();
    } catch (err) {
      s3.close();
      throw new StartupError(`media store: S3 bucket ${config.S3_BUCKET} is not reachable: ${(err as Error).name} ${(err as Error).message}`.trim());
    }
    return { storage: new MediaStorageWithFallback(s3, legacy), primary: s3, close: () => s3.close() };
  }
  if (kind === 'gridfs') {
    if (!(store instanceof MongoStore)) throw new StartupError('media store: MEDIA_STORE=gridfs needs MONGO_URL');
    const gridfs = new GridFsMediaStorage(store);
    return { storage: new MediaStorageWithFallback(gridfs, legacy), primary: gridfs, close: () => undefined };
  }
  const memory = new MemoryMediaStorage();
  return { storage: new MediaStorageWithFallback(memory, legacy), primary: memory, close: () => undefined };
}

export function s3Options(config: MediaConfig) {
  return {
    bucket: config.S3_BUCKET ?? '',
    region: config.S3_REGION,
    endpoint: config.S3_ENDPOINT,
    forcePathStyle: config.S3_FORCE_PATH_STYLE === undefined ? undefined : config.S3_FORCE_PATH_STYLE === 'true',
    credentials:
      config.AWS_ACCESS_KEY_ID && config.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: config.AWS_ACCESS_KEY_ID, secretAccessKey: config.AWS_SECRET_ACCESS_KEY, sessionToken: config.AWS_SESSION_TOKEN }
        : undefined,
  };
}
