/**
 * A pod killed (SIGKILL, real processes) after the webhook was acknowledged
 * and while it was downloading the customer's media: the pod that takes the
 * chat's shard over downloads it, once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import { TEST_JWT_SECRET } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { startPod, waitForShards, type Pod } from '../support/pods.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, mediaWebhook, postWebhook } from '../support/webhooks.ts';

describe('media download and a pod that dies', () => {
  const pods: Pod[] = [];
  let fake: FakePinbot | undefined;
  let store: MongoStore | undefined;
  after(async () => {
    await Promise.all(pods.filter((p) => p.proc.exitCode === null && p.proc.signalCode === null).map((p) => p.stop()));
    await store?.close();
    await fake?.close();
  });

  it('is downloaded by the pod that takes the chat over, and only once', async () => {
    fake = await startFakePinbot();
    const photo = randomBytes(250_000);
    // The first request is held far longer than the test: the pod making it dies while it waits.
    fake.media('m-failover', { status: 200, body: photo, headers: { 'content-type': 'image/jpeg' } }, { status: 200, body: photo, delayMs: 120_000 });
    const env = {
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('mediafail'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('mediafail')}:`,
      PINBOT_ORIGIN: fake.origin, PINBOT_V3_ORIGIN: fake.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2', MEDIA_RETRY_BACKOFF_MS: '200',
    };
    pods.push(...(await Promise.all(['media-pod-a', 'media-pod-b'].map((id) => startPod(id, env)))));
    await waitForShards(pods);
    store = await MongoStore.connect({ url: env.MONGO_URL, dbName: env.MONGO_DB });

    assert.equal((await postWebhook(pods[0]!.url, '8000247247', mediaWebhook('919822233333', 'm-failover'))).status, 200);
    await fake.waitForRequests(1, 15_000);
    const claimed = await eventually(async () => {
      const job = await store!.collection('media_jobs').findOne({ media_id: 'm-failover' });
      return typeof job?.claimed_by === 'string' ? job : undefined;
    }, 10_000, 'the download claimed');
    const downloader = pods.find((p) => p.id === claimed.claimed_by)!;
    assert.ok(downloader, `claimed by ${String(claimed.claimed_by)}`);
    const survivor = pods.find((p) => p !== downloader)!;
    const killedAt = Date.now();
    downloader.proc.kill('SIGKILL');
    await downloader.exited;

    const msg = await eventually(async () => {
      const m = await store!.collection('messages').findOne({ 'media.id': 'm-failover' });
      return m?.media_status === 'stored' ? m : undefined;
    }, 40_000, 'the media stored by the surviving pod');
    console.log(`media stored ${Date.now() - killedAt} ms after the downloading pod was killed (shard lease 6 s)`);
    const job = await store.collection('media_jobs').findOne({ media_id: 'm-failover' });
    assert.deepEqual([job?.state, job?.attempts], ['stored', 2], 'the dead pod’s attempt, then the survivor’s');
    assert.equal(msg.media_attempts, 2);
    assert.equal(fake.requests.filter((r) => r.path === '/v1/downloadmedia/m-failover').length, 2);
    assert.equal(fake.downloads.get('m-failover'), 1, 'one successful download');
    const res = await fetch(`${survivor.url}/api/media/m-failover`, { headers: { authorization: `Bearer ${signToken({ sub: '9099039188' }, TEST_JWT_SECRET)}` } });
    assert.equal(res.status, 200);
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(photo));
  });
});
