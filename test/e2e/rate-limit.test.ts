/** The HTTP request budgets per client address: admin routes (one budget for all) and the template route, 429 with Retry-After past them. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';

const admin = `Bearer ${signToken({ sub: 'ops', role: 'admin' }, TEST_JWT_SECRET)}`;
const agent = `Bearer ${signToken({ sub: '9099039188' }, TEST_JWT_SECRET)}`;

describe('HTTP rate limits', () => {
  let app: TestApp;
  before(async () => {
    app = await startTestApp({ ADMIN_RATE_LIMIT: '3', TEMPLATE_RATE_LIMIT: '2' });
  });
  after(() => app.stop());

  const call = (method: string, path: string, token: string, body?: unknown) =>
    fetch(`${app.url}${path}`, { method, headers: { authorization: token, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });

  it('admin routes share one budget per address: past it 429 RATE_LIMITED with Retry-After, before the handler runs', async () => {
    assert.equal((await call('POST', '/api/chats/delete_cache', admin, { message: 'x' })).status, 200);
    assert.equal((await call('GET', '/api/agents', admin)).status, 200);
    assert.equal((await call('GET', '/api/discount/routes', admin)).status, 200);
    for (const [method, path, body] of [['POST', '/api/chats/clear_cache'], ['POST', '/api/webhook/user/update', { mobile: '9800000001' }], ['GET', '/api/agents'], ['PATCH', '/api/agents/nobody', { name: 'x' }]] as const) {
      const res = await call(method, path, admin, body);
      assert.equal(res.status, 429, `${method} ${path}`);
      const retryAfter = Number(res.headers.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 20, `Retry-After ${retryAfter}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'RATE_LIMITED');
    }
    assert.equal(await app.kv.get('chat_response::x'), null);
    assert.equal((await call('GET', '/api/dashboard/stats', agent)).status, 200, 'agent routes are not behind the admin budget');
  });

  it('the template route has its own budget: each request sends a WhatsApp message', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await call('GET', `/api/chats/send_whatsapp_template?to=98000000${10 + i}`, agent)).status, 200);
    const res = await call('GET', '/api/chats/send_whatsapp_template?to=9800000019', agent);
    assert.equal(res.status, 429);
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
    assert.equal(await app.store.collection('chats').findOne({ customer: '9800000019' }), null, 'nothing opened or sent past the budget');
  });
});
