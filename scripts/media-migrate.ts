/**
 * `npm run media:migrate`: copies media stored in the old chunk format
 * (`media` + `media_chunks`) into the driver MEDIA_STORE selects (GridFS or
 * S3), with the service's own configuration. Optional: old files are served
 * as they are until then. Exit 1 when any file could not be copied.
 */
import { loadConfig } from '../src/infra/config.ts';
import { LegacyChunkMedia } from '../src/infra/media/media-legacy.ts';
import { migrateLegacyMedia } from '../src/infra/media/migrate-legacy.ts';
import { openMediaStorage } from '../src/infra/media/open-media-storage.ts';
import { MongoStore } from '../src/infra/store/store.mongo.ts';

const config = loadConfig();
if (!config.MONGO_URL) {
  console.error('media:migrate needs MONGO_URL (embedded mode keeps nothing to migrate)');
  process.exit(1);
}
const store = await MongoStore.connect({ url: config.MONGO_URL, dbName: config.MONGO_DB });
const media = await openMediaStorage(config, store);
try {
  const target = media.primary;
  console.log(`copying media from the old chunk format to ${target.kind}`);
  const { moved, failed } = await migrateLegacyMedia(new LegacyChunkMedia(store), target, (line) => console.log(line));
  console.log(`done: ${moved} moved, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
} finally {
  media.close();
  await store.close();
}
