/** The reports routes: a range of days checked, admins only, JSON and CSV of what the conversation log holds. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ConversationLog } from '../../src/actors/desk/conversation-log.ts';
import { signToken } from '../../src/infra/jwt.ts';
import { TEST_JWT_SECRET, startTestApp, type TestApp } from '../support/app.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const ADMIN = `Bearer ${signToken({ sub: 'boss', role: 'admin' }, TEST_JWT_SECRET)}`;
const AGENT = `Bearer ${signToken({ sub: 'asha' }, TEST_JWT_SECRET)}`;
const AT = Date.UTC(2026, 10, 3, 10, 0, 0);

describe('reports routes', () => {
  let app: TestApp;
  const get = (path: string, authorization = ADMIN) => fetch(`${app.url}${path}`, { headers: { authorization } });

  before(async () => {
    app = await startTestApp({ MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('reports') });
    const log = new ConversationLog(app.store);
    await log.opened({ chatId: 'x1', conversation: 1, customer: '919800000001', customerType: 'Partner', channel: '9099039188', team: 'drivers', at: AT });
    await log.assigned('x1', 1, { assignee: 'asha', team: 'drivers', at: AT });
    await log.firstResponse('x1', 1, { agent: 'asha', at: AT + 42_000 });
    await log.resolved('x1', 1, { by: 'asha', at: AT + 300_000 });
  });
  after(() => app.stop());

  it('answers the report of a range', async () => {
    const res = await get('/api/reports/conversations?from=2026-11-02&to=2026-11-03');
    assert.equal(res.status, 200);
    const { data } = (await res.json()) as { data: { days: unknown[]; totals: { opened: number; first_response: { median_s: number } }; by_agent: { key: string }[] } };
    assert.deepEqual(data.days, [{ day: '2026-11-02', opened: 0, resolved: 0 }, { day: '2026-11-03', opened: 1, resolved: 1 }]);
    assert.equal(data.totals.first_response.median_s, 42);
    assert.deepEqual(data.by_agent.map((a) => a.key), ['asha']);
  });

  it('sends the CSV as an attachment', async () => {
    const res = await get('/api/reports/conversations.csv?from=2026-11-03&to=2026-11-03');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    assert.equal(res.headers.get('content-disposition'), 'attachment; filename="conversations-2026-11-03-2026-11-03.csv"');
    const text = await res.text();
    assert.match(text, /^dimension,key,label,opened/);
    assert.match(text, /\r\nagent,asha,asha,1,1,42,42,300,300,0,0,,,\r\n/);
  });

  it('refuses agents, bad days, reversed and over-long ranges', async () => {
    assert.equal((await get('/api/reports/conversations?from=2026-11-03&to=2026-11-03', AGENT)).status, 403);
    const bad = async (q: string) => {
      const res = await get(`/api/reports/conversations${q}`);
      const body = (await res.json()) as { error: { code: string; message: string } };
      assert.equal(res.status, 400, q);
      assert.equal(body.error.code, 'VALIDATION_FAILED');
      return body.error.message;
    };
    assert.match(await bad(''), /from/);
    assert.match(await bad('?from=2026-02-30&to=2026-03-01'), /calendar day/);
    assert.match(await bad('?from=2026-11-04&to=2026-11-03'), /not be after/);
    assert.match(await bad('?from=2026-01-01&to=2026-12-31'), /at most 92 days/);
    assert.match(await bad('?from=2026-11-03T00:00&to=2026-11-03'), /YYYY-MM-DD/);
  });
});
