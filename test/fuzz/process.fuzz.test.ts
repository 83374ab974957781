/**
 * The bounded process-level fuzz run: the real service as its own process
 * (`node --import tsx src/main.ts`, on Redis and the MongoDB-compatible
 * server) takes a few hundred mixed hostile inputs — the reproducers of the
 * hostile-input review and generated ones — within a time bound; then it
 * must still run, answer /api/health, deliver a normal webhook to an agent,
 * and exit 0 on SIGTERM. Generated inputs come from a seed printed as a test
 * diagnostic; FUZZ_SEED=<seed> replays a run.
 */
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { CHANNELS } from '../../src/domain/channels.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { AgentClient } from '../support/agent-client.ts';
import { TEST_JWT_SECRET } from '../support/app.ts';
import {
  assertOneReply, assertRegisteredAnswer, describeRequest, rawRequest, rawUpgrade, SequentialSocket, type RawRequest,
} from '../support/fuzz-client.ts';
import { nested, nestedJson, setOwn } from '../support/fuzz-inputs.ts';
import { agentEventData, httpRequest, rawSegment, readFrame, tokenCase, wsWire, type WireFrame } from '../support/fuzz-wire.ts';
import { startPod, type Pod } from '../support/pods.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, textWebhook } from '../support/webhooks.ts';

const AGENT = '9099039188';
const CUSTOMER_CHANNEL = '8000247247';
const DISCOUNT_CHANNEL = '9638120888';
const NUMBER_PREFIX = `97${randomInt(1000, 9999)}`;
const CHAT_CUSTOMER = `${NUMBER_PREFIX}0001`;
/** The hostile phase stops sending when this is spent (the whole file stays under 60 s). */
const HOSTILE_BUDGET_MS = 35_000;
const GENERATED_REQUESTS = 220;
const GENERATED_FRAMES = 120;
const GENERATED_UPGRADES = 40;
const JUNK_BURST = 300;
/** Answers take milliseconds; one missing after this, even under this run's concurrency, is a hang. */
const ANSWER_TIMEOUT_MS = 10_000;
const BODY_LIMIT = 256 * 1024;

/** Route patterns of CONTRACT.md, as the server registers them (the process's `app.routes` are not reachable from here). */
const ROUTES = [
  { method: 'POST', pattern: '/api/chats/whatsapp_chat/:channel' },
  { method: 'GET', pattern: '/api/webhook/verify' },
  { method: 'POST', pattern: '/api/webhook/user/update' },
  { method: 'GET', pattern: '/api/dashboard/stats' },
  { method: 'GET', pattern: '/api/chats/send_whatsapp_template' },
  { method: 'POST', pattern: '/api/chats/clear_cache' },
  { method: 'POST', pattern: '/api/chats/delete_cache' },
  { method: 'GET', pattern: '/api/health' },
  { method: 'GET', pattern: '/api/health/ready' },
  { method: 'GET', pattern: '/metrics' },
  { method: 'GET', pattern: '/api/machines' },
  { method: 'GET', pattern: '/api/machines/:name' },
  { method: 'GET', pattern: '/api/actors/:type/:id' },
  { method: 'GET', pattern: '/api/media/:id' },
  { method: 'GET', pattern: '/api/:x' },
];

const json = (v: unknown) => Buffer.from(JSON.stringify(v));
const agentToken = () => signToken({ sub: AGENT }, TEST_JWT_SECRET);
const adminToken = () => signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET);
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const webhookPost = (channel: string, body: Buffer, headers: Record<string, string> = {}): RawRequest =>
  ({ method: 'POST', path: `/api/chats/whatsapp_chat/${channel}`, headers: { 'content-type': 'application/json', ...headers }, body });

/** A text webhook whose message text is `text`, padded by repeating `unit` so the whole body is `bodyBytes` long. */
function paddedTextWebhook(from: string, unit: string, bodyBytes: number): Buffer {
  const skeleton = JSON.stringify(textWebhook(from, 'PLACEHOLDER')).replace('PLACEHOLDER', '');
  const room = bodyBytes - Buffer.byteLength(skeleton);
  const chars = Math.floor((room * unit.length) / Buffer.byteLength(unit)); // units of several bytes (₹) take more room
  const text = unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
  return Buffer.from(JSON.stringify(textWebhook(from, text)));
}

