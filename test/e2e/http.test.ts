import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { uwsIsNative } from '../../src/transport/uws.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';

const admin = `Bearer ${signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET)}`;
const agent = `Bearer ${signToken({ sub: '9099039188' }, TEST_JWT_SECRET)}`;

/** POSTs a body in 64 KiB chunks without a Content-Length, so the limit must hold while data arrives. */
function postChunked(url: string, totalBytes: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: { 'transfer-encoding': 'chunked', authorization: admin } }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let sent = 0;
    const pump = (): void => {
      if (sent >= totalBytes) return void req.end();
      sent += chunk.length;
      req.write(chunk, pump);
    };
    pump();
  });
}

describe('HTTP server in embedded mode', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ CORS_ORIGINS: 'https://dash.example' });
  });
  after(() => app.stop());

  it('runs on the native uWebSockets.js binary, not the JS fallback', () => {
    assert.equal(uwsIsNative(), true);
  });

  it('answers liveness with the spec body', async () => {
    const res = await fetch(`${app.url}/api/health`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 1, message: 'Smart Chat API Running' });
    assert.match(res.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
  });

  it('reports both dependencies as embedded when ready', async () => {
    const res = await fetch(`${app.url}/api/health/ready`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { status: 1, checks: { mongodb: 'embedded', redis: 'embedded' } });
  });

  it('answers an unknown route with a coded 404', async () => {
    const res = await fetch(`${app.url}/api/nothing-here`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'NOT_FOUND');
  });

  it('answers malformed JSON with a coded 400', async () => {
    const res = await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', body: '{"mobile": ', headers: { authorization: admin } });
    assert.equal(res.status, 400);
    const body = (await res.json()) as { status: number; error: { code: string; message: string } };
    assert.equal(body.status, 0);
    assert.equal(body.error.code, 'BAD_JSON');
  });

  it('refuses a declared oversized body with 413 before reading it', async () => {
    const res = await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', body: 'x'.repeat(256 * 1024 + 1), headers: { authorization: admin } });
    assert.equal(res.status, 413);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
  });

  it('refuses a chunked body with 413 once it passes 256 KiB', async () => {
    const res = await postChunked(`${app.url}/api/webhook/user/update`, 320 * 1024);
    assert.equal(res.status, 413);
    assert.match(res.body, /PAYLOAD_TOO_LARGE/);
  });

  it('accepts a body just under the limit', async () => {
    const body = JSON.stringify({ mobile: '9876543210', name: 'n'.repeat(100), pad: 'p'.repeat(250 * 1024) });
    const res = await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', body, headers: { authorization: admin } });
    assert.equal(res.status, 200);
  });

  it('requires an admin token for user updates, and validates the body', async () => {
    const none = await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', body: '{}' });
    assert.equal(none.status, 401);
    const notAdmin = await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', body: '{}', headers: { authorization: agent } });
    assert.equal(notAdmin.status, 403);
    const invalid = await fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', body: '{"mobile":"12"}', headers: { authorization: admin } });
    assert.equal(invalid.status, 400);
    assert.match(((await invalid.json()) as { error: { message: string } }).error.message, /^mobile: /);
  });

  it('upserts a user profile by national mobile number', async () => {
    const post = (body: object) => fetch(`${app.url}/api/webhook/user/update`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: admin } });
    assert.equal((await post({ mobile: '919812345678', documents_status: 'Pending' })).status, 200);
    assert.equal((await post({ mobile: '9812345678', dco_status: 'Active' })).status, 200);
    const users = await app.store.collection('users').find({ mobile: '9812345678' });
    assert.equal(users.length, 1);
    assert.equal(users[0]?.documents_status, 'Pending');
    assert.equal(users[0]?.dco_status, 'Active');
  });

  it('answers CORS only for listed origins', async () => {
    const allowed = await fetch(`${app.url}/api/health`, { headers: { origin: 'https://dash.example' } });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://dash.example');
    const denied = await fetch(`${app.url}/api/health`, { headers: { origin: 'https://evil.example' } });
    assert.equal(denied.headers.get('access-control-allow-origin'), null);
    const preflight = await fetch(`${app.url}/api/dashboard/stats`, { method: 'OPTIONS', headers: { origin: 'https://dash.example' } });
    assert.equal(preflight.status, 204);
    assert.match(preflight.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const badPreflight = await fetch(`${app.url}/api/dashboard/stats`, { method: 'OPTIONS', headers: { origin: 'https://evil.example' } });
    assert.equal(badPreflight.status, 403);
    assert.equal(((await badPreflight.json()) as { error: { code: string } }).error.code, 'CORS_ORIGIN_DENIED');
  });

  it('answers the verification handshake only for the configured token', async () => {
    const res = await fetch(`${app.url}/api/webhook/verify?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=anything`);
    assert.equal(res.status, 403, 'no WEBHOOK_VERIFY_TOKEN configured: always fails');
  });

  it('exports Prometheus metrics with request counts and latency by route', async () => {
    await fetch(`${app.url}/api/health`);
    const res = await fetch(`${app.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /text\/plain/);
    const text = await res.text();
    assert.match(text, /http_requests_total\{route="\/api\/health",method="GET",status="200",pod="[^"]+"\} \d+/);
    const bucket = text.split('\n').find((l) => l.startsWith('http_request_duration_seconds_bucket{') && l.includes('route="/api/health"') && l.includes('le="0.005"'));
    assert.match(bucket ?? '', /\} [1-9]\d*$/, 'health requests land in the 5 ms bucket');
    assert.match(text, /http_requests_total\{route="\/api\/webhook\/user\/update",method="POST",status="413"/);
    assert.match(text, /process_resident_memory_bytes/);
  });
});

describe('webhook verification with a token configured', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ WEBHOOK_VERIFY_TOKEN: 'verify-me' });
  });
  after(() => app.stop());

  it('echoes the challenge as plain text for the right token, in either parameter style', async () => {
    const dotted = await fetch(`${app.url}/api/webhook/verify?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me`);
    assert.equal(dotted.status, 200);
    assert.equal(await dotted.text(), '1158201444');
    const underscored = await fetch(`${app.url}/api/webhook/verify?hub_mode=subscribe&hub_challenge=42&hub_verify_token=verify-me`);
    assert.equal(await underscored.text(), '42');
    const wrong = await fetch(`${app.url}/api/webhook/verify?hub.mode=subscribe&hub.challenge=1&hub.verify_token=nope`);
    assert.equal(wrong.status, 403);
    assert.equal(((await wrong.json()) as { error: { code: string } }).error.code, 'VERIFY_TOKEN_MISMATCH');
  });
});
