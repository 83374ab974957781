/** The Pinbot client against a fake Pinbot on loopback: retries, timeouts, the breaker, the rate limit, logs. */
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, beforeEach, describe, it } from 'node:test';
import { CircuitBreaker } from '../../src/infra/pinbot/breaker.ts';
import { MediaTooLargeError, PinbotClient, type PinbotClientOptions, type PinbotTarget } from '../../src/infra/pinbot/pinbot-client.ts';
import { RateLimiter, RateLimitTimeout } from '../../src/infra/pinbot/rate-limiter.ts';
import { backoffMs, neverSent, parseRetryAfter } from '../../src/infra/pinbot/retry.ts';
import { MemoryKv } from '../../src/infra/kv/kv.memory.ts';
import { createLogger, type Logger } from '../../src/infra/logger.ts';
import { freePort } from '../support/ports.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';

function capture(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString('utf8').split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, any>);
      done();
    },
  });
  return { log: createLogger({ level: 'debug', pod: 'test' }, sink), lines };
}

const BODY = { messaging_product: 'whatsapp', recipient_type: 'individual', to: '919811111111', type: 'text', text: { preview_url: false, body: 'नमस्ते ₹ 🚕' } };
const meta = { outboxKey: 'k1', type: 'text' };

describe('retry policy', () => {
  it('backs off exponentially with jitter, honours Retry-After, and caps both', () => {
    const fixed = { baseMs: 100, maxMs: 1000, random: () => 1 };
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => backoffMs(n, fixed)), [100, 200, 400, 800, 1000]);
    assert.equal(backoffMs(1, { ...fixed, random: () => 0 }), 50, 'at least half the ceiling');
    assert.equal(backoffMs(1, fixed, 700), 700, 'Retry-After wins when longer');
    assert.equal(backoffMs(1, fixed, 60_000), 1000, 'but never past the cap');
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('3'), 3000);
    assert.equal(parseRetryAfter(new Date(Date.UTC(2030, 0, 1, 0, 0, 10)).toUTCString(), Date.UTC(2030, 0, 1)), 10_000);
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });

  it('only connection failures count as never sent', () => {
    assert.equal(neverSent(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })), true);
    assert.equal(neverSent(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])), true);
    assert.equal(neverSent(Object.assign(new Error('x'), { code: 'UND_ERR_SOCKET' })), false);
    assert.equal(neverSent(new DOMException('t', 'TimeoutError')), false);
  });
});

describe('circuit breaker', () => {
  it('opens after consecutive failures, lets one probe through after the cool-down, and closes on its success', () => {
    let now = 0;
    const changes: string[] = [];
    const b = new CircuitBreaker({ failureThreshold: 3, coolDownMs: 1000, now: () => now, onChange: (f, t) => changes.push(`${f}>${t}`) });
    for (let i = 0; i < 2; i++) b.failure();
    b.success();
    for (let i = 0; i < 2; i++) b.failure();
    assert.equal(b.state, 'closed', 'a success resets the count');
    b.failure();
    assert.equal(b.state, 'open');
    assert.equal(b.tryAcquire(), false);
    assert.equal(b.retryInMs, 1000);
    now = 1000;
    assert.equal(b.state, 'half_open');
    assert.equal(b.tryAcquire(), true, 'one probe');
    assert.equal(b.tryAcquire(), false, 'only one');
    b.failure();
    assert.equal(b.state, 'open', 'a failed probe re-opens');
    now = 2000;
    assert.equal(b.tryAcquire(), true);
    b.success();
    assert.equal(b.state, 'closed');
    assert.deepEqual(changes, ['closed>open', 'open>half_open', 'half_open>open', 'open>half_open', 'half_open>closed']);
  });
});

