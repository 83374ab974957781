/** The conversation log on both store drivers: what each method records, and that every one is safe to retry. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONVERSATION_INDEXES, ConversationLog } from '../../src/actors/desk/conversation-log.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import type { DocumentStore } from '../../src/infra/store/store.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const T0 = Date.UTC(2026, 11, 1, 23, 59, 0);
const opened = (chatId: string, conversation = 1, at = T0) => ({
  chatId,
  conversation,
  customer: '919800000001',
  customerType: 'Partner' as const,
  channel: '9099039188',
  team: 'drivers',
  at,
});

for (const [driver, open] of [
  ['memory', async () => new MemoryStore()],
  ['mongodb', () => MongoStore.connect({ url: testMongoUrl(), dbName: uniqueName('convlog') })],
] as const) {
  describe(`conversation log (${driver})`, () => {
    let store: DocumentStore;
    let log: ConversationLog;
    before(async () => {
      store = await open();
      await store.ensureIndexes(CONVERSATION_INDEXES);
      log = new ConversationLog(store);
    });
    after(() => store.close());

    it('records a whole conversation: opened, assigned, first response, resolved, CSAT', async () => {
      await log.opened(opened('c1'));
      await log.assigned('c1', 1, { assignee: 'asha', team: 'drivers', at: T0 + 1000 });
      await log.firstResponse('c1', 1, { agent: 'asha', at: T0 + 90_000 });
      await log.resolved('c1', 1, { by: 'asha', at: T0 + 600_000 });
      await log.csatAsked('c1', 1, T0 + 600_000);
      await log.rated('c1', 1, { score: 3, at: T0 + 700_000 });
      const doc = await log.get('c1', 1);
      assert.ok(doc);
      assert.equal(doc.chat_id, 'c1');
      assert.equal(doc.customer_type, 'Partner');
      assert.equal(doc.channel, '9099039188');
      assert.equal(doc.team, 'drivers');
      assert.equal(doc.assignee, 'asha');
      assert.equal(doc.opened_at?.getTime(), T0);
      assert.equal(doc.opened_day, '2026-12-01');
      assert.equal(doc.first_response_agent, 'asha');
      assert.equal(doc.first_response_ms, 90_000);
      assert.equal(doc.resolved_by, 'asha');
      assert.equal(doc.resolution_ms, 600_000);
      assert.equal(doc.resolved_day, '2026-12-02', 'the day is the UTC day of the resolve, not of the opening');
      assert.equal(doc.csat_asked_at?.getTime(), T0 + 600_000);
      assert.equal(doc.csat_score, 3);
    });

    it('only the first response, the first resolve and the first rating count; retries change nothing', async () => {
      await log.opened(opened('c2'));
      await log.opened(opened('c2'));
      await log.firstResponse('c2', 1, { agent: 'asha', at: T0 + 5000 });
      await log.firstResponse('c2', 1, { agent: 'ravi', at: T0 + 9000 });
      await log.resolved('c2', 1, { by: 'asha', at: T0 + 20_000 });
      await log.resolved('c2', 1, { by: 'ravi', at: T0 + 30_000 });
      await log.rated('c2', 1, { score: 1, at: T0 + 40_000 });
      await log.rated('c2', 1, { score: 3, at: T0 + 50_000 });
      const doc = await log.get('c2', 1);
      assert.equal(doc?.first_response_agent, 'asha');
      assert.equal(doc?.first_response_ms, 5000);
      assert.equal(doc?.resolved_by, 'asha');
      assert.equal(doc?.resolution_ms, 20_000);
      assert.equal(doc?.csat_score, 1);
      assert.equal(await store.collection('conversations').countDocuments({ chat_id: 'c2' }), 1);
    });

    it('a reopen is a new conversation; the first one keeps its figures', async () => {
      await log.opened(opened('c3', 1));
      await log.resolved('c3', 1, { by: 'asha', at: T0 + 1000 });
      await log.opened(opened('c3', 2, T0 + 5000));
      await log.firstResponse('c3', 2, { agent: 'ravi', at: T0 + 7000 });
      assert.equal((await log.get('c3', 1))?.resolution_ms, 1000);
      assert.equal((await log.get('c3', 1))?.first_response_at, null);
      assert.equal((await log.get('c3', 2))?.first_response_ms, 2000);
      assert.equal((await log.get('c3', 2))?.resolved_at, null);
    });

    it('an assignment written before a retried opened keeps its team; unassign records null', async () => {
      await log.opened(opened('c4'));
      await log.assigned('c4', 1, { assignee: 'asha', team: 'riders', at: T0 + 1000 });
      await log.opened(opened('c4'));
      assert.equal((await log.get('c4', 1))?.team, 'riders');
      await log.assigned('c4', 1, { assignee: null, team: 'riders', at: T0 + 2000 });
      assert.equal((await log.get('c4', 1))?.assignee, null);
    });

    it('a fact arriving before its opened is kept, and the opened fills in the rest', async () => {
      await log.csatAsked('c5', 1, T0 + 10);
      await log.csatAsked('c5', 1, T0 + 20);
      await log.opened(opened('c5'));
      const doc = await log.get('c5', 1);
      assert.equal(doc?.csat_asked_at?.getTime(), T0 + 10);
      assert.equal(doc?.opened_at?.getTime(), T0);
      assert.equal(doc?.team, 'drivers');
    });
  });
}
