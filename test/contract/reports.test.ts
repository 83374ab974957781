/** The reports over the conversation log, on both store drivers: exact figures for a known set of conversations. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CONVERSATION_INDEXES, ConversationLog } from '../../src/actors/desk/conversation-log.ts';
import { ConversationReports, csvField, daysBetween, percentile, reportCsv, type ConversationReport } from '../../src/actors/desk/reports.ts';
import { MemoryStore } from '../../src/infra/store/store.memory.ts';
import { MongoStore } from '../../src/infra/store/store.mongo.ts';
import type { DocumentStore } from '../../src/infra/store/store.ts';
import { testMongoUrl, uniqueName } from '../support/services.ts';

const DAY1 = Date.UTC(2026, 10, 3, 9, 0, 0); // 2026-11-03 09:00Z
const DAY2 = DAY1 + 86_400_000;

describe('report arithmetic', () => {
  it('nearest-rank percentiles', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([7], 90), 7);
    assert.equal(percentile([1, 2, 3, 4], 50), 2);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9);
    assert.equal(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90), 10);
  });
  it('days of a range, both ends included, across a month end', () => {
    assert.deepEqual(daysBetween('2026-11-29', '2026-12-02'), ['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02']);
    assert.deepEqual(daysBetween('2026-11-03', '2026-11-03'), ['2026-11-03']);
  });
  it('CSV fields: quotes, separators, and no formula injection', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('@cmd'), "'@cmd");
    assert.equal(csvField(null), '');
    assert.equal(csvField(1.5), '1.5');
  });
});

for (const [driver, open] of [
  ['memory', async () => new MemoryStore()],
  ['mongodb', () => MongoStore.connect({ url: testMongoUrl(), dbName: uniqueName('reports') })],
] as const) {
  describe(`conversation reports (${driver})`, () => {
    let store: DocumentStore;
    let report: ConversationReport;

    before(async () => {
      store = await open();
      await store.ensureIndexes(CONVERSATION_INDEXES);
      const log = new ConversationLog(store);
      // Day 1: asha answers three Partner chats in 10 s, 20 s, 60 s and resolves them in 100, 200, 600 s;
      // ravi answers one Customer chat in 30 s; one Partner chat waits unanswered.
      const partner = (i: number, at: number) => ({ chatId: `p${i}`, conversation: 1, customer: `91980000000${i}`, customerType: 'Partner' as const, channel: '9099039188', team: 'drivers', at });
      for (const [i, fr, res] of [[1, 10, 100], [2, 20, 200], [3, 60, 600]] as const) {
        await log.opened(partner(i, DAY1));
        await log.assigned(`p${i}`, 1, { assignee: 'asha', team: 'drivers', at: DAY1 + 1 });
        await log.firstResponse(`p${i}`, 1, { agent: 'asha', at: DAY1 + fr * 1000 });
        await log.resolved(`p${i}`, 1, { by: 'asha', at: DAY1 + res * 1000 });
        await log.csatAsked(`p${i}`, 1, DAY1 + res * 1000);
      }
      await log.rated('p1', 1, { score: 3, at: DAY1 + 700_000 });
      await log.rated('p2', 1, { score: 1, at: DAY1 + 700_000 });
      await log.opened(partner(4, DAY1 + 3_600_000));
      await log.opened({ chatId: 'c1', conversation: 1, customer: '919811111111', customerType: 'Customer', channel: '8000247247', team: 'riders', at: DAY1 });
      await log.assigned('c1', 1, { assignee: 'ravi', team: 'riders', at: DAY1 });
      await log.firstResponse('c1', 1, { agent: 'ravi', at: DAY1 + 30_000 });
      // Resolved on day 2 (counts in day 2's resolved column, and in the range's figures).
      await log.resolved('c1', 1, { by: 'ravi', at: DAY2 + 1000 });
      // Outside the range: opened the day before.
      await log.opened({ chatId: 'old', conversation: 1, customer: '919822222222', customerType: 'Customer', channel: '8000247247', team: 'riders', at: DAY1 - 86_400_000 });
      await log.firstResponse('old', 1, { agent: 'ravi', at: DAY1 - 86_000_000 });
      report = await new ConversationReports(log).report('2026-11-03', '2026-11-05');
    });
    after(() => store.close());

    it('counts opened and resolved per day, every day of the range listed', () => {
      assert.deepEqual(report.days, [
        { day: '2026-11-03', opened: 5, resolved: 3 },
        { day: '2026-11-04', opened: 0, resolved: 1 },
        { day: '2026-11-05', opened: 0, resolved: 0 },
      ]);
    });

    it('totals: first response and resolution median and p90, CSAT score and response rate', () => {
      const t = report.totals;
      assert.equal(t.opened, 5);
      assert.equal(t.resolved, 4);
      assert.deepEqual(t.first_response, { count: 4, median_s: 20, p90_s: 60 });
      assert.deepEqual(t.resolution, { count: 4, median_s: 200, p90_s: 86_401 });
      assert.deepEqual(t.csat, { asked: 3, rated: 2, response_rate: 0.6667, average: 2, score: 0.5, counts: { good: 1, okay: 0, poor: 1 } });
    });

    it('by agent, team and number', () => {
      assert.deepEqual(report.by_agent.map((g) => [g.key, g.opened, g.first_response.median_s, g.resolution.p90_s]), [
        ['(unassigned)', 1, null, null],
        ['asha', 3, 20, 600],
        ['ravi', 1, 30, 86_401],
      ]);
      assert.deepEqual(report.by_team.map((g) => [g.key, g.opened, g.resolved]), [['drivers', 4, 3], ['riders', 1, 1]]);
      assert.deepEqual(report.by_number.map((g) => [g.key, g.label, g.opened]), [['8000247247', 'Customer 8000247247', 1], ['9099039188', 'Partner 9099039188', 4]]);
      assert.equal(report.by_team[0]!.csat.score, 0.5);
    });

    it('CSV: a header, a row per day, agent, team, number, and the totals', () => {
      const lines = reportCsv(report).trimEnd().split('\r\n');
      assert.equal(lines[0], 'dimension,key,label,opened,resolved,first_response_median_s,first_response_p90_s,resolution_median_s,resolution_p90_s,csat_asked,csat_rated,csat_response_rate,csat_average,csat_score');
      assert.equal(lines[1], 'day,2026-11-03,2026-11-03,5,3,,,,,,,,,');
      assert.ok(lines.includes('agent,asha,asha,3,3,20,60,200,600,3,2,0.6667,2,0.5'), lines.join('\n'));
      assert.equal(lines.at(-1), 'total,all,All conversations,5,4,20,60,200,86401,3,2,0.6667,2,0.5');
      assert.equal(lines.length, 1 + 3 + 3 + 2 + 2 + 1);
    });
  });
}