describe('Pinbot client', () => {
  let fake: FakePinbot;
  let target: PinbotTarget;
  const clients: PinbotClient[] = [];
  const waits: number[] = [];

  const client = (opts: Partial<PinbotClientOptions> = {}, log = capture().log) => {
    const c = new PinbotClient({ log, timeoutMs: 1000, backoff: { baseMs: 10, maxMs: 5000, random: () => 1 }, sleep: async (ms) => void waits.push(ms), ...opts });
    clients.push(c);
    return c;
  };

  before(async () => {
    fake = await startFakePinbot();
  });
  beforeEach(() => {
    fake.requests.length = 0;
    fake.fallback = { status: 200 };
    waits.length = 0;
    target = { originUrl: fake.origin, path: '/v2/messages', apiKey: 'secret-key-1', wanumber: '919638120888', businessNumber: '919638120888', channel: 'discount' };
  });
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await fake.close();
  });

  it('POSTs the body unchanged with apikey, content-type and wanumber, and returns messages[0].id', async () => {
    fake.script({ status: 200, body: { messaging_product: 'whatsapp', contacts: [{ input: '919811111111', wa_id: '919811111111' }], messages: [{ id: 'wamid.OK1' }] } });
    const out = await client().send(target, BODY, meta);
    assert.deepEqual(out, { result: 'sent', waMessageId: 'wamid.OK1', status: 200, attempts: 1 });
    const [req] = fake.requests;
    assert.equal(req!.method, 'POST');
    assert.equal(req!.path, '/v2/messages');
    assert.equal(req!.headers.apikey, 'secret-key-1');
    assert.equal(req!.headers.wanumber, '919638120888');
    assert.match(String(req!.headers['content-type']), /^application\/json/);
    assert.deepEqual(req!.json, BODY);
    assert.equal(Buffer.from(req!.body).toString('utf8'), JSON.stringify(BODY), 'UTF-8 on the wire');
  });

  it('sends no wanumber header on a v3 URL', async () => {
    await client().send({ ...target, path: '/v3/723917954136046/messages', wanumber: undefined }, BODY, meta);
    assert.equal(fake.requests[0]!.headers.wanumber, undefined);
  });

  it('retries 500, 500, then succeeds: one logical send, three attempts, growing backoff', async () => {
    fake.script({ status: 500, body: { error: { message: 'upstream hiccup' } } }, { status: 500 }, { status: 200, body: { messages: [{ id: 'wamid.R3' }] } });
    const out = await client().send(target, BODY, meta);
    assert.deepEqual(out, { result: 'sent', waMessageId: 'wamid.R3', status: 200, attempts: 3 });
    assert.equal(fake.requests.length, 3);
    assert.deepEqual(waits, [10, 20]);
    assert.ok(fake.requests.every((r) => JSON.stringify(r.json) === JSON.stringify(BODY)), 'the same body each time');
  });

  it('honours Retry-After on a 429', async () => {
    fake.script({ status: 429, headers: { 'retry-after': '2' }, body: { error: { message: 'rate limited' } } }, { status: 200 });
    const out = await client().send(target, BODY, meta);
    assert.equal(out.result, 'sent');
    assert.deepEqual(waits, [2000]);
  });

  it('never retries a 400: the error comes back with Pinbot’s message', async () => {
    fake.script({ status: 400, body: { error: { message: '(#131009) Parameter value is not valid', type: 'OAuthException', code: 131009, error_data: { details: 'Button title length invalid' } } } });
    const out = await client().send(target, BODY, meta);
    assert.deepEqual(out, { result: 'failed', attempts: 1, error: { code: 'UPSTREAM_REJECTED', status: 400, message: '(#131009) Parameter value is not valid: Button title length invalid' } });
    assert.equal(fake.requests.length, 1);
  });

  it('gives up after the attempt limit on repeated 5xx', async () => {
    fake.fallback = { status: 503, body: 'Service Unavailable' };
    const out = await client({ maxAttempts: 3 }).send(target, BODY, meta);
    assert.equal(out.result, 'failed');
    assert.equal(fake.requests.length, 3);
    assert.equal(out.result === 'failed' && out.error.code, 'UPSTREAM_UNAVAILABLE');
    assert.match(out.result === 'failed' ? out.error.message : '', /gave up after 3 attempt\(s\): Pinbot answered 503: Service Unavailable/);
  });

  it('a timeout after the request left is uncertain and is not repeated (no second message)', async () => {
    fake.script({ status: 200, delayMs: 600 });
    const started = Date.now();
    const out = await client({ timeoutMs: 150 }).send(target, BODY, meta);
    assert.ok(Date.now() - started < 550, `bounded by the timeout, took ${Date.now() - started} ms`);
    assert.equal(out.result, 'uncertain');
    assert.match(out.result === 'uncertain' ? out.error.message : '', /no answer within 150 ms; the request may have reached Pinbot/);
    assert.equal(fake.requests.length, 1);
  });

  it('a connection lost after the request arrived is uncertain too', async () => {
    fake.script({ status: 200, drop: true });
    const out = await client().send(target, BODY, meta);
    assert.equal(out.result, 'uncertain');
    assert.equal(fake.requests.length, 1);
  });

  it('retries a refused connection (nothing was sent), then fails with UPSTREAM_UNAVAILABLE', async () => {
    const port = await freePort();
    const out = await client({ maxAttempts: 3 }).send({ ...target, originUrl: `http://127.0.0.1:${port}` }, BODY, meta);
    assert.equal(out.result, 'failed');
    assert.equal(out.attempts, 3);
    assert.match(out.result === 'failed' ? out.error.message : '', /ECONNREFUSED/);
  });

  it('opens the breaker after consecutive failures (no more requests), then a probe closes it', async () => {
    let now = 0;
    const c = client({ maxAttempts: 1, breaker: { failureThreshold: 3, coolDownMs: 1000, now: () => now } });
    fake.fallback = { status: 500 };
    for (let i = 0; i < 3; i++) assert.equal((await c.send(target, BODY, meta)).result, 'failed');
    assert.equal(c.breakerState(fake.origin), 'open');
    const refused = await c.send(target, BODY, meta);
    assert.match(refused.result === 'failed' ? refused.error.message : '', /circuit open/);
    assert.equal(fake.requests.length, 3, 'an open breaker sends nothing');
    now = 1000;
    fake.fallback = { status: 200 };
    assert.equal(c.breakerState(fake.origin), 'half_open');
    assert.equal((await c.send(target, BODY, meta)).result, 'sent');
    assert.equal(c.breakerState(fake.origin), 'closed');
    assert.equal(fake.requests.length, 4);
  });

  it('waits for the breaker’s cool-down between retries when it is open', async () => {
    let now = 0;
    const c = client({ maxAttempts: 2, backoff: { baseMs: 10, maxMs: 60_000, random: () => 1 }, breaker: { failureThreshold: 1, coolDownMs: 5000, now: () => now } });
    fake.script({ status: 500 });
    const out = await c.send(target, BODY, meta);
    assert.equal(out.result, 'failed');
    assert.deepEqual(waits, [10]);
    waits.length = 0;
    const again = await c.send(target, BODY, meta);
    assert.equal(again.result, 'failed');
    assert.deepEqual(waits, [5000], 'the retry waited for the cool-down, not the short backoff');
    assert.equal(fake.requests.length, 1);
  });

  it('logs every attempt with channel, type, status and latency, never the API key', async () => {
    const { log, lines } = capture();
    fake.script({ status: 500 }, { status: 200 });
    await client({}, log).send(target, BODY, meta);
    const attempts = lines.filter((l) => /^pinbot (POST|attempt)/.test(l.msg));
    assert.equal(attempts.length, 2);
    for (const a of attempts) {
      assert.equal(a.channel, 'discount');
      assert.equal(a.type, 'text');
      assert.equal(typeof a.latencyMs, 'number');
    }
    assert.deepEqual(attempts.map((a) => a.status), [500, 200]);
    assert.ok(!JSON.stringify(lines).includes('secret-key-1'));
  });

  it('waits for the rate limiter before each attempt', async () => {
    const kv = new MemoryKv();
    const limiter = new RateLimiter({ kv, log: capture().log, perSecond: 20, capacity: 2 });
    const c = client({ limiter });
    const started = Date.now();
    for (let i = 0; i < 6; i++) assert.equal((await c.send(target, BODY, meta)).result, 'sent');
    assert.ok(Date.now() - started >= 180, `6 sends at 20/s after a burst of 2 take ≥ 200 ms, took ${Date.now() - started}`);
    await limiter.close();
    await kv.close();
  });

  it('downloads media bytes with apikey and wanumber, and refuses more than the cap', async () => {
    const bytes = Buffer.from([0xff, 0xd8, 0xff, 0x00, 0x80, 0xfe, 0x41]);
    fake.script({ status: 200, body: bytes, headers: { 'content-type': 'image/jpeg' } });
    const got = await client().download({ ...target, path: '/v1/downloadmedia/1003383421387256' }, 1024, { outboxKey: 'media', type: 'image' });
    assert.deepEqual([...got.bytes], [...bytes]);
    assert.equal(got.contentType, 'image/jpeg');
    const req = fake.requests[0]!;
    assert.deepEqual([req.method, req.path, req.headers.apikey, req.headers.wanumber], ['GET', '/v1/downloadmedia/1003383421387256', 'secret-key-1', '919638120888']);
    fake.script({ status: 200, body: Buffer.alloc(2048) });
    await assert.rejects(client().download({ ...target, path: '/v1/downloadmedia/2' }, 1024, { outboxKey: 'media', type: 'image' }), MediaTooLargeError);
    fake.script({ status: 404, body: { error: { message: 'media not found' } } });
    await assert.rejects(client().download({ ...target, path: '/v1/downloadmedia/3' }, 1024, { outboxKey: 'media', type: 'image' }), /404: media not found/);
  });
});

describe('rate limiter', () => {
  it('gives up with RateLimitTimeout past its bounded wait', async () => {
    const kv = new MemoryKv();
    const limiter = new RateLimiter({ kv, log: capture().log, perSecond: 1, capacity: 1, maxWaitMs: 50 });
    assert.equal(await limiter.acquire('919638120888'), 0);
    await assert.rejects(limiter.acquire('919638120888'), RateLimitTimeout);
    assert.equal(await limiter.acquire('919099039188'), 0, 'another number has its own bucket');
    await limiter.close();
    await kv.close();
  });

  it('falls back to a bucket of its own when the shared store fails', async () => {
    const kv = new MemoryKv();
    await kv.close(); // every call now fails with a closed error
    const { log, lines } = capture();
    // A ref'd sleep: the limiter's own timers are unref'd, and with nothing else pending the test would end mid-wait.
    const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
    const limiter = new RateLimiter({ kv, log, perSecond: 10, capacity: 1, maxWaitMs: 500, sleep });
    assert.equal(await limiter.acquire('919638120888'), 0);
    assert.ok((await limiter.acquire('919638120888')) > 0, 'still limited');
    assert.ok(lines.some((l) => /limiting per pod/.test(l.msg)));
    await limiter.close();
  });
});
