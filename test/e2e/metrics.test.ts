/**
 * /metrics of the running app (Redis, MongoDB, a fake Pinbot): the series the
 * dashboard and alerts need move as the app works, and every metric named by
 * deploy/grafana/smart-chat.json and deploy/prometheus/alerts.yml is exposed,
 * so neither can drift from the service.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AgentClient } from '../support/agent-client.ts';
import { startTestApp, type TestApp } from '../support/app.ts';
import { startFakePinbot, type FakePinbot } from '../support/fake-pinbot.ts';
import { testMongoUrl, testRedisUrl, uniqueName } from '../support/services.ts';
import { eventually, postWebhook, textWebhook } from '../support/webhooks.ts';

const CUSTOMER = '8000247247';
const DEPLOY = join(import.meta.dirname, '../../deploy');

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format: samples, and the names declared by `# TYPE` (a labelled metric with no series yet has only that). */
function parseMetrics(text: string): { samples: Sample[]; names: Set<string> } {
  const samples: Sample[] = [];
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      names.add(type[1]!);
      if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(type[1]! + s);
      continue;
    }
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `unparsed metrics line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
    names.add(m[1]!);
  }
  return { samples, names };
}

/** Sum of the samples of `name` whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const matching = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return matching.length ? matching.reduce((a, s) => a + s.value, 0) : undefined;
}

const PROMQL_WORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'inf', 'nan']);

/** Metric names a PromQL expression reads (strings, matchers, ranges, grouping labels and function names removed). */
function metricNames(expr: string): string[] {
  const e = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\d+[smhdwy]+/g, ' ');
  const names: string[] = [];
  for (const m of e.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    if (e.slice(m.index + m[0].length).trimStart().startsWith('(')) continue; // a function
    if (m.index > 0 && /[0-9.]/.test(e[m.index - 1]!)) continue; // the exponent or unit of a number
    names.push(m[0]);
  }
  return names;
}

/** The `expr:` of every rule in alerts.yml (block scalars or one line). */
function ruleExprs(yaml: string): string[] {
  const lines = yaml.split('\n');
  const exprs: string[] = [];
  lines.forEach((line, i) => {
    const m = /^(\s*)expr:\s*(.*)$/.exec(line);
    if (!m) return;
    if (!/^[|>]/.test(m[2]!)) return void exprs.push(m[2]!);
    const body: string[] = [];
    for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > m[1]!.length); j++) body.push(lines[j]!);
    exprs.push(body.join('\n'));
  });
  return exprs;
}

/** Every metric name the dashboard's queries and variables read. */
function dashboardNames(json: string): string[] {
  const d = JSON.parse(json) as { panels: { targets?: { expr: string }[] }[]; templating: { list: { definition?: string }[] } };
  const names = d.panels.flatMap((p) => (p.targets ?? []).flatMap((t) => metricNames(t.expr)));
  for (const v of d.templating.list) {
    const m = /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(v.definition ?? '');
    if (m) names.push(m[1]!);
  }
  return names;
}

/** Series Prometheus itself makes (not on /metrics). */
const PROMETHEUS_SERIES = new Set(['up']);

describe('metrics for the dashboard and the alerts', () => {
  let app: TestApp;
  let fake: FakePinbot;
  let communicationMaster: Server;
  const agents: AgentClient[] = [];
  const scrape = async () => {
    const res = await fetch(`${app.url}/metrics`);
    assert.equal(res.status, 200);
    return parseMetrics(await res.text());
  };
  const metric = async (name: string, labels: Record<string, string> = {}) => valueOf((await scrape()).samples, name, labels);
  /** Waits until `name{labels}` is `expected` (or satisfies it). */
  const metricBecomes = (name: string, labels: Record<string, string>, expected: number | ((v: number) => boolean), timeoutMs = 5000) =>
    eventually(async () => {
      const v = await metric(name, labels);
      return v !== undefined && (typeof expected === 'number' ? v === expected : expected(v)) ? { v } : undefined;
    }, timeoutMs, `${name}${JSON.stringify(labels)} ${typeof expected === 'number' ? `= ${expected}` : 'as expected'}`);
  const chatWith = async (waNumber: string): Promise<string> => {
    await postWebhook(app.url, CUSTOMER, textWebhook(waNumber, 'hello'));
    const chat = await eventually(() => app.store.collection('chats').findOne({ customer: waNumber.slice(2) }), 5000, 'chat stored');
    return String(chat._id);
  };
  const connect = async (chatId: string) => {
    const c = await AgentClient.connect(app.url, '9099039188', { chatId });
    agents.push(c);
    return c;
  };

  before(async () => {
    fake = await startFakePinbot();
    communicationMaster = createServer((req, res) => req.resume().on('end', () => res.end('{}')));
    await new Promise<void>((r) => communicationMaster.listen(0, '127.0.0.1', r));
    app = await startTestApp({
      MONGO_URL: testMongoUrl(), MONGO_DB: uniqueName('metrics'), REDIS_URL: testRedisUrl(), REDIS_PREFIX: `${uniqueName('metrics')}:`,
      PINBOT_ORIGIN: fake.origin, PINBOT_V3_ORIGIN: fake.origin, WA_API_KEY_1: 'k1', WA_API_KEY_2: 'k2',
      MAX_UNAPPLIED_EVENTS: '1234',
      COMMUNICATION_MASTER_URL: `http://127.0.0.1:${(communicationMaster.address() as AddressInfo).port}/forward`,
    });
  });
  after(async () => {
    await Promise.all(agents.map((a) => a.close()));
    await app?.stop();
    await fake?.close();
    communicationMaster?.closeAllConnections();
    await new Promise((r) => communicationMaster?.close(r));
  });

  it('a webhook: the backlog returns to 0 under its limit, and the message→agent latency is observed once', async () => {
    const { samples } = await scrape();
    assert.equal(valueOf(samples, 'inbox_unapplied_limit'), 1234);
    assert.equal(valueOf(samples, 'app_ready'), 1);
    assert.equal(valueOf(samples, 'cluster_owned_shards'), 64);
    const pushed = valueOf(samples, 'chat_message_to_agent_seconds_count') ?? 0;
    const webhooks = valueOf(samples, 'http_requests_total', { route: '/api/chats/whatsapp_chat/:channel', status: '200' }) ?? 0;

    await chatWith('919822210001');
    await metricBecomes('chat_message_to_agent_seconds_count', {}, pushed + 1);
    const after = await scrape();
    assert.equal(valueOf(after.samples, 'inbox_unapplied_events'), 0);
    assert.equal(valueOf(after.samples, 'http_requests_total', { route: '/api/chats/whatsapp_chat/:channel', status: '200' }), webhooks + 1);
    // WhatsApp timestamps are whole seconds: the message is at most ~1 s "old" when pushed here.
    assert.ok((valueOf(after.samples, 'chat_message_to_agent_seconds_sum') ?? Infinity) < 3, 'latency sum under 3 s');
    assert.equal(valueOf(after.samples, 'chat_message_to_agent_seconds_bucket', { le: '300' }), pushed + 1);
  });

  it('an agent reply sent through Pinbot: outbox_sends_total{result="sent"} and the Pinbot latency move; the breaker is closed', async () => {
    const chatId = await chatWith('919822210002');
    const room = await connect(chatId);
    const { samples } = await scrape();
    const sent = valueOf(samples, 'outbox_sends_total', { result: 'sent' }) ?? 0;
    const ok = valueOf(samples, 'pinbot_request_duration_seconds_count', { method: 'POST', outcome: 'ok' }) ?? 0;
    assert.equal(valueOf(samples, 'pinbot_breaker_state', { origin: fake.origin }), 0, 'closed');
    assert.equal(valueOf(samples, 'ws_connections'), 1);

    await room.request('send_message', { chat_id: chatId, message: 'hello from an agent' });
    await room.waitForPush((f) => f.event === 'message_status' && f.data.status === 'sent');
    await metricBecomes('outbox_sends_total', { result: 'sent' }, sent + 1);
    await metricBecomes('pinbot_request_duration_seconds_count', { method: 'POST', outcome: 'ok' }, ok + 1);
    assert.ok((await metric('pinbot_request_duration_seconds_sum', { method: 'POST', outcome: 'ok' }))! < 5);
  });

  it('a failing Pinbot: a 400 counts as failed; lost connections leave sends uncertain, open the breaker, and show in outbox_records', async () => {
    const rejectedChat = await chatWith('919822210003');
    const room = await connect(rejectedChat);
    const before = await scrape();
    const failed = valueOf(before.samples, 'outbox_sends_total', { result: 'failed' }) ?? 0;
    const uncertain = valueOf(before.samples, 'outbox_sends_total', { result: 'uncertain' }) ?? 0;
    const rejected = valueOf(before.samples, 'pinbot_request_duration_seconds_count', { method: 'POST', outcome: 'rejected' }) ?? 0;
    const lost = valueOf(before.samples, 'pinbot_request_duration_seconds_count', { method: 'POST', outcome: 'uncertain' }) ?? 0;
    const opened = valueOf(before.samples, 'pinbot_breaker_opened_total', { origin: fake.origin }) ?? 0;

    fake.script({ status: 400, body: { error: { message: 'refused' } } });
    await room.request('send_message', { chat_id: rejectedChat, message: 'will be refused' });
    await room.waitForPush((f) => f.event === 'message_status' && f.data.status === 'failed');
    await metricBecomes('outbox_sends_total', { result: 'failed' }, failed + 1);
    await metricBecomes('pinbot_request_duration_seconds_count', { method: 'POST', outcome: 'rejected' }, rejected + 1);

    // Five consecutive failures open the breaker: five sends whose connections are lost (never repeated: uncertain).
    const chats = await Promise.all(['04', '05', '06', '07', '08'].map((n) => chatWith(`9198222100${n}`)));
    fake.script(...chats.map(() => ({ status: 200, drop: true })));
    for (const chatId of chats) await room.request('send_message', { chat_id: chatId, message: 'lost on the way' });
    await metricBecomes('outbox_sends_total', { result: 'uncertain' }, (v) => v >= uncertain + 5);
    await metricBecomes('pinbot_request_duration_seconds_count', { method: 'POST', outcome: 'uncertain' }, (v) => v >= lost + 5);
    await metricBecomes('pinbot_breaker_state', { origin: fake.origin }, 2);
    await metricBecomes('pinbot_breaker_opened_total', { origin: fake.origin }, opened + 1);
    // Counted in MongoDB, reused for 5 s.
    await metricBecomes('outbox_records', { state: 'uncertain' }, (v) => v >= 5, 8000);
    await metricBecomes('outbox_records', { state: 'failed' }, (v) => v >= 1, 8000);
    assert.equal(await metric('outbox_records', { state: 'sending' }), 0);
  });

  it('every metric the dashboard and the alerts name is exposed by the app', async () => {
    const { names } = await scrape();
    const used = new Map<string, string>();
    for (const n of dashboardNames(readFileSync(join(DEPLOY, 'grafana/smart-chat.json'), 'utf8'))) used.set(n, 'deploy/grafana/smart-chat.json');
    for (const expr of ruleExprs(readFileSync(join(DEPLOY, 'prometheus/alerts.yml'), 'utf8'))) for (const n of metricNames(expr)) used.set(n, 'deploy/prometheus/alerts.yml');
    assert.ok(used.size >= 20, `found only ${used.size} metric names: ${[...used.keys()].join(', ')}`);
    const missing = [...used].filter(([n]) => !names.has(n) && !PROMETHEUS_SERIES.has(n)).map(([n, file]) => `${n} (${file})`);
    assert.deepEqual(missing, [], 'metrics named by the dashboard or the alerts that /metrics does not expose');
  });

  it('reads metric names out of PromQL', () => {
    assert.deepEqual(
      metricNames('sum by (kind) (increase(a_total{x="y"}[5m])) > 0 or sum by (kind) (a_total unless b offset 15m) > 0.5e3 and histogram_quantile(0.5, sum by (le) (rate(c_bucket{route="/a/:b"}[$__rate_interval])))'),
      ['a_total', 'a_total', 'b', 'c_bucket'],
    );
  });
});
