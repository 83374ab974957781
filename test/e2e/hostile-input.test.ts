/**
 * The reproducers of the hostile-input review, each against the real server on
 * Redis and the MongoDB-compatible server: nothing a client sends may end the
 * process, poison a chat, or fall into an object's prototype.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { signToken } from '../../src/infra/jwt.ts';
import { MAX_JSON_DEPTH } from '../../src/transport/client-input.ts';
import { AgentClient } from '../support/agent-client.ts';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const AGENT = '9099039188';
const CUSTOMER_CHANNEL = '8000247247';
const agentToken = signToken({ sub: AGENT }, TEST_JWT_SECRET);
const BUILT_INS = [...Object.getOwnPropertyNames(Object.prototype), 'prototype'];

/** A raw request through node:http, which sends the path byte for byte (fetch would re-encode it). */
function raw(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  return new Promise((resolve, reject) => {
    // A body goes with its Content-Length: node:http sends a GET body unframed, which is not HTTP.
    const length: Record<string, string> = body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) };
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers: { connection: 'close', ...length, ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          /* plain text */
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('unexpected-response', (_q, res) => resolve(res.statusCode ?? 0));
    ws.once('open', () => {
      ws.close();
      resolve(101);
    });
    ws.once('error', reject);
  });
}

describe('hostile input', () => {
  let app: TestApp;
  let port: number;
  let agent: AgentClient;

  async function health(): Promise<void> {
    const r = await raw(port, 'GET', '/api/health');
    assert.equal(r.status, 200, 'the server still answers');
  }

  /** A chat for `number` with one customer message. */
  async function chatWith(number: string): Promise<string> {
    await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook(`91${number}`, 'hello'));
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: number }), 5000, 'chat stored');
    // The chat is saved before its effects run: wait for the message itself too.
    await eventually(async () => (await app.store.collection('messages').countDocuments({ chat_id: chat._id })) === 1, 5000, 'message stored');
    return String(chat._id);
  }

  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('hostile'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('hostile')}:`, WEBHOOK_VERIFY_TOKEN: 'verify-me' });
    port = app.port;
    agent = await AgentClient.connect(app.url, AGENT);
  });
  after(async () => {
    await agent.close();
    await app.stop();
  });

  describe('bad percent-encoding', () => {
    it('answers 400 BAD_ENCODING on every route pattern with a parameter, with or without a token, and keeps serving', async () => {
      const withParams = app.routes.filter((r) => r.pattern.includes(':'));
      assert.ok(withParams.length >= 4, `routes with parameters: ${withParams.map((r) => r.pattern).join(', ')}`);
      for (const route of withParams) {
        for (const bad of ['%', '%ZZ', '%E0%A4', '%ED%A0%80']) {
          const path = route.pattern.replace(/:[a-z_]+/g, bad);
          for (const headers of [{}, { authorization: `Bearer ${agentToken}` }] as Record<string, string>[]) {
            const r = await raw(port, route.method, path, { ...headers, 'content-type': 'application/json' }, route.method === 'POST' ? '{}' : undefined);
            assert.equal(r.status, 400, `${route.method} ${path}`);
            assert.equal(r.body.error.code, 'BAD_ENCODING', `${route.method} ${path}`);
          }
        }
      }
      await health();
    });

    it('answers the reviewer\'s reproducers (GET /api/machines/%, POST …/whatsapp_chat/%ZZ) with 400', async () => {
      assert.equal((await raw(port, 'GET', '/api/machines/%')).status, 400);
      assert.equal((await raw(port, 'POST', '/api/chats/whatsapp_chat/%ZZ', {}, '{}')).status, 400);
      assert.equal((await raw(port, 'GET', '/api/actors/%/1', { authorization: `Bearer ${agentToken}` })).status, 400);
      assert.equal((await raw(port, 'GET', '/api/media/%', { authorization: `Bearer ${agentToken}` })).status, 400);
      await health();
    });

    it('refuses a WebSocket upgrade to /ws/%ZZ with 400 and keeps serving', async () => {
      const base = `ws://127.0.0.1:${port}`;
      for (const bad of ['%ZZ', '%', '%ED%A0%80']) assert.equal(await upgradeStatus(`${base}/ws/${bad}?token=${agentToken}`), 400, bad);
      assert.equal(await upgradeStatus(`${base}/ws/${'x'.repeat(65)}?token=${agentToken}`), 400);
      assert.equal(await upgradeStatus(`${base}/ws/%ZZ`), 401, 'no token: refused before the path is read');
      await health();
      assert.equal(await upgradeStatus(`${base}/ws/some-chat?token=${agentToken}`), 101);
    });
  });

  describe('text that is not well-formed Unicode', () => {
    it('refuses send_message with a lone surrogate, stores nothing, and the chat keeps working', async () => {
      const chatId = await chatWith('9822222201');
      const messages = app.store.collection('messages');
      const before = await messages.countDocuments({ chat_id: chatId });
      for (const text of ['bad \ud800', 'cut \udc00 low', 'end \ud83d']) {
        const r = await agent.request('send_message', { chat_id: chatId, message: text });
        assert.equal(r.error?.code, 'VALIDATION_FAILED', JSON.stringify(text));
      }
      assert.equal(await messages.countDocuments({ chat_id: chatId }), before);
      // The chat is not poisoned: a customer message is applied, the history answers, a good reply is sent.
      await postWebhook(app.url, CUSTOMER_CHANNEL, textWebhook('919822222201', 'still there?'));
      await eventually(async () => (await messages.countDocuments({ chat_id: chatId })) === before + 1, 5000, 'customer message applied');
      const history = await agent.request('fetch_chats_by_user', { chat_id: chatId });
      assert.equal(history.event, 'fetch_chats_by_user');
      const ok = await agent.request('send_message', { chat_id: chatId, message: 'yes, we are 🚕' });
      assert.equal(ok.event, 'send_message', JSON.stringify(ok.error));
    });

    it('refuses a webhook carrying a lone surrogate with 400 VALIDATION_FAILED and stores nothing', async () => {
      const body = JSON.stringify(textWebhook('919822222202', 'placeholder')).replace('placeholder', 'bad \\ud800 text');
      const r = await postWebhook(app.url, CUSTOMER_CHANNEL, body);
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as any).error.code, 'VALIDATION_FAILED');
      assert.equal(await app.store.collection('chats').findOne({ customer: '9822222202' }), null);
    });

    it('refuses an HTTP body whose bytes are not UTF-8 with BAD_JSON', async () => {
      const admin = signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET);
      const bytes = Buffer.concat([Buffer.from('{"message":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      const r = await fetch(`${app.url}/api/chats/delete_cache`, { method: 'POST', body: bytes, headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' } });
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as any).error.code, 'BAD_JSON');
    });
  });

  describe('lookups keyed by client input', () => {
    it('answers 404 for machines named after built-in properties, without a token', async () => {
      for (const name of [...BUILT_INS, '__proto__']) {
        const r = await raw(port, 'GET', `/api/machines/${encodeURIComponent(name)}`);
        assert.equal(r.status, 404, name);
        assert.equal(r.body.error.code, 'NOT_FOUND', name);
        const actor = await raw(port, 'GET', `/api/actors/${encodeURIComponent(name)}/9822222203`, { authorization: `Bearer ${agentToken}` });
        assert.equal(actor.status, 404, `actor type ${name}`);
      }
    });

    it('answers UNKNOWN_EVENT for WebSocket events named after built-in properties', async () => {
      for (const event of [...BUILT_INS, '__proto__']) {
        const r = await agent.request(event, {});
        assert.equal(r.error?.code, 'UNKNOWN_EVENT', event);
      }
    });

    it('treats a search for toString or __proto__ as plain text, not as a special filter', async () => {
      await chatWith('9822222204');
      for (const search of [...BUILT_INS, '__proto__']) {
        const r = await agent.request('fetch_all_chats', { search });
        assert.equal(r.event, 'fetch_all_chats', `${search}: ${JSON.stringify(r.error)}`);
        assert.equal(r.data.total, 0, `${search} matches no chat`);
      }
    });

    it('refuses JSON with a __proto__ key or constructor.prototype', async () => {
      const proto = JSON.stringify(textWebhook('919822222205', 'x')).replace('"object":', '"__proto__":{"polluted":1},"object":');
      const r = await postWebhook(app.url, CUSTOMER_CHANNEL, proto);
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as any).error.code, 'VALIDATION_FAILED');
      const ctor = await agent.request('fetch_all_chats', { constructor: { prototype: { x: 1 } } });
      assert.equal(ctor.error?.code, 'VALIDATION_FAILED');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });
  });

  describe('deep nesting', () => {
    const contactsWebhook = (card: unknown) => ({
      object: 'whatsapp_business_account',
      entry: [{ id: '1', changes: [{ field: 'messages', value: {
        messaging_product: 'whatsapp', metadata: { display_phone_number: '918000247247', phone_number_id: '1' },
        contacts: [{ profile: { name: 'Deep' }, wa_id: '919822222206' }],
        messages: [{ from: '919822222206', id: `wamid.deep.${Date.now()}`, timestamp: String(Math.floor(Date.now() / 1000)), type: 'contacts', contacts: [card] }],
      } }] }],
    });
    const nested = (levels: number) => {
      let v: unknown = 'bottom';
      for (let i = 0; i < levels; i++) v = { x: v };
      return v;
    };

    it('refuses a contacts card nested 3,000 levels with 400 VALIDATION_FAILED and stores nothing', async () => {
      const r = await postWebhook(app.url, CUSTOMER_CHANNEL, contactsWebhook({ name: { formatted_name: 'A' }, extra: nested(3000) }));
      assert.equal(r.status, 400);
      assert.equal(((await r.json()) as any).error.code, 'VALIDATION_FAILED');
      assert.equal(await app.store.collection('chats').findOne({ customer: '9822222206' }), null);
      await health();
    });

    it(`keeps a card nested within the ${MAX_JSON_DEPTH}-level bound`, async () => {
      const r = await postWebhook(app.url, CUSTOMER_CHANNEL, contactsWebhook({ name: { formatted_name: 'Shallow' }, extra: nested(MAX_JSON_DEPTH - 12) }));
      assert.equal(r.status, 200, await r.text());
      await eventually(() => app.store.collection('chats').findOne({ customer: '9822222206' }), 5000, 'contacts message applied');
    });

    it('refuses a WebSocket frame nested deeper than the bound without closing the connection', async () => {
      const r = await agent.request('fetch_all_chats', nested(100));
      assert.equal(r.error?.code, 'VALIDATION_FAILED');
      assert.equal((await agent.request('config', {})).event, 'config');
    });
  });

  describe('tokens', () => {
    it('takes ?token= only on the WebSocket upgrade, not on HTTP routes', async () => {
      const viaQuery = await raw(port, 'GET', `/api/dashboard/stats?token=${agentToken}`);
      assert.equal(viaQuery.status, 401);
      const viaHeader = await raw(port, 'GET', '/api/dashboard/stats', { authorization: `Bearer ${agentToken}` });
      assert.equal(viaHeader.status, 200);
    });

    it('closes an open WebSocket when its token expires, with close code 4401', async () => {
      const token = signToken({ sub: AGENT, ttlSeconds: 1 }, TEST_JWT_SECRET);
      const ws = new WebSocket(`ws://127.0.0.1:${port}/ws?token=${token}`);
      const opened = Date.now();
      const code = await new Promise<number>((resolve, reject) => {
        ws.once('close', (c) => resolve(c));
        ws.once('error', reject);
        setTimeout(() => reject(new Error('still open 5 s after the token expired')), 6000);
      });
      assert.equal(code, 4401);
      assert.ok(Date.now() - opened < 3000, 'closed about when the token expired');
    });
  });

  describe('frames that are not JSON', () => {
    it('counts junk frames against the rate limit before parsing them', async () => {
      const client = await AgentClient.connect(app.url, AGENT);
      const codes: string[] = [];
      client.ws.on('message', (m) => {
        const f = JSON.parse(m.toString()) as { error?: { code: string } };
        if (f.error) codes.push(f.error.code);
      });
      for (let i = 0; i < 500; i++) client.ws.send(`junk ${i} {`);
      await eventually(async () => codes.length === 500, 5000, 'an answer to every frame');
      const limited = codes.filter((c) => c === 'RATE_LIMITED').length;
      assert.ok(limited >= 400, `${limited} of 500 junk frames rate limited`);
      assert.ok(codes.filter((c) => c === 'VALIDATION_FAILED').length <= 100);
      await client.close();
    });
  });

  describe('requests uWebSockets.js frames differently (found by the fuzz suite)', () => {
    it('answers HEAD like GET without a body, and HEAD on a GET that acts with 405', async () => {
      const head = await raw(port, 'HEAD', '/api/health');
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
      assert.equal(head.headers['content-type'], 'application/json');
      assert.equal((await raw(port, 'HEAD', '/no/such/route')).status, 404);
      const acting = await raw(port, 'HEAD', '/api/chats/send_whatsapp_template?to=9822222299', { authorization: `Bearer ${agentToken}` });
      assert.equal(acting.status, 405);
      assert.equal(await app.store.collection('chats').findOne({ customer: '9822222299' }), null, 'HEAD sent nothing');
      await health();
    });

    it('answers a route that takes no body normally when a (framed) body is sent to it', async () => {
      for (const size of [10, 4096, 64 * 1024]) {
        const r = await raw(port, 'GET', '/api/health', { 'content-type': 'text/plain' }, 'x'.repeat(size));
        assert.equal(r.status, 200, `${size}-byte body`);
      }
      // Read and dropped, never buffered: even past the 256 KiB limit it costs no memory.
      assert.equal((await raw(port, 'GET', '/api/health', { 'content-type': 'text/plain' }, 'x'.repeat(300 * 1024))).status, 200);
      await health();
    });

    it('takes /ws/ (an empty chat id) as the dashboard connection', async () => {
      assert.equal(await upgradeStatus(`ws://127.0.0.1:${port}/ws/?token=${agentToken}`), 101);
      assert.equal(await upgradeStatus(`ws://127.0.0.1:${port}/ws/`), 401);
    });
  });

  describe('webhook verification', () => {
    it('answers the challenge as plain text with X-Content-Type-Options: nosniff, so no browser runs it', async () => {
      const r = await raw(port, 'GET', '/api/webhook/verify?hub.mode=subscribe&hub.challenge=%3Cscript%3Ealert(1)%3C%2Fscript%3E&hub.verify_token=verify-me');
      assert.equal(r.status, 200);
      assert.equal(r.body, '<script>alert(1)</script>');
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      assert.match(String(r.headers['content-type']), /^text\/plain/);
      const refused = await raw(port, 'GET', '/api/webhook/verify?hub.mode=subscribe&hub.challenge=1&hub.verify_token=wrong');
      assert.equal(refused.headers['x-content-type-options'], 'nosniff');
    });
  });
});
