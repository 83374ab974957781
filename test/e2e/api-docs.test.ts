/**
 * The interface documents (GET /api/openapi.json, /api/asyncapi.json, /api/docs):
 * served as built, covering every registered route and every agent event,
 * describing every response and frame the main flows produce (the hook in
 * test/support/api-check.ts, which every e2e suite's startTestApp and
 * AgentClient go through), and linting clean with Redocly and the AsyncAPI parser.
 */
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Parser } from '@asyncapi/parser';
import { signToken } from '../../src/infra/jwt.ts';
import { PUSHES } from '../../src/transport/api-schemas.ts';
import { buildApiDocuments } from '../../src/transport/docs.routes.ts';
import { schemas as EVENT_SCHEMAS } from '../../src/transport/ws-events.ts';
import { AgentClient, type Frame } from '../support/agent-client.ts';
import { asyncapi, checkFrame, checkHttp, openapi, operationFor } from '../support/api-check.ts';
import { startTestApp, TEST_JWT_SECRET, type TestApp } from '../support/app.ts';
import { eventually, postWebhook, statusWebhook, textWebhook } from '../support/webhooks.ts';

const root = join(import.meta.dirname, '../..');
const ADMIN = `Bearer ${signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET)}`;
const AGENT_ID = '9099039188';
const AGENT = `Bearer ${signToken({ sub: AGENT_ID }, TEST_JWT_SECRET)}`;
const SECRET = 'webhook-secret';

