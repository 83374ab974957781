import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { StoreError } from '../../src/infra/store/store.ts';
import { freePort } from '../support/ports.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';
import { storeContract } from './store.contract.ts';

storeContract('mongodb', () => MongoStore.connect({ url: testMongoUrl(), dbName: uniqueName('store') }));

describe('mongodb store without a server', () => {
  it('fails to connect with an unavailable error within its selection timeout, not a hang', async () => {
    const port = await freePort();
    const started = Date.now();
    await assert.rejects(
      MongoStore.connect({ url: `mongodb://127.0.0.1:${port}`, dbName: 'x', serverSelectionTimeoutMS: 500 }),
      (e: unknown) => e instanceof StoreError && e.kind === 'unavailable' && /unavailable/.test(e.message),
    );
    assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
  });
});
