/** The S3 driver against a real S3-compatible server (moto in server mode), not a mock. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { S3MediaStorage } from '../../src/infra/media/media-storage.s3.ts';
import { TEST_S3_CREDENTIALS, TEST_S3_REGION, createBucket, startS3Server } from '../support/s3-server.ts';
import { uniqueName } from '../support/services.ts';
import { mediaStoreContract } from './media-store.contract.ts';

mediaStoreContract('s3', async () => {
  const server = await startS3Server();
  const bucket = uniqueName('media').toLowerCase().replace(/_/g, '-');
  await createBucket(server.url, bucket);
  const storage = new S3MediaStorage({ bucket, region: TEST_S3_REGION, endpoint: server.url, credentials: TEST_S3_CREDENTIALS });
  await storage.check();
  return {
    storage,
    close: async () => {
      storage.close();
      await server.stop();
    },
  };
});

describe('s3 media store without its bucket', () => {
  it('fails its start-up check when the bucket does not exist', async () => {
    const server = await startS3Server();
    const storage = new S3MediaStorage({ bucket: 'no-such-bucket', region: TEST_S3_REGION, endpoint: server.url, credentials: TEST_S3_CREDENTIALS });
    try {
      await assert.rejects(storage.check());
    } finally {
      storage.close();
      await server.stop();
    }
  });
});
