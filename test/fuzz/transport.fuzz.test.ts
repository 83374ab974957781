/**
 * Property-based tests of the transport against the real app (in process,
 * on Redis and the MongoDB-compatible server): generated HTTP requests on
 * every registered route, generated WebSocket frames and upgrades. Every
 * input gets an answer with a registered code (never INTERNAL, a dropped
 * connection or a hang), every frame exactly one reply with its id, and a
 * refused webhook stores nothing. A failure prints its seed and shrunk
 * counterexample; replay it with FUZZ_SEED=<seed> (and FUZZ_PATH=<path>).
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CHANNELS } from '../../src/domain/channels.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.ts';
import {
  assertOneReply, assertRegisteredAnswer, describeRequest, rawRequest, rawUpgrade, SequentialSocket, type RawRequest,
} from '../support/fuzz-client.ts';
import { applyMutations, fuzzParams, placedMutations, rarely, relabel, toJsonText, WEBHOOK_FIXTURES } from '../support/fuzz-inputs.ts';
import {
  agentEventData, craftToken, hostileBody, httpRequest, rawQuery, rawSegment, readFrame, tokenCase, wsWire, type HttpRequestOptions, type TokenCase,
} from '../support/fuzz-wire.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const AGENT = '9099039188';
const CUSTOMER_CHANNEL = '8000247247';
const CHAT_CUSTOMER = '9822000001';
const CHANNEL_IDS = CHANNELS.map((c) => c.id);
/** A prefix for this run's customer numbers (98 + 4 random digits + a 4-digit counter), so runs never collide. */
const NUMBER_PREFIX = `98${randomInt(1000, 9999)}`;

const HTTP_RUNS = 260;
const OTHER_METHOD_RUNS = 60;
const BODY_RUNS = 60;
const HEADER_RUNS = 40;
/** On loopback every answer takes milliseconds: one not there within this is a hang. */
const REQUEST_TIMEOUT_MS = 5_000;
const WEBHOOK_RUNS = 120;
const FRAME_RUNS = 220;
const UPGRADE_RUNS = 60;

