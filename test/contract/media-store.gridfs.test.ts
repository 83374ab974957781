import { GridFsMediaStorage } from '../../src/infra/media/media-storage.gridfs.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';
import { mediaStoreContract } from './media-store.contract.ts';

mediaStoreContract('gridfs', async () => {
  const store = await MongoStore.connect({ url: testMongoUrl(), dbName: uniqueName('media') });
  return { storage: new GridFsMediaStorage(store), close: () => store.close() };
});
