import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig, redactUrl } from '../../src/infra/config.ts';

const bad = (env: Record<string, string>, pattern: RegExp) =>
  assert.throws(() => loadConfig(env), (e: unknown) => e instanceof ConfigError && pattern.test(e.message) && !e.message.includes('\n'));

describe('configuration', () => {
  it('has the contract defaults with an empty environment', () => {
    const c = loadConfig({});
    assert.equal(c.PORT, 5000);
    assert.equal(c.HOST, '0.0.0.0');
    assert.equal(c.MONGO_URL, undefined);
    assert.equal(c.MONGO_DB, 'chat_system');
    assert.equal(c.REDIS_URL, undefined);
    assert.match(c.POD_ID, /^[0-9a-f-]{36}$/);
    assert.equal(c.PINBOT_ORIGIN, 'https://partners.pinbot.ai');
    assert.equal(c.PINBOT_V3_ORIGIN, 'https://partnersv1.pinbot.ai');
    assert.equal(c.COMMUNICATION_MASTER_URL, 'https://communicationmaster.oneway.cab/webhook');
    assert.equal(c.LOG_LEVEL, 'info');
    assert.deepEqual(c.CORS_ORIGINS, []);
    assert.equal(c.jwtSecretGenerated, true);
    assert.ok(c.AGENT_JWT_SECRET.length >= 32);
  });

  it('treats blank values as unset, but an empty COMMUNICATION_MASTER_URL disables forwarding', () => {
    const c = loadConfig({ MONGO_URL: '', REDIS_URL: ' ', COMMUNICATION_MASTER_URL: '' });
    assert.equal(c.MONGO_URL, undefined);
    assert.equal(c.REDIS_URL, undefined);
    assert.equal(c.COMMUNICATION_MASTER_URL, undefined);
  });

  it('parses every setting it is given', () => {
    const c = loadConfig({
      PORT: '8080', MONGO_URL: 'mongodb://db:27017', REDIS_URL: 'redis://cache:6379', POD_ID: 'pod-1',
      AGENT_JWT_SECRET: 'a-secret-of-enough-length', CORS_ORIGINS: 'https://a.example, https://b.example',
      PINBOT_ORIGIN: 'http://127.0.0.1:9999/', UWS_ALLOW_FALLBACK: 'true', LOG_LEVEL: 'debug', EFFECT_ATTEMPTS: '3', EFFECT_BACKOFF_MS: '50',
    });
    assert.deepEqual([c.EFFECT_ATTEMPTS, c.EFFECT_BACKOFF_MS], [3, 50]);
    assert.equal(c.PORT, 8080);
    assert.equal(c.POD_ID, 'pod-1');
    assert.equal(c.jwtSecretGenerated, false);
    assert.deepEqual(c.CORS_ORIGINS, ['https://a.example', 'https://b.example']);
    assert.equal(c.PINBOT_ORIGIN, 'http://127.0.0.1:9999');
    assert.equal(c.UWS_ALLOW_FALLBACK, true);
  });

  it('names the variable in a one-line error for each bad value', () => {
    bad({ PORT: 'abc' }, /^invalid configuration: PORT: expected an integer/);
    bad({ PORT: '70000' }, /PORT/);
    bad({ MONGO_URL: 'http://db' }, /^invalid configuration: MONGO_URL: expected a mongodb: or mongodb\+srv: URL/);
    bad({ REDIS_URL: 'not a url' }, /REDIS_URL: not a URL/);
    bad({ LOG_LEVEL: 'loud' }, /LOG_LEVEL/);
    bad({ NODE_ENV: 'staging' }, /NODE_ENV/);
    bad({ CORS_ORIGINS: 'https://a.example/path' }, /CORS_ORIGINS/);
    bad({ AGENT_JWT_SECRET: 'short' }, /AGENT_JWT_SECRET: at least 16/);
    bad({ UWS_ALLOW_FALLBACK: 'maybe' }, /UWS_ALLOW_FALLBACK/);
    bad({ MONGO_DB: 'bad name!' }, /MONGO_DB/);
    bad({ MEDIA_STORE: 'ftp' }, /^invalid configuration: MEDIA_STORE/);
    bad({ MEDIA_STORE: 's3' }, /^invalid configuration: S3_BUCKET: required when MEDIA_STORE=s3$/);
    bad({ MEDIA_STORE: 'gridfs' }, /^invalid configuration: MEDIA_STORE: gridfs needs MONGO_URL$/);
    bad({ MEDIA_STORE: 's3', S3_BUCKET: 'Bad_Bucket' }, /^invalid configuration: S3_BUCKET: an S3 bucket name/);
    bad({ MEDIA_RETRY_WINDOW_MS: '5' }, /MEDIA_RETRY_WINDOW_MS: expected an integer/);
    bad({ S3_ENDPOINT: 'ftp://x' }, /S3_ENDPOINT/);
  });

  it('reads the media settings: GridFS or memory by default, 24 h of retries, S3 when asked', () => {
    const c = loadConfig({});
    assert.deepEqual([c.MEDIA_STORE, c.MEDIA_RETRY_WINDOW_MS, c.MEDIA_RETRY_BACKOFF_MS, c.S3_REGION], ['auto', 86_400_000, 10_000, 'us-east-1']);
    const s3 = loadConfig({ MEDIA_STORE: 's3', S3_BUCKET: 'chat-media', S3_ENDPOINT: 'http://127.0.0.1:9000', AWS_ACCESS_KEY_ID: 'id', AWS_SECRET_ACCESS_KEY: 'key' });
    assert.deepEqual([s3.MEDIA_STORE, s3.S3_BUCKET, s3.S3_ENDPOINT, s3.AWS_ACCESS_KEY_ID], ['s3', 'chat-media', 'http://127.0.0.1:9000', 'id']);
  });

  it('refuses production without an agent token secret', () => {
    bad({ NODE_ENV: 'production', WEBHOOK_SECRET: 'w' }, /AGENT_JWT_SECRET: required when NODE_ENV=production/);
    assert.equal(loadConfig({ NODE_ENV: 'production', AGENT_JWT_SECRET: 'x'.repeat(32), WEBHOOK_SECRET: 'w' }).jwtSecretGenerated, false);
  });

  it('refuses production with a token secret under 32 bytes', () => {
    bad({ NODE_ENV: 'production', AGENT_JWT_SECRET: 'x'.repeat(31), WEBHOOK_SECRET: 'w' }, /AGENT_JWT_SECRET: at least 32 bytes when NODE_ENV=production/);
    assert.equal(loadConfig({ AGENT_JWT_SECRET: 'x'.repeat(16) }).AGENT_JWT_SECRET.length, 16); // development keeps the 16-character floor
  });

  it('refuses production without a webhook signature secret (anyone could forge customer messages)', () => {
    bad({ NODE_ENV: 'production', AGENT_JWT_SECRET: 'x'.repeat(32) }, /WEBHOOK_SECRET: required when NODE_ENV=production/);
    bad({ NODE_ENV: 'production', AGENT_JWT_SECRET: 'x'.repeat(32), WEBHOOK_SECRET: ' ' }, /WEBHOOK_SECRET: required/);
    assert.equal(loadConfig({ NODE_ENV: 'production', AGENT_JWT_SECRET: 'x'.repeat(32), WEBHOOK_SECRET: 'w' }).WEBHOOK_SECRET, 'w');
  });

  it('never prints credentials of a bad URL', () => {
    assert.equal(redactUrl('mongodb://user:pw@db:27017/x'), 'mongodb://***@db:27017/x');
    assert.throws(() => loadConfig({ REDIS_URL: 'redis//user:pw@x' }), (e: unknown) => e instanceof Error && !e.message.includes('pw'));
  });
});
