/**
 * Customer media as durable download jobs, through the running app, a fake
 * Pinbot, MongoDB (GridFS) and Redis: failures retried with backoff until the
 * file is stored, a permanent refusal failed with its reason, an agent's
 * retry, the state and attempts on the message and pushed to the room.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, mediaWebhook, postWebhook, textWebhook } from '../support/webhooks.ts';

const CUSTOMER_CHANNEL = '8000247247';
const agentToken = signToken({ sub: '9099039188' }, TEST_JWT_SECRET);

describe('customer media downloads', () => {
  let app: TestApp;
  let fake: FakePinbot;
  const agents: AgentClient[] = [];
  let customerSeq = 0;
  const get = (path: string, token?: string) => fetch(`${app.url}${path}`, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  /** Posts a media webhook from a new customer; resolves with the stored message once its media job is settled as `status`. */
  const sendMedia = async (mediaId: string, opts: { mimeType?: string } = {}) => {
    const from = `9198222${String(++customerSeq).padStart(5, '0')}`;
    assert.equal((await postWebhook(app.url, CUSTOMER_CHANNEL, mediaWebhook(from, mediaId, opts))).status, 200);
    return eventually(() => app.store.collection('messages').findOne({ 'media.id': mediaId }), 5000, 'message stored');
  };
  const settled = (mediaId: string, status: string, timeoutMs = 10_000) =>
    eventually(async () => {
      const m = await app.store.collection('messages').findOne({ 'media.id': mediaId });
      return m?.media_status === status ? m : undefined;
    }, timeoutMs, `media ${mediaId} ${status}`);
  const room = async (chatId: string) => {
    const c = await AgentClient.connect(app.url, '9099039188', { chatId });
    agents.push(c);
    return c;
  };

  before(async () => {
    fake = await startFakePinbot();
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('media'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('media')}:`,
      PINBOT_ORIGIN: fake.origin, PINBOT_V3_ORIGIN: fake.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2',
      MEDIA_RETRY_BACKOFF_MS: '100', MEDIA_DOWNLOAD_TIMEOUT_MS: '400',
    });
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await app.stop();
    await fake.close();
  });

  it('downloads once, stores in GridFS as binary chunks, and serves the bytes at the message’s mediaUrl', async () => {
    const image = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.alloc(300_000, 7), Buffer.from([0xff, 0xd9])]);
    fake.media('m-once', { status: 200, body: image, headers: { 'content-type': 'image/jpeg' } });
    await sendMedia('m-once');
    const msg = await settled('m-once', 'stored');
    assert.deepEqual([msg.mediaUrl, msg.media_attempts, msg.media_error], ['/api/media/m-once', 1, undefined]);
    const req = fake.requests.find((r) => r.path === '/v1/downloadmedia/m-once');
    assert.deepEqual([req?.method, req?.headers.apikey, req?.headers.wanumber], ['GET', 'k2', '919638106888']);
    assert.equal(fake.downloads.get('m-once'), 1);
    // GridFS: the file's document and binary chunks (no base64 strings, nothing in the old chunk collection).
    const file = await app.store.collection('media_files.files').findOne({ _id: 'm-once' });
    assert.equal(file?.length, image.length);
    const chunk = await app.store.collection('media_files.chunks').findOne({ files_id: 'm-once', n: 0 });
    assert.ok(chunk && typeof chunk.data !== 'string', 'binary chunk data');
    assert.equal(await app.store.collection('media_chunks').countDocuments({ media_id: 'm-once' }), 0);
    const res = await get(String(msg.mediaUrl), agentToken);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'image/jpeg');
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(image));
    assert.equal((await get(String(msg.mediaUrl))).status, 401, 'no token, no file');
    assert.equal((await get(`${msg.mediaUrl}?token=${agentToken}`)).status, 401, 'a token in the URL is refused on HTTP');
  });

  it('retries 5xx answers, timeouts and truncated bodies with backoff, then stores the file once, with the attempts on the message and in the room', async () => {
    const video = Buffer.alloc(200_000, 3);
    fake.media(
      'm-flaky',
      { status: 200, body: video, headers: { 'content-type': 'video/mp4' } },
      { status: 503, body: { error: 'busy' } },
      { status: 200, body: video, delayMs: 1500 }, // over MEDIA_DOWNLOAD_TIMEOUT_MS
      { status: 200, body: video, headers: { 'content-type': 'video/mp4' }, truncate: true },
      { status: 500, body: 'oops' },
    );
    const stored = await sendMedia('m-flaky', { mimeType: 'video/mp4' });
    const r = await room(String(stored.chat_id));
    const msg = await settled('m-flaky', 'stored', 15_000);
    assert.equal(msg.media_attempts, 5, '4 failures, then the download that worked');
    assert.equal(msg.media_error, undefined, 'the last failure is cleared once stored');
    assert.equal(fake.requests.filter((q) => q.path === '/v1/downloadmedia/m-flaky').length, 5);
    assert.equal(fake.downloads.get('m-flaky'), 1, 'one complete download');
    const job = await app.store.collection('media_jobs').findOne({ _id: msg._id });
    assert.deepEqual([job?.state, job?.attempts, job?.error], ['stored', 5, null]);
    // The room saw the attempts go by (pending with the reason and the next attempt), then stored with a link.
    const pushes = r.pushes.filter((f) => f.event === 'message_media' && f.data.message_id === msg._id).map((f) => f.data);
    const pending = pushes.filter((p) => p.media_status === 'pending' && p.media_error);
    assert.ok(pending.length >= 1, `pending pushes: ${JSON.stringify(pushes)}`);
    assert.ok(pending.every((p) => typeof p.next_attempt_at === 'string'));
    const done = await r.waitForPush((f) => f.event === 'message_media' && f.data.message_id === msg._id && f.data.media_status === 'stored');
    assert.equal(done.data.media_attempts, 5);
    assert.equal(done.data.mediaUrl, '/api/media/m-flaky');
    const link = String(done.data.media_link);
    assert.match(link, /^\/api\/media\/m-flaky\?exp=\d+&sig=[\w-]{43}$/);
    const viaLink = await fetch(`${app.url}${link}`);
    assert.equal(viaLink.status, 200, 'the signed link works without a header');
    assert.ok(Buffer.from(await viaLink.arrayBuffer()).equals(video));
  });

  it('fails a permanent 404 at once with Pinbot’s reason, and an agent’s retry stores it once Pinbot has it', async () => {
    fake.media('m-gone', { status: 404, body: { error: { message: 'media not found' } } });
    // The agent has the chat open before the media arrives: a 404 fails within milliseconds, sooner than a room opened after it.
    const from = `9198222${String(++customerSeq).padStart(5, '0')}`;
    assert.equal((await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook(from, 'photo of the receipt next'))).status, 200);
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: from.slice(2) }), 5000, 'chat stored');
    const r = await room(String(chat._id));
    assert.equal((await postWebhook(app.url, CUSTOMER_CHANNEL, mediaWebhook(from, 'm-gone'))).status, 200);
    const failed = await settled('m-gone', 'failed');
    assert.equal(failed.media_attempts, 1, 'a 404 is not retried');
    assert.match(String(failed.media_error), /404.*media not found/);
    await new Promise((res) => setTimeout(res, 500));
    assert.equal(fake.requests.filter((q) => q.path === '/v1/downloadmedia/m-gone').length, 1, 'no retry after a permanent refusal');
    const push = await r.waitForPush((f) => f.event === 'message_media' && f.data.media_id === 'm-gone' && f.data.media_status === 'failed');
    assert.match(String(push.data.media_error), /404/);

    // Pinbot recovers; an agent asks again from the console.
    fake.media('m-gone', { status: 200, body: Buffer.from('found it'), headers: { 'content-type': 'image/png' } });
    const reply = await r.request('retry_media', { message_id: failed._id });
    assert.equal(reply.event, 'retry_media');
    assert.deepEqual([reply.data.media_status, reply.data.media_attempts], ['pending', 1]);
    const msg = await settled('m-gone', 'stored');
    assert.equal(msg.media_attempts, 2);
    const res = await get('/api/media/m-gone', agentToken);
    assert.equal(await res.text(), 'found it');
    const metrics = await (await fetch(`${app.url}/metrics`)).text();
    assert.match(metrics, /^media_downloads_total\{[^}]*outcome="stored"[^}]*\} [1-9]/m);
    assert.match(metrics, /^media_downloads_total\{[^}]*outcome="failed"[^}]*\} [1-9]/m);
    assert.match(metrics, /^media_jobs\{[^}]*state="pending"[^}]*\} \d+/m);
    assert.equal(fake.downloads.get('m-gone'), 1);
    // A retry of a download that is not failed changes nothing; an unknown message is NOT_FOUND.
    const again = await r.request('retry_media', { message_id: failed._id });
    assert.deepEqual([again.data.media_status, again.data.media_attempts], ['stored', 2]);
    const unknown = await r.request('retry_media', { message_id: 'no-such-message' });
    assert.equal(unknown.error?.code, 'NOT_FOUND');
  });

  it('refuses a file over WhatsApp’s 16 MB limit with the reason, without retrying', async () => {
    fake.media('m-big', { status: 200, headers: { 'content-type': 'video/mp4' }, body: Buffer.alloc(16 * 1024 * 1024 + 1) });
    await sendMedia('m-big', { mimeType: 'video/mp4' });
    const msg = await settled('m-big', 'failed');
    assert.match(String(msg.media_error), /^refused: .*exceeds 16777216 bytes/);
    assert.equal(msg.media_attempts, 1);
    assert.equal(msg.mediaUrl, undefined);
    await new Promise((res) => setTimeout(res, 400));
    assert.equal(fake.requests.filter((q) => q.path === '/v1/downloadmedia/m-big').length, 1);
  });

  it('prunes jobs stored a day ago, keeping failed ones (and every message and file)', async () => {
    const stored = await app.store.collection('media_jobs').countDocuments({ state: 'stored' });
    const failed = await app.store.collection('media_jobs').countDocuments({ state: 'failed' });
    assert.ok(stored > 0 && failed > 0, `${stored} stored, ${failed} failed`);
    assert.equal(await app.media.prune(86_400_000), 0, 'nothing stored a day ago yet');
    assert.equal(await app.media.prune(0), stored);
    assert.equal(await app.store.collection('media_jobs').countDocuments({ state: 'stored' }), 0);
    assert.equal(await app.store.collection('media_jobs').countDocuments({ state: 'failed' }), failed);
    assert.equal((await app.store.collection('messages').findOne({ 'media.id': 'm-once' }))?.media_status, 'stored');
    assert.equal((await get('/api/media/m-once', agentToken)).status, 200);
  });

  it('gives up when the retry window ends, with the last reason', async () => {
    // The window is the app's (24 h here): this job's own window is made to end now, as if a day of failures had passed.
    fake.media('m-late', { status: 502, body: 'bad gateway' });
    const stored = await sendMedia('m-late');
    await eventually(async () => Number((await app.store.collection('media_jobs').findOne({ _id: stored._id }))?.attempts ?? 0) >= 1, 5000, 'a first attempt');
    await app.store.collection('media_jobs').updateOne({ _id: stored._id }, { $set: { window_ends_at: new Date(Date.now() - 1) } });
    const msg = await settled('m-late', 'failed');
    assert.match(String(msg.media_error), /^gave up after \d+ attempt\(s\) in 1440 min: Pinbot answered 502/);
  });
});