/** Object keys that reach prototypes, at every level of a webhook. */
function prototypeKeysEverywhere(from: string): Buffer {
  const body = textWebhook(from, 'constructor') as Record<string, any>;
  const poison = () => ({ prototype: { polluted: 1 }, polluted: 1 });
  const targets = [body, body.entry[0], body.entry[0].changes[0], body.entry[0].changes[0].value, body.entry[0].changes[0].value.messages[0], body.entry[0].changes[0].value.messages[0].text];
  for (const t of targets) {
    setOwn(t, '__proto__', poison());
    setOwn(t, 'constructor', poison());
  }
  return json(body);
}

/** The reproducers of the hostile-input review, and their neighbours. */
function reproducers(): RawRequest[] {
  const post = (path: string, body: Buffer, headers: Record<string, string> = {}): RawRequest => ({ method: 'POST', path, headers: { 'content-type': 'application/json', ...headers }, body });
  const get = (path: string, headers: Record<string, string> = {}): RawRequest => ({ method: 'GET', path, headers });
  const deep = Buffer.from(nestedJson(3000));
  const contactsCard = (card: unknown, from: string) => json({
    object: 'whatsapp_business_account',
    entry: [{ id: '1', changes: [{ field: 'messages', value: {
      messaging_product: 'whatsapp', metadata: { display_phone_number: '918000247247', phone_number_id: '1' },
      contacts: [{ profile: { name: 'Deep' }, wa_id: from }],
      messages: [{ from, id: `wamid.deep.${from}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'contacts', contacts: [card] }],
    } }] }],
  });
  const out: RawRequest[] = [
    get('/api/machines/%'),
    post('/api/chats/whatsapp_chat/%ZZ', Buffer.from('{}')),
    get('/api/actors/%/1', bearer(agentToken())),
    get('/api/media/%', bearer(agentToken())),
    get('/api/machines/%ED%A0%80'),
    get('/api/machines/%E0%A4'),
    get(`/api/dashboard/stats?token=${agentToken()}`),
    get('/api/webhook/verify?hub.mode=subscribe&hub.challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E&hub.verify_token=verify-me'),
    get('/api/chats/send_whatsapp_template?to=%&name=__proto__&language=constructor', bearer(agentToken())),
    get('/api/health?__proto__[polluted]=1&constructor[prototype][polluted]=1'),
    // Lone surrogates, as JSON escapes, in webhook text and in a user update.
    webhookPost(CUSTOMER_CHANNEL, Buffer.from(JSON.stringify(textWebhook(`91${NUMBER_PREFIX}0101`, 'PH')).replace('PH', 'bad \\ud800 text'))),
    webhookPost(CUSTOMER_CHANNEL, Buffer.from(JSON.stringify(textWebhook(`91${NUMBER_PREFIX}0102`, 'PH')).replace('PH', '\\udc00'))),
    post('/api/webhook/user/update', Buffer.from('{"mobile":"9876543210","name":"\\ud83d"}'), bearer(adminToken())),
    // 3,000 levels of nesting, in a contacts card and as whole bodies.
    webhookPost(CUSTOMER_CHANNEL, contactsCard({ name: { formatted_name: 'A' }, extra: nested(3000) }, `91${NUMBER_PREFIX}0103`)),
    webhookPost(CUSTOMER_CHANNEL, deep),
    webhookPost(DISCOUNT_CHANNEL, Buffer.from(nestedJson(3000, true))),
    post('/api/webhook/user/update', deep, bearer(adminToken())),
    post('/api/chats/delete_cache', deep, bearer(adminToken())),
    // constructor / __proto__ everywhere.
    webhookPost(CUSTOMER_CHANNEL, prototypeKeysEverywhere(`91${NUMBER_PREFIX}0104`)),
    webhookPost(DISCOUNT_CHANNEL, prototypeKeysEverywhere(`91${NUMBER_PREFIX}0105`)),
    post('/api/webhook/user/update', Buffer.from('{"mobile":"9876543210","__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}'), bearer(adminToken())),
    // Bodies that are not UTF-8, not JSON, or over the limit.
    post('/api/chats/delete_cache', Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), bearer(adminToken())),
    webhookPost(CUSTOMER_CHANNEL, Buffer.from([0xed, 0xa0, 0x80])),
    webhookPost(CUSTOMER_CHANNEL, Buffer.alloc(BODY_LIMIT + 1, ' ')),
  ];
  for (const name of [...Object.getOwnPropertyNames(Object.prototype), 'prototype']) {
    out.push(get(`/api/machines/${encodeURIComponent(name)}`));
    out.push(get(`/api/actors/${encodeURIComponent(name)}/${encodeURIComponent(name)}`, bearer(agentToken())));
    out.push(webhookPost(encodeURIComponent(name), json(textWebhook('919800000000', 'x'))));
  }
  // 256 KiB of adversarial text on the discount channel (the matcher's worst cases), just under the body limit.
  const units = ['yes send ', 'yes send discount ', 'need discount code pune to mumbai ', 'yes '.repeat(5) + 'send ', '₹2,199 @ pune to ', 'discount'];
  units.forEach((unit, i) => out.push(webhookPost(DISCOUNT_CHANNEL, paddedTextWebhook(`91${NUMBER_PREFIX}02${String(i).padStart(2, '0')}`, unit, BODY_LIMIT - 64))));
  return out;
}

/** WebSocket frames of the review: lone surrogates in send_message, deep nesting, prototype names, oversized text. */
function frameReproducers(chatId: string): WireFrame[] {
  const text = (v: unknown): WireFrame => ({ bytes: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)), binary: false });
  const out: WireFrame[] = [];
  for (const [i, bad] of ['bad \\ud800', 'cut \\udc00 low', 'end \\ud83d'].entries()) {
    out.push(text(`{"event":"send_message","id":"ls${i}","data":{"chat_id":${JSON.stringify(chatId)},"message":"${bad}"}}`));
  }
  out.push(text(`{"event":"fetch_all_chats","id":"deep","data":${nestedJson(3000)}}`));
  out.push(text(`{"event":"send_message","id":"deep2","data":{"chat_id":${JSON.stringify(chatId)},"message":${nestedJson(3000, true)}}}`));
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'prototype']) {
    out.push(text({ event: name, id: `n-${name}`, data: {} }));
    out.push(text({ event: 'fetch_all_chats', id: `s-${name}`, data: { search: name } }));
  }
  out.push(text('{"event":"fetch_all_chats","id":"proto","data":{"__proto__":{"polluted":1}}}'));
  out.push(text('{"event":"config","id":"ctor","data":{"constructor":{"prototype":{"polluted":1}}}}'));
  out.push(text({ event: 'send_message', id: 'long', data: { chat_id: chatId, message: 'yes send '.repeat(6000) } }));
  out.push({ bytes: Buffer.from([0xff, 0x00, 0xfe]), binary: true });
  return out;
}

/** Runs `work` over `items` with `lanes` at a time, stopping (and counting nothing more) once `deadline` passes. */
async function inLanes<T>(items: readonly T[], lanes: number, deadline: number, work: (item: T) => Promise<void>): Promise<number> {
  let next = 0;
  let done = 0;
  await Promise.all(Array.from({ length: lanes }, async () => {
    while (next < items.length && Date.now() < deadline) {
      const item = items[next++]!;
      await work(item);
      done++;
    }
  }));
  return done;
}

describe('process-level fuzz run', () => {
  let pod: Pod;
  let port: number;
  let chatId = '';
  const faults: string[] = [];
  const sent = { requests: 0, frames: 0, junkFrames: 0, upgrades: 0 };

  before(async () => {
    pod = await startPod(uniqueName('fuzzpod'), {
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('pfuzz'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('pfuzz')}:`,
      WEBHOOK_VERIFY_TOKEN: 'verify-me',
    });
    port = Number(new URL(pod.url).port);
  });
  after(async () => {
    if (pod && pod.proc.exitCode === null && pod.proc.signalCode === null) await pod.stop();
  });

  it(`takes a few hundred mixed hostile inputs within ${HOSTILE_BUDGET_MS / 1000} s`, async (t) => {
    const started = Date.now();
    const seed = process.env.FUZZ_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.FUZZ_SEED);
    t.diagnostic(`seed ${seed} (FUZZ_SEED=${seed} replays this run)`);

    // A chat to aim the frames at.
    const first = await rawRequest(port, webhookPost(CUSTOMER_CHANNEL, json(textWebhook(`91${CHAT_CUSTOMER}`, 'hello'))));
    assert.equal(first.status, 200, first.text);
    const lookup = await AgentClient.connect(pod.url, AGENT);
    chatId = await eventually(async () => ((await lookup.request('search_chat', { customer: CHAT_CUSTOMER })).data?.chat?.chat_id as string | undefined), 10_000, 'chat opened');
    await lookup.close();
    const deadline = started + HOSTILE_BUDGET_MS;

    /** Sends one request and notes a fault (no registered answer, a drop, a hang). */
    const request = async (req: RawRequest) => {
      const what = describeRequest(req);
      try {
        const a = await rawRequest(port, req, ANSWER_TIMEOUT_MS);
        assertRegisteredAnswer(a, req.method, what);
      } catch (err) {
        faults.push((err as Error).message.slice(0, 1500));
      }
    };
    const generated = fc.sample(httpRequest({
      routes: ROUTES, agent: AGENT, bodies: 'post',
      goodValues: [...CHANNELS.map((c) => c.id), 'chat', 'discount', CHAT_CUSTOMER, `91${CHAT_CUSTOMER}`, 'media-1'],
    }), { numRuns: GENERATED_REQUESTS, seed });
    const upgrades = fc.sample(fc.record({ segment: fc.option(rawSegment(['some-chat', chatId]).filter((s) => s !== ''), { nil: undefined }), token: tokenCase(AGENT) }), { numRuns: GENERATED_UPGRADES, seed });
    const template = agentEventData({ agent: AGENT, chatId, customer: CHAT_CUSTOMER, numberFor: (n) => `${NUMBER_PREFIX}${String(5000 + n).padStart(4, '0')}` });
    const frames = [...frameReproducers(chatId), ...fc.sample(wsWire(template), { numRuns: GENERATED_FRAMES, seed })];

    // HTTP (8 at a time), frames (4 connections, one frame at a time each), upgrades and a junk burst, all at once.
    const sockets = await Promise.all(Array.from({ length: 4 }, (_, i) => SequentialSocket.open(`ws://127.0.0.1:${port}/ws${i % 2 ? `/${chatId}` : ''}?token=${agentToken()}`)));
    const frameLanes = sockets.map(async (sock, lane) => {
      for (let i = lane; i < frames.length && Date.now() < deadline; i += sockets.length) {
        const f = frames[i]!;
        const what = `frame ${JSON.stringify(f.bytes.subarray(0, 300).toString('latin1'))}${f.binary ? ' (binary)' : ''}`;
        try {
          assertOneReply(await sock.send(f.bytes, f.binary, ANSWER_TIMEOUT_MS), readFrame(f.bytes), what);
        } catch (err) {
          faults.push(`${(err as Error).message.slice(0, 1500)}`);
          if (sock.closed) return;
        }
        sent.frames++;
      }
    });
    const junk = (async () => {
      const sock = await SequentialSocket.open(`ws://127.0.0.1:${port}/ws?token=${agentToken()}`);
      let replies = 0;
      sock.ws.on('message', () => replies++);
      for (let i = 0; i < JUNK_BURST; i++) sock.ws.send(i % 3 ? `junk ${i} {` : Buffer.from([i & 0xff, 0xff]));
      sent.junkFrames = JUNK_BURST;
      await eventually(async () => replies >= JUNK_BURST, ANSWER_TIMEOUT_MS, 'an answer to every junk frame').catch((err: Error) => faults.push(`junk burst: ${err.message} (${replies} of ${JUNK_BURST})`));
      if (sock.closed) faults.push(`junk burst closed the connection: ${JSON.stringify(sock.closed)}`);
      await sock.close();
    })();
    const upgradeRuns = (async () => {
      const fixed: [string, Record<string, string>, number][] = [
        [`/ws/%ZZ?token=${agentToken()}`, {}, 400], [`/ws/%?token=${agentToken()}`, {}, 400], [`/ws/%ED%A0%80?token=${agentToken()}`, {}, 400],
        [`/ws/${'x'.repeat(65)}?token=${agentToken()}`, {}, 400], ['/ws/%ZZ', {}, 401], ['/ws/__proto__', bearer(agentToken()), 101],
      ];
      for (const [path, headers, expected] of fixed) {
        if (Date.now() > deadline) return;
        const r = await rawUpgrade(port, path, headers, ANSWER_TIMEOUT_MS).catch((err: Error) => ({ status: err.message, json: undefined }));
        if (r.status !== expected) faults.push(`upgrade ${path.slice(0, 80)}: ${r.status} (expected ${expected})`);
        sent.upgrades++;
      }
      for (const u of upgrades) {
        if (Date.now() > deadline) return;
        const path = `/ws${u.segment === undefined ? '' : `/${u.segment}`}`;
        const r = await rawUpgrade(port, path, u.token.header === undefined ? {} : { authorization: u.token.header }, ANSWER_TIMEOUT_MS)
          .catch((err: Error) => ({ status: err.message, json: undefined }));
        if (![101, 400, 401].includes(r.status as number)) faults.push(`upgrade ${JSON.stringify(path.slice(0, 200))} (${u.token.kind}): ${r.status} ${JSON.stringify(r.json)}`);
        sent.upgrades++;
      }
    })();
    sent.requests = await inLanes([...reproducers(), ...generated], 8, deadline, request);
    await Promise.all([...frameLanes, junk, upgradeRuns]);
    await Promise.all(sockets.map((s) => s.close()));

    const elapsed = Date.now() - started;
    t.diagnostic(`sent ${JSON.stringify(sent)} in ${elapsed} ms`);
    assert.ok(sent.requests + sent.frames + sent.upgrades >= 300, `only ${JSON.stringify(sent)} within the budget`);
    assert.ok(elapsed < HOSTILE_BUDGET_MS + ANSWER_TIMEOUT_MS, `took ${elapsed} ms`);
  });

  it('answered every one of them (a registered code, exactly one reply per frame), with no drop, hang or fault', () => {
    assert.deepEqual(faults, []);
    const logged = pod.output().split('\n').filter((l) => /"level":(50|60)/.test(l) || /unhandled|fatal/i.test(l));
    assert.deepEqual(logged, [], 'the process logged faults');
  });

  it('still runs afterwards: /api/health answers 200 and a normal webhook reaches an agent as new_message', async () => {
    assert.equal(pod.proc.exitCode, null, `the process exited:\n${pod.output()}`);
    assert.equal(pod.proc.signalCode, null, `the process was killed:\n${pod.output()}`);
    const health = await rawRequest(port, { method: 'GET', path: '/api/health' });
    assert.equal(health.status, 200);
    assert.equal(health.json?.message, 'Smart Chat API Running');

    const customer = `${NUMBER_PREFIX}0900`;
    const opened = await rawRequest(port, webhookPost(CUSTOMER_CHANNEL, json(textWebhook(`91${customer}`, 'are you there?'))));
    assert.equal(opened.status, 200, opened.text);
    const lookup = await AgentClient.connect(pod.url, AGENT);
    const chat = await eventually(async () => ((await lookup.request('search_chat', { customer })).data?.chat?.chat_id as string | undefined), 10_000, 'chat opened');
    await lookup.close();
    const agent = await AgentClient.connect(pod.url, AGENT, { chatId: chat });
    try {
      const answered = await rawRequest(port, webhookPost(CUSTOMER_CHANNEL, json(textWebhook(`91${customer}`, 'after the storm'))));
      assert.equal(answered.status, 200, answered.text);
      const push = await agent.waitForPush((f) => f.event === 'new_message' && f.data?.message === 'after the storm', 10_000);
      assert.equal(push.data.chat_id, chat);
    } finally {
      await agent.close();
    }
  });

  it('exits 0 on SIGTERM', async () => {
    assert.equal(await pod.stop(), 0, pod.output());
  });
});