describe('transport fuzz', () => {
  let app: TestApp;
  let port: number;
  let chatId: string;
  const sockets: SequentialSocket[] = [];
  let logsBefore = 0;

  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('fuzz'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('fuzz')}:`, WEBHOOK_VERIFY_TOKEN: 'verify-me' });
    port = app.port;
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook(`91${CHAT_CUSTOMER}`, 'hello'));
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: CHAT_CUSTOMER }), 5000, 'chat stored');
    chatId = String(chat._id);
    logsBefore = app.logs.length;
  });
  after(async () => {
    await Promise.all(sockets.map((s) => s.close()));
    await app?.stop();
  });

  /** Server faults logged so far (level error and above), past the set-up. */
  const faults = () => app.logs.slice(logsBefore).filter((l) => Number(l.level) >= 50);

  const requestInput = (opts: Omit<HttpRequestOptions, 'routes' | 'agent' | 'goodValues'>) => httpRequest({
    ...opts,
    routes: [...app.routes, { method: 'GET', pattern: '/' }, { method: 'POST', pattern: '/api/:x' }, { method: 'GET', pattern: '/ws/:chat_id' }, { method: 'GET', pattern: '/api/machines/:name/:extra' }],
    agent: AGENT,
    goodValues: [...CHANNEL_IDS, 'chat', 'discount', CHAT_CUSTOMER, `91${CHAT_CUSTOMER}`, 'media-1', 'ask_issue_resolved'],
  });

  /** The HTTP property: the request is answered, with a registered code. */
  const answered = async (req: RawRequest) => {
    const what = describeRequest(req);
    let answer;
    try {
      answer = await rawRequest(port, req, REQUEST_TIMEOUT_MS);
    } catch (err) {
      assert.fail(`${what}: ${(err as Error).message}`);
    }
    assertRegisteredAnswer(answer, req.method, what);
  };

  it(`HTTP: ${HTTP_RUNS} generated requests over every registered route, with its method, get a registered answer, never a drop or a hang`, async () => {
    assert.ok(app.routes.length >= 10, `routes: ${app.routes.map((r) => r.pattern).join(', ')}`);
    await fc.assert(fc.asyncProperty(requestInput({ bodies: 'post' }), answered), fuzzParams(HTTP_RUNS, 25_000));
    assert.equal((await rawRequest(port, { method: 'GET', path: '/api/health' })).status, 200);
  });

  it(`HTTP: ${OTHER_METHOD_RUNS} requests with other methods (HEAD, OPTIONS, PUT, DELETE, PATCH, lower case, unknown) get a registered answer`, async () => {
    // Methods uWebSockets.js does not know (PROPFIND, FOO) are refused by its parser: see the next test.
    const methods = fc.constantFrom('HEAD', 'OPTIONS', 'PUT', 'DELETE', 'PATCH', 'get', 'Post');
    await fc.assert(fc.asyncProperty(requestInput({ methods, bodies: 'post' }), answered), fuzzParams(OTHER_METHOD_RUNS, 15_000));
  });

  it(`HTTP: ${BODY_RUNS} requests carrying a body (up to 250 KB) on routes that take none get a registered answer`, async () => {
    const methods = fc.constantFrom('GET', 'DELETE', 'PUT', 'PATCH', 'OPTIONS');
    await fc.assert(fc.asyncProperty(requestInput({ methods, bodies: 'any' }), answered), fuzzParams(BODY_RUNS, 15_000));
  });

  // The bundled uWebSockets.js takes at most 50 header lines (a compile-time limit, README "Security"):
  // up to 40 extra headers must be answered; past the limit, see the next test.
  it(`HTTP: ${HEADER_RUNS} requests with many (up to 40) or long (up to 16 KB) extra headers get a registered answer`, async () => {
    const extraHeaders = fc.record({ count: fc.integer({ min: 0, max: 40 }), length: fc.integer({ min: 1, max: 16_000 }) })
      .map(({ count, length }) => Object.fromEntries(Array.from({ length: count }, (_, i) => [`x-fuzz-${i}`, 'v'.repeat(i === 0 ? length : 1)])));
    await fc.assert(fc.asyncProperty(requestInput({ bodies: 'post', extraHeaders }), answered), fuzzParams(HEADER_RUNS, 15_000));
  });

  it('drops a request whose method uWebSockets.js does not parse (a documented limit) at once, and keeps answering others', async () => {
    for (const method of ['PROPFIND', 'FOO', 'BREW']) {
      const outcome = await rawRequest(port, { method, path: '/api/health', headers: {} }, 5_000).then(
        (a) => `answered ${a.status}`,
        (err: Error) => `dropped: ${err.message}`,
      );
      assert.ok(outcome.startsWith('dropped: connection dropped') || outcome === 'answered 405' || outcome === 'answered 404', `${method}: ${outcome}`);
      assert.equal((await rawRequest(port, { method: 'GET', path: '/api/health' })).status, 200);
    }
  });

  it('drops a request with more headers than uWebSockets.js takes (a documented limit), within its timeout, and keeps answering others', async () => {
    const many = Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`x-fuzz-${i}`, 'v']));
    const started = Date.now();
    const dropped = rawRequest(port, { method: 'GET', path: '/api/health', headers: many }, 15_000).then(
      (a) => `answered ${a.status}`,
      (err: Error) => `dropped: ${err.message}`,
    );
    // Meanwhile the server serves everyone else.
    assert.equal((await rawRequest(port, { method: 'GET', path: '/api/health' })).status, 200);
    const outcome = await dropped;
    assert.ok(outcome.startsWith('dropped') || outcome === 'answered 431', outcome);
    assert.ok(Date.now() - started < 15_000, 'the connection was not held open');
    assert.equal((await rawRequest(port, { method: 'GET', path: '/api/health' })).status, 200);
  });

  it(`HTTP: ${WEBHOOK_RUNS} generated webhooks — one answered 4xx leaves inbox, messages and chats unchanged`, async () => {
    const collections = ['inbox', 'messages', 'chats'] as const;
    const counts = async () => Object.fromEntries(await Promise.all(collections.map(async (c) => [c, await app.store.collection(c).countDocuments({})] as const)));
    /** Waits until what was accepted so far is applied and the counts hold still. */
    const quiesce = async () => {
      let last = '';
      await eventually(async () => {
        if (app.inbox.unapplied > 0) return false;
        const now = JSON.stringify(await counts());
        const still = now === last;
        last = now;
        if (!still) await new Promise((r) => setTimeout(r, 30));
        return still;
      }, 10_000, 'accepted webhooks applied');
    };
    let n = 0;
    let dirty = true;
    const outcomes = { accepted: 0, refused: 0 };
    const input = fc.record({
      channel: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...CHANNEL_IDS) }, { weight: 1, arbitrary: rawSegment() }),
      fixture: fc.constantFrom(...WEBHOOK_FIXTURES),
      mutations: fc.option(placedMutations(4), { freq: 3, nil: undefined }),
      raw: rarely(hostileBody, 4),
    });
    await fc.assert(
      fc.asyncProperty(input, async (x) => {
        const number = `${NUMBER_PREFIX}${String(++n).padStart(4, '0')}`;
        const labelled = relabel(structuredClone(x.fixture.body), `91${number}`, `wamid.fuzz.${NUMBER_PREFIX}.${n}`);
        const json = x.mutations ? applyMutations(labelled, x.mutations) : labelled;
        const body = x.raw ?? Buffer.from(toJsonText(json));
        const req: RawRequest = { method: 'POST', path: `/api/chats/whatsapp_chat/${x.channel}`, headers: { 'content-type': 'application/json' }, body };
        const what = `${x.fixture.name} as ${number}: ${describeRequest(req)}`;
        if (dirty) await quiesce();
        const before = await counts();
        let answer;
        try {
          answer = await rawRequest(port, req, REQUEST_TIMEOUT_MS);
        } catch (err) {
          assert.fail(`${what}: ${(err as Error).message}`);
        }
        assertRegisteredAnswer(answer, 'POST', what);
        if (answer.status === 200) {
          outcomes.accepted++;
          dirty = true;
          return;
        }
        outcomes.refused++;
        dirty = false;
        assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.status}`);
        // Nothing keyed by this input's customer, and nothing at all, was stored.
        assert.equal(await app.store.collection('inbox').countDocuments({ key: number }), 0, `${what}: refused (${answer.json?.error?.code}) but its inbox items were stored`);
        assert.equal(await app.store.collection('chats').countDocuments({ customer: number }), 0, `${what}: refused (${answer.json?.error?.code}) but a chat was stored`);
        await new Promise((r) => setTimeout(r, 20));
        assert.deepEqual(await counts(), before, `${what}: refused (${answer.json?.error?.code}) but the store changed`);
      }),
      fuzzParams(WEBHOOK_RUNS, 25_000),
    );
    // Both sides were exercised: some generated webhooks are valid, most are not.
    assert.ok(outcomes.refused > 0, JSON.stringify(outcomes));
  });

  it(`WebSocket: ${FRAME_RUNS} generated frames each get exactly one reply with their id and a registered code; the connection stays open`, async () => {
    const token = signToken({ sub: AGENT }, TEST_JWT_SECRET);
    const base = `ws://127.0.0.1:${port}`;
    // Several connections, so the rate limit (a burst of 40 per connection) refuses only some frames; three of them
    // carry identities an external service holding the secret could sign: a built-in name, a lone surrogate, an admin.
    const odd = [
      craftToken({ alg: 'HS256', typ: 'JWT' }, { sub: '__proto__', role: 'agent', exp: Math.floor(Date.now() / 1000) + 3600 }),
      craftToken({ alg: 'HS256', typ: 'JWT' }, { sub: 'x\ud800', role: 'agent', exp: Math.floor(Date.now() / 1000) + 3600 }),
      signToken({ sub: 'constructor', role: 'admin' }, TEST_JWT_SECRET),
    ];
    for (let i = 0; i < 8; i++) sockets.push(await SequentialSocket.open(`${base}/ws${i % 2 ? `/${chatId}` : ''}?token=${i < 5 ? token : odd[i - 5]}`));
    const template = agentEventData({ agent: AGENT, chatId, customer: CHAT_CUSTOMER, numberFor: (n) => `${NUMBER_PREFIX}${String(5000 + n).padStart(4, '0')}` });
    const wire = wsWire(template);
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(wire, fc.nat(), async ({ bytes, binary }, which) => {
        // The oracle reads the frame as the contract says the server must: UTF-8 JSON, an object, its id.
        const sent = readFrame(bytes);
        const sock = sockets[which % sockets.length]!;
        const what = `frame ${JSON.stringify(bytes.subarray(0, 400).toString('latin1'))}${bytes.length > 400 ? `…(${bytes.length} B)` : ''}${binary ? ' (binary)' : ''}`;
        let replies;
        try {
          replies = await sock.send(bytes, binary, REQUEST_TIMEOUT_MS);
        } catch (err) {
          assert.fail(`${what}: ${(err as Error).message}`);
        }
        assertOneReply(replies, sent, what);
        const r = replies[0]!;
        const key = r.event === 'error' ? r.error!.code : 'reply';
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
      }),
      fuzzParams(FRAME_RUNS, 25_000),
    );
    // Every connection is still open and still answers.
    for (const [i, s] of sockets.entries()) {
      const [reply] = await s.send(JSON.stringify({ event: 'config', id: `alive-${i}` }), false);
      assert.equal(reply?.event, 'config', `connection ${i}: ${JSON.stringify(reply)}`);
      assert.equal(s.closed, undefined);
    }
    assert.ok((outcomes.get('reply') ?? 0) > 0, `no frame was answered with its event: ${JSON.stringify([...outcomes])}`);
  });

  it(`WebSocket: ${UPGRADE_RUNS} upgrades with generated paths and tokens answer 101, 400 or 401`, async () => {
    const input = fc.record({
      // The empty chat id (`/ws/`) has its own test below, so its answer does not hide other counterexamples.
      segment: fc.option(rawSegment(['some-chat', 'x']).filter((seg) => seg !== ''), { nil: undefined }),
      query: rarely(rawQuery(), 2),
      token: tokenCase(AGENT),
      via: fc.constantFrom('query', 'header', 'both'),
    });
    await fc.assert(
      fc.asyncProperty(input, async (x) => {
        const token: TokenCase = x.token;
        const q = [x.query, (x.via !== 'header' && token.token !== undefined) ? `token=${token.token}` : undefined].filter((s) => s !== undefined && s !== '');
        const path = `/ws${x.segment === undefined ? '' : `/${x.segment}`}${q.length > 0 ? `?${q.join('&')}` : ''}`;
        const headers: Record<string, string> = x.via !== 'query' && token.header !== undefined ? { authorization: token.header } : {};
        const what = `upgrade ${JSON.stringify(path.slice(0, 300))} ${JSON.stringify(headers).slice(0, 200)} (${token.kind})`;
        let r;
        try {
          r = await rawUpgrade(port, path, headers, REQUEST_TIMEOUT_MS);
        } catch (err) {
          assert.fail(`${what}: ${(err as Error).message}`);
        }
        assert.ok([101, 400, 401].includes(r.status), `${what}: ${r.status} ${JSON.stringify(r.json)}`);
        if (r.status !== 101) assert.ok(['BAD_ENCODING', 'VALIDATION_FAILED', 'UNAUTHORIZED'].includes(r.json?.error?.code), `${what}: ${r.status} ${JSON.stringify(r.json)}`);
        // No good token offered anywhere: refused before the path is read.
        if (token.kind === 'refused') assert.equal(r.status, 401, what);
        // A good token in the header and a plain chat id: upgraded.
        if (token.kind.startsWith('valid') && x.via !== 'query' && (x.segment === undefined || /^[A-Za-z0-9_-]{1,64}$/.test(x.segment))) assert.equal(r.status, 101, what);
      }),
      fuzzParams(UPGRADE_RUNS, 15_000),
    );
  });

  it('WebSocket: an upgrade to /ws/ (an empty chat id) answers 101, 400 or 401 like any other path', async () => {
    for (const [query, headers, expected] of [
      [`?token=${signToken({ sub: AGENT }, TEST_JWT_SECRET)}`, {}, [101, 400]],
      ['', { authorization: `Bearer ${signToken({ sub: AGENT }, TEST_JWT_SECRET)}` }, [101, 400]],
      ['', {}, [401]],
    ] as [string, Record<string, string>, number[]][]) {
      const r = await rawUpgrade(port, `/ws/${query}`, headers);
      assert.ok(expected.includes(r.status), `upgrade /ws/${query.slice(0, 20)} ${JSON.stringify(headers).slice(0, 40)}: ${r.status} ${JSON.stringify(r.json)} (expected ${expected.join(' or ')})`);
    }
  });

  it('logged no fault (level error) while fuzzed, and still answers /api/health', async () => {
    assert.deepEqual(faults().map((l) => ({ msg: l.msg, where: l.where, err: (l.err as { message?: string } | undefined)?.message })), []);
    assert.equal((await rawRequest(port, { method: 'GET', path: '/api/health' })).status, 200);
  });
});