describe('interface documents', () => {
  let app: TestApp;
  /** Documented (method, path, status) seen in this suite's responses. */
  const seen = new Set<string>();
  const get = async (path: string, headers: Record<string, string> = {}, method = 'GET') => {
    const res = await fetch(`${app.url}${path}`, { method, headers });
    const found = operationFor(method, new URL(path, app.url).pathname);
    if (found) seen.add(`${method} ${found.path} ${res.status}`);
    return res;
  };
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}, method = 'POST') => {
    const res = await fetch(`${app.url}${path}`, { method, body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } });
    const found = operationFor(method, path);
    if (found) seen.add(`${method} ${found.path} ${res.status}`);
    return res;
  };

  before(async () => {
    app = await startTestApp({ WEBHOOK_SECRET: SECRET, WEBHOOK_VERIFY_TOKEN: 'verify-me', ADMIN_PASSWORD: 'admin-password-1' });
  });
  after(async () => {
    await app.stop(); // fails if any response was not described by the document
  });

  it('serves the documents it builds, without auth', async () => {
    const built = buildApiDocuments();
    const o = await get('/api/openapi.json');
    assert.equal(o.status, 200);
    assert.equal(o.headers.get('content-type'), 'application/vnd.oai.openapi+json;version=3.1');
    assert.deepEqual(await o.json(), JSON.parse(JSON.stringify(built.openapi)));
    const a = await get('/api/asyncapi.json');
    assert.equal(a.status, 200);
    assert.equal(a.headers.get('content-type'), 'application/vnd.aai.asyncapi+json;version=3.1.0');
    assert.deepEqual(await a.json(), JSON.parse(JSON.stringify(built.asyncapi)));
    assert.equal((await get('/api/openapi.json', {}, 'HEAD')).status, 200);
  });

  it('serves a self-contained reference page whose CSP allows only itself', async () => {
    const res = await get('/api/docs');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /style-src 'sha256-[A-Za-z0-9+/=]+'/);
    assert.doesNotMatch(csp, /unsafe|https?:|\*/);
    const html = await res.text();
    assert.doesNotMatch(html, /<script|<link|<img|<iframe|@import|url\(/i);
    assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//i, 'no external resource');
    for (const path of Object.keys(openapi.paths)) assert.ok(html.includes(path.replace(/&/g, '&#38;')), `page lists ${path}`);
    for (const event of [...Object.keys(EVENT_SCHEMAS), ...Object.keys(PUSHES)]) assert.ok(html.includes(`<code>${event}</code>`), `page lists ${event}`);
  });

  it('documents exactly the routes the router serves, and every agent event and push', () => {
    const served = app.routes.map((r) => `${r.method.toLowerCase()} ${r.pattern.replace(/:(\w+)/g, '{$1}')}`).sort();
    const documented = Object.entries(openapi.paths as Record<string, Record<string, unknown>>).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`)).sort();
    assert.deepEqual(documented, served);
    const names = new Set(Object.values(asyncapi.components.messages as Record<string, { name: string }>).map((m) => m.name));
    for (const event of Object.keys(EVENT_SCHEMAS)) {
      assert.ok(names.has(`${event}.request`) && names.has(`${event}.reply`), event);
      assert.ok(asyncapi.operations[event]?.reply, `${event} has a reply`);
    }
    for (const push of Object.keys(PUSHES)) assert.ok(names.has(push), push);
    assert.ok(names.has('error'));
  });

  it('a response or frame the documents do not describe is a violation', () => {
    assert.equal(checkHttp('GET', '/api/health', 200, 'application/json', '{"status":1,"message":"Smart Chat API Running"}'), undefined);
    assert.match(checkHttp('GET', '/api/health', 200, 'application/json', '{"status":1}') ?? '', /message/);
    assert.match(checkHttp('GET', '/api/health', 418, 'application/json', '{}') ?? '', /status not documented/);
    assert.match(checkHttp('GET', '/api/health', 200, 'text/html', '') ?? '', /content-type/);
    assert.match(checkHttp('GET', '/api/dashboard/stats', 401, 'application/json', '{"status":0,"error":{"code":"NOT_FOUND","message":"x"}}') ?? '', /code/);
    assert.match(checkHttp('POST', '/api/nowhere', 200, 'application/json', '{"status":1}') ?? '', /no documented operation/);
    assert.equal(checkHttp('POST', '/api/nowhere', 404, 'application/json', '{"status":0,"error":{"code":"NOT_FOUND","message":"x"}}'), undefined);
    assert.equal(checkFrame({ event: 'leave_chat', id: 'r1', data: { chat_id: 'c', left: true } }), undefined);
    assert.match(checkFrame({ event: 'leave_chat', id: 'r1', data: { chat_id: 'c' } }) ?? '', /left/);
    assert.match(checkFrame({ event: 'surprise', data: {} }) ?? '', /not a documented/);
    assert.match(checkFrame({ event: 'error', id: null, error: { code: 'NOPE', message: 'x' } }) ?? '', /code/);
  });

  it('describes every HTTP response of the main flows, errors included', async () => {
    const customer = '919822222222';
    const signed = (body: string) => ({ 'x-hub-signature-256': `sha256=${createHmacHex(body)}` });
    const hook = JSON.stringify(textWebhook(customer, 'hello'));
    assert.equal((await post('/api/chats/whatsapp_chat/8000247247', hook, signed(hook))).status, 200);
    assert.equal((await post('/api/chats/whatsapp_chat/8000247247', hook, { 'x-hub-signature-256': 'sha256=00' })).status, 401);
    assert.equal((await post('/api/chats/whatsapp_chat/1234', hook, signed(hook))).status, 404);
    assert.equal((await post('/api/chats/whatsapp_chat/8000247247', '{nope', signed('{nope'))).status, 400);
    assert.equal((await post('/api/chats/whatsapp_chat/8000247247', '{"a":1}', signed('{"a":1}'))).status, 400);
    assert.equal((await post('/api/chats/whatsapp_chat/8000247247', 'x'.repeat(300 * 1024))).status, 413);
    const statusHook = JSON.stringify(statusWebhook(customer, 'wamid.unknown', 'delivered'));
    assert.equal((await post('/api/chats/whatsapp_chat/8000247247', statusHook, signed(statusHook))).status, 200);
    await eventually(async () => app.store.collection('chats').findOne({ customer: '9822222222' }));

    assert.equal((await get('/api/webhook/verify?hub.mode=subscribe&hub.challenge=42&hub.verify_token=verify-me')).status, 200);
    assert.equal((await get('/api/webhook/verify?hub.mode=subscribe&hub.challenge=42&hub.verify_token=no')).status, 403);
    assert.equal((await post('/api/webhook/user/update', { mobile: '9822222222', dco_status: 'Active' }, { authorization: ADMIN })).status, 200);
    assert.equal((await post('/api/webhook/user/update', { mobile: 'x' }, { authorization: ADMIN })).status, 400);
    assert.equal((await post('/api/webhook/user/update', { mobile: '9822222222' }, { authorization: AGENT })).status, 403);
    assert.equal((await post('/api/webhook/user/update', { mobile: '9822222222' })).status, 401);

    assert.equal((await get('/api/dashboard/stats', { authorization: AGENT })).status, 200);
    assert.equal((await get('/api/dashboard/stats')).status, 401);
    assert.equal((await get('/api/health')).status, 200);
    assert.equal((await get('/api/health/ready')).status, 200);
    assert.equal((await get('/metrics')).status, 200);
    assert.equal((await get('/api/machines')).status, 200);
    assert.equal((await get('/api/machines/chat')).status, 200);
    assert.equal((await get('/api/machines/nope')).status, 404);
    assert.equal((await get('/api/actors/chat/9822222222', { authorization: AGENT })).status, 200);
    assert.equal((await get('/api/actors/chat/12', { authorization: AGENT })).status, 400);
    assert.equal((await get('/api/actors/chat/9833333333', { authorization: AGENT })).status, 404);
    assert.equal((await get('/api/actors/nope/9822222222', { authorization: AGENT })).status, 404);

    assert.equal((await get('/api/chats/send_whatsapp_template?to=9822222222', { authorization: AGENT })).status, 200);
    assert.equal((await get('/api/chats/send_whatsapp_template?to=12', { authorization: AGENT })).status, 400);
    assert.equal((await get('/api/chats/send_whatsapp_template?to=9822222222', { authorization: AGENT }, 'HEAD')).status, 405);
    assert.equal((await post('/api/chats/clear_cache', {}, { authorization: ADMIN })).status, 200);
    assert.equal((await post('/api/chats/delete_cache', { message: 'hi' }, { authorization: ADMIN })).status, 200);
    assert.equal((await post('/api/chats/delete_cache', { message: '' }, { authorization: ADMIN })).status, 400);
    assert.equal((await get('/api/media/nothing-here', { authorization: AGENT })).status, 404);
    assert.equal((await get('/api/media/%ZZ', { authorization: AGENT })).status, 400);
    assert.equal((await get('/api/no/such/route')).status, 404);

    assert.equal((await post('/api/auth/login', { username: 'admin', password: 'admin-password-1' })).status, 200);
    assert.equal((await post('/api/auth/login', { username: 'admin', password: 'wrong-password' })).status, 401);
    assert.equal((await post('/api/auth/login', { username: 'admin' })).status, 400);
    assert.equal((await get('/api/agents', { authorization: ADMIN })).status, 200);
    assert.equal((await get('/api/agents', { authorization: AGENT })).status, 403);
    assert.equal((await post('/api/agents', { username: 'docs.agent', name: 'Docs', password: 'docs-password', role: 'agent' }, { authorization: ADMIN })).status, 200);
    assert.equal((await post('/api/agents', { username: 'docs.agent', name: 'Docs', password: 'docs-password', role: 'agent' }, { authorization: ADMIN })).status, 409);
    assert.equal((await post('/api/agents/docs.agent', { disabled: true }, { authorization: ADMIN }, 'PATCH')).status, 200);
    assert.equal((await post('/api/agents/nobody', { disabled: true }, { authorization: ADMIN }, 'PATCH')).status, 404);
    assert.equal((await get('/api/discount/routes', { authorization: ADMIN })).status, 200);
    assert.equal((await get('/api/discount/routes', { authorization: AGENT })).status, 403);
    assert.equal((await post('/api/discount/routes/pune-mumbai', { enabled: true }, { authorization: ADMIN }, 'PUT')).status, 200);
    assert.equal((await post('/api/discount/routes/pune-mumbai', { code: 'bad code' }, { authorization: ADMIN }, 'PUT')).status, 400);
    assert.equal((await post('/api/discount/routes/nowhere', { enabled: true }, { authorization: ADMIN }, 'PUT')).status, 404);
    // Team inbox administration.
    assert.equal((await post('/api/inbox/teams/drivers', { name: 'Drivers', agents: ['asha.k'], numbers: ['9099039188'] }, { authorization: ADMIN }, 'PUT')).status, 200);
    assert.equal((await post('/api/inbox/teams/others', { name: 'Others', agents: [], numbers: ['9099039188'] }, { authorization: ADMIN }, 'PUT')).status, 409);
    assert.equal((await post('/api/inbox/teams/Bad Id', { name: 'x', agents: [], numbers: [] }, { authorization: ADMIN }, 'PUT')).status, 400);
    assert.equal((await get('/api/inbox/teams', { authorization: ADMIN })).status, 200);
    assert.equal((await post('/api/inbox/teams/others', undefined, { authorization: ADMIN }, 'DELETE')).status, 404);
    assert.equal((await post('/api/inbox/teams/drivers', undefined, { authorization: ADMIN }, 'DELETE')).status, 200);
    assert.equal((await get('/api/inbox/teams', { authorization: AGENT })).status, 403);
    assert.equal((await post('/api/inbox/settings', { agent_cap: 3 }, { authorization: ADMIN }, 'PUT')).status, 200);
    assert.equal((await post('/api/inbox/settings', { agent_cap: 0 }, { authorization: ADMIN }, 'PUT')).status, 400);
    assert.equal((await get('/api/inbox/settings', { authorization: ADMIN })).status, 200);
    // Canned responses and labels (test/e2e/desk-settings.test.ts covers them fully).
    assert.equal((await post('/api/canned-responses', { shortcode: 'fare', title: 'Fare', text: 'Hi {{customer_name}}' }, { authorization: ADMIN })).status, 200);
    assert.equal((await post('/api/canned-responses', { shortcode: 'fare', title: 'Fare', text: 'again' }, { authorization: ADMIN })).status, 409);
    assert.equal((await post('/api/canned-responses', { shortcode: 'bad', title: 'Bad', text: 'Hi {{nobody}}' }, { authorization: ADMIN })).status, 400);
    assert.equal((await get('/api/canned-responses', { authorization: AGENT })).status, 200);
    assert.equal((await post('/api/canned-responses/fare', { text: 'Hello {{customer_name}}' }, { authorization: ADMIN }, 'PATCH')).status, 200);
    assert.equal((await post('/api/canned-responses/none', { text: 'x' }, { authorization: ADMIN }, 'PATCH')).status, 404);
    assert.equal((await get('/api/canned-responses/fare', { authorization: ADMIN }, 'DELETE')).status, 200);
    assert.equal((await get('/api/canned-responses/fare', { authorization: ADMIN }, 'DELETE')).status, 404);
    assert.equal((await post('/api/labels', { name: 'fare', color: '#aa3300' }, { authorization: ADMIN })).status, 200);
    assert.equal((await post('/api/labels', { name: 'fare', color: '#aa3300' }, { authorization: ADMIN })).status, 409);
    assert.equal((await post('/api/labels', { name: 'fare', color: '#aa3300' }, { authorization: AGENT })).status, 403);
    assert.equal((await get('/api/labels', { authorization: AGENT })).status, 200);
    assert.equal((await post('/api/labels/fare', { color: '#003366' }, { authorization: ADMIN }, 'PATCH')).status, 200);
    assert.equal((await post('/api/labels/none', { color: '#003366' }, { authorization: ADMIN }, 'PATCH')).status, 404);
    assert.equal((await get('/api/labels/fare', { authorization: ADMIN }, 'DELETE')).status, 200);
    assert.equal((await get('/api/labels/Bad%20Name', { authorization: ADMIN }, 'DELETE')).status, 400);
    assert.equal((await get('/api/reports/conversations?from=2026-11-01&to=2026-11-07', { authorization: ADMIN })).status, 200);
    assert.equal((await get('/api/reports/conversations?from=2026-11-07&to=2026-11-01', { authorization: ADMIN })).status, 400);
    assert.equal((await get('/api/reports/conversations.csv?from=2026-11-01&to=2026-11-07', { authorization: ADMIN })).status, 200);
    // The agent console's page, assets and routes (test/browser drives them in a browser).
    const chatId = String((await app.store.collection('chats').findOne({ customer: '9822222222' }))!._id);
    assert.equal((await post(`/api/console/chats/${chatId}/messages`, { type: 'contact_card' }, { authorization: AGENT })).status, 200);
    assert.equal((await post(`/api/console/chats/${chatId}/messages`, { type: 'buttons', body: 'Resolved?', buttons: [] }, { authorization: AGENT })).status, 400);
    assert.equal((await post('/api/console/chats/nope/messages', { type: 'contact_card' }, { authorization: AGENT })).status, 404);
    assert.equal((await post(`/api/console/chats/${chatId}/messages`, { type: 'contact_card' })).status, 401);
    assert.equal((await get(`/api/console/chats/${chatId}/viewers`, { authorization: AGENT })).status, 200);
    const page = await get('/');
    assert.equal(page.status, 200);
    const asset = /src="(\/console\/[^"]+)"/.exec(await page.text())![1]!;
    assert.equal((await get(asset)).status, 200);
    assert.equal((await get('/console/nope.js')).status, 404);

    assert.deepEqual(app.apiViolations, []);
    // Every documented operation answered 200 at least once here.
    const missing = Object.entries(openapi.paths as Record<string, Record<string, unknown>>)
      .flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${p} 200`))
      .filter((k) => !seen.has(k) && !k.startsWith('GET /api/media/'));
    assert.deepEqual(missing, [], 'operations never answered 200 in this test');
  });

  it('describes every frame of every agent event, their errors and the pushes', async () => {
    const a = await AgentClient.connect(app.url, AGENT_ID);
    const admin = await AgentClient.connect(app.url, 'ops', { role: 'admin' });
    try {
      const expectOk = async (event: string, data?: unknown): Promise<Frame> => {
        const f = await a.request(event, data);
        assert.equal(f.event, event, JSON.stringify(f));
        return f;
      };
      await expectOk('config');
      const opened = await expectOk('new_chat', { customer: '9844444444', customer_type: 'Vendor' });
      const chatId = String(opened.data.chat.chat_id);
      await expectOk('search_chat', { customer: '9844444444' });
      await expectOk('search_chat', { customer: '9855555555' });
      await expectOk('join_chat', { chat_id: chatId });
      await expectOk('join_chat_customer', { chat_id: chatId, customer_type: 'Vendor' });
      const hook = JSON.stringify(textWebhook('919844444444', 'from the customer'));
      await post('/api/chats/whatsapp_chat/9726724247', hook, { 'x-hub-signature-256': `sha256=${createHmacHex(hook)}` });
      await a.waitForPush((f) => f.event === 'new_message');
      await expectOk('send_message', { chat_id: chatId, message: 'hello from the agent' });
      await expectOk('fetch_all_chats', { status: 'active', page: 1, page_size: 5 });
      await expectOk('fetch_all_chats', { search: 'Active_Approved' });
      await expectOk('fetch_chats_by_user', { chat_id: chatId });
      await expectOk('fetch_missed', { chat_id: chatId, after_seq: 0 });
      await expectOk('update_chat_status', { customer_number: '9844444444', status: 'resolved' });
      await a.waitForPush((f) => f.event === 'chat_status_updated');
      await a.waitForPush((f) => f.event === 'dashboard_stats');
      await expectOk('update_chat_status', { customer_number: '9844444444', status: 'active' });
      await expectOk('leave_chat', { chat_id: chatId });
      await admin.request('config');
      for (const [event, data, code] of [
        ['nope', {}, 'UNKNOWN_EVENT'],
        ['fetch_chats_by_user', { chat_id: 'missing' }, 'NOT_FOUND'],
        ['send_message', { chat_id: chatId, message: '' }, 'VALIDATION_FAILED'],
        ['search_chat', { customer: '9844444444', sender: 'someone-else' }, 'FORBIDDEN'],
        ['retry_media', { message_id: 'no-media-here' }, 'NOT_FOUND'],
      ] as const) {
        const f = await a.request(event, data);
        assert.equal(f.event, 'error');
        assert.equal(f.error?.code, code);
      }
      a.ws.send('not json');
      await a.waitForPush((f) => f.event === 'error' && f.id === null);
      await eventually(async () => a.pushes.some((f) => f.event.startsWith('room_update')));
      await eventually(async () => a.pushes.some((f) => f.event === 'message_status'), 5000, 'a message_status push');
      assert.deepEqual(a.apiViolations, []);
      assert.deepEqual(admin.apiViolations, []);
    } finally {
      await Promise.all([a.close(), admin.close()]); // fail on any undocumented frame
    }
  });

  it('OpenAPI lints clean with Redocly (offline), AsyncAPI parses clean with @asyncapi/parser', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-docs-'));
    try {
      writeFileSync(join(dir, 'openapi.json'), JSON.stringify(openapi, null, 1));
      // operation-4xx-response: the liveness, readiness, metrics, machine list and document routes have no client error to describe.
      const lint = spawnSync(join(root, 'node_modules/.bin/redocly'), ['lint', 'openapi.json', '--format=stylish', '--skip-rule=operation-4xx-response'], {
        cwd: dir, encoding: 'utf8', timeout: 120_000, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      });
      const out = `${lint.stdout}\n${lint.stderr}`;
      assert.equal(lint.status, 0, out);
      assert.match(out, /valid/i, out);
      assert.doesNotMatch(out, /You have \d+ warnings?|\d+ errors?/i, out); // (the banner about Node 20's end of life is not a lint result)
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncapi));
    assert.ok(document, JSON.stringify(diagnostics.slice(0, 5)));
    // None at all: no error, warning, information or hint.
    const problems = diagnostics.map((d) => `${d.severity} ${d.code}: ${d.message} at ${d.path.join('.')}`);
    assert.deepEqual(problems, []);
  });
});


function createHmacHex(body: string): string {
  return createHmac('sha256', SECRET).update(body).digest('hex');
}
