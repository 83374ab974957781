/** Canned responses and the label catalogue: agents read them, admins edit them; every client byte is checked. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const ADMIN = `Bearer ${signToken({ sub: 'boss', role: 'admin' }, TEST_JWT_SECRET)}`;
const AGENT = `Bearer ${signToken({ sub: 'asha' }, TEST_JWT_SECRET)}`;

describe('desk settings: canned responses and labels', () => {
  let app: TestApp;
  const call = async (method: string, path: string, body?: unknown, authorization = ADMIN) => {
    const res = await fetch(`${app.url}${path}`, {
      method,
      headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as { status: number; data?: any; error?: { code: string; message: string } } };
  };

  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('desk') });
  });
  after(() => app.stop());

  it('an admin adds, edits and removes a canned response; agents list them', async () => {
    const created = await call('POST', '/api/canned-responses', { shortcode: 'payout', title: 'Payout timing', text: 'Hi {{customer_name}}, payouts reach {{customer_number}} on Fridays. — {{agent_name}}' });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.equal(created.body.data.shortcode, 'payout');
    assert.equal(created.body.data.updated_by, 'boss');
    const listed = await call('GET', '/api/canned-responses', undefined, AGENT);
    assert.deepEqual(listed.body.data.map((c: { shortcode: string }) => c.shortcode), ['payout']);
    assert.match(listed.body.data[0].text, /\{\{customer_name\}\}/, 'variables are stored as written; the console fills them in');
    const edited = await call('PATCH', '/api/canned-responses/payout', { title: 'Payouts' });
    assert.equal(edited.body.data.title, 'Payouts');
    assert.match(edited.body.data.text, /Fridays/, 'a field left out keeps its value');
    assert.equal((await call('DELETE', '/api/canned-responses/payout')).status, 200);
    assert.deepEqual((await call('GET', '/api/canned-responses', undefined, AGENT)).body.data, []);
  });

  it('refuses a taken shortcode, an unknown variable, a bad shortcode, unknown fields, and agents editing', async () => {
    assert.equal((await call('POST', '/api/canned-responses', { shortcode: 'fare', title: 'Fare', text: 'Fares are on the app.' })).status, 200);
    const again = await call('POST', '/api/canned-responses', { shortcode: 'fare', title: 'Fare', text: 'x' });
    assert.equal(again.status, 409);
    assert.equal(again.body.error?.code, 'CANNED_RESPONSE_EXISTS');
    const typo = await call('POST', '/api/canned-responses', { shortcode: 'typo', title: 'Typo', text: 'Hi {{customer_nmae}}' });
    assert.equal(typo.status, 400);
    assert.match(typo.body.error!.message, /customer_nmae/);
    assert.equal((await call('POST', '/api/canned-responses', { shortcode: 'Has Space', title: 'x', text: 'x' })).status, 400);
    assert.equal((await call('POST', '/api/canned-responses', { shortcode: 'x', title: 'x', text: 'x', extra: 1 })).status, 400);
    assert.equal((await call('POST', '/api/canned-responses', { shortcode: 'x', title: 'x', text: '   ' })).status, 400);
    assert.equal((await call('POST', '/api/canned-responses', '{"shortcode":')).body.error?.code, 'BAD_JSON');
    assert.equal((await call('PATCH', '/api/canned-responses/fare', {})).status, 400, 'an empty edit says what it needs');
    const agentEdit = await call('PATCH', '/api/canned-responses/fare', { text: 'mine now' }, AGENT);
    assert.equal(agentEdit.status, 403);
    assert.equal((await call('GET', '/api/canned-responses', undefined, 'Bearer nope')).status, 401);
    assert.equal((await call('DELETE', '/api/canned-responses/nothing')).body.error?.code, 'NOT_FOUND');
  });

  it('an admin defines, recolours and removes labels; agents list them; names and colours are checked', async () => {
    const made = await call('POST', '/api/labels', { name: 'cab-not-arrived', color: '#cc3300', description: 'Driver late or missing' });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    assert.deepEqual(made.body.data, { name: 'cab-not-arrived', color: '#cc3300', description: 'Driver late or missing' });
    assert.equal((await call('POST', '/api/labels', { name: 'fare', color: '#0055aa' })).body.data.description, '');
    assert.equal((await call('POST', '/api/labels', { name: 'fare', color: '#0055aa' })).body.error?.code, 'LABEL_EXISTS');
    assert.equal((await call('POST', '/api/labels', { name: 'Fare Issue', color: '#0055aa' })).status, 400);
    assert.equal((await call('POST', '/api/labels', { name: 'x', color: 'red' })).status, 400);
    assert.equal((await call('POST', '/api/labels', { name: 'y', color: '#0055aa' }, AGENT)).status, 403);
    assert.deepEqual((await call('GET', '/api/labels', undefined, AGENT)).body.data.map((l: { name: string }) => l.name), ['cab-not-arrived', 'fare']);
    assert.equal((await call('PATCH', '/api/labels/fare', { color: '#112233' })).body.data.color, '#112233');
    assert.equal((await call('DELETE', '/api/labels/fare')).status, 200);
    assert.equal((await call('DELETE', '/api/labels/fare')).status, 404);
    assert.deepEqual((await call('GET', '/api/labels', undefined, AGENT)).body.data.map((l: { name: string }) => l.name), ['cab-not-arrived']);
  });

  it('answers CORS preflights for DELETE', async () => {
    const res = await fetch(`${app.url}/api/labels/fare`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:1', 'access-control-request-method': 'DELETE' } });
    const allowed = res.headers.get('access-control-allow-methods') ?? '';
    if (res.status === 204 || res.status === 200) assert.match(allowed, /DELETE/);
  });
});
