"""Writes alerts.test.yml (promtool unit tests) from the cases below and alerts.yml's annotations: python3 gen-alert-tests.py > alerts.test.yml"""
import os, sys
import yaml
rules = {r['alert']: r for g in yaml.safe_load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'alerts.yml')))['groups'] for r in g['rules']}
L = 'pod="a", instance="10.0.0.1:5000", job="smart-chat"'
LB = 'pod="b", instance="10.0.0.2:5000", job="smart-chat"'
Ld = {'pod': 'a', 'instance': '10.0.0.1:5000', 'job': 'smart-chat'}
def s(name, labels, values, extra=''):
    lab = labels + (', ' + extra if extra else '')
    return {'series': f'{name}{{{lab}}}', 'values': values}
def exp(alert, labels):
    r = rules[alert]
    return {'exp_labels': {**labels, 'severity': r['labels']['severity']}, 'exp_annotations': r['annotations']}
cases = []  # (comment, alert, series, eval_time, expected labels or None)
W = 'route="/api/chats/whatsapp_chat/:channel", method="POST"'
cases += [
 ('backlog above 25% of the limit and growing', 'SmartChatBacklogGrowing', [s('inbox_unapplied_events', L, '0+50x30'), s('inbox_unapplied_limit', L, '2000x30')], '20m', [Ld]),
 ('healthy: backlog growing but small', 'SmartChatBacklogGrowing', [s('inbox_unapplied_events', L, '0+10x30'), s('inbox_unapplied_limit', L, '2000x30')], '30m', []),
 ('healthy: backlog high but draining', 'SmartChatBacklogGrowing', [s('inbox_unapplied_events', L, '1500-10x30'), s('inbox_unapplied_limit', L, '2000x30')], '20m', []),
 ('webhooks refused with 503 at 1/s', 'SmartChatWebhooksRefused', [s('http_requests_total', L, '0+60x20', W + ', status="503"'), s('http_requests_total', L, '0+600x20', W + ', status="200"')], '15m', [{'pod': 'a'}]),
 ('healthy: webhooks answered 200', 'SmartChatWebhooksRefused', [s('http_requests_total', L, '0x20', W + ', status="503"'), s('http_requests_total', L, '0+600x20', W + ', status="200"')], '15m', []),
 ('sends failing: 2 of 7 a minute', 'SmartChatOutboxFailing', [s('outbox_sends_total', L, '0+2x30', 'result="failed"'), s('outbox_sends_total', L, '0+5x30', 'result="sent"'), s('outbox_sends_total', L, '0x30', 'result="uncertain"')], '20m', [{}]),
 ('healthy: 1% of sends failing', 'SmartChatOutboxFailing', [s('outbox_sends_total', L, '0+1x30', 'result="failed"'), s('outbox_sends_total', L, '0+100x30', 'result="sent"'), s('outbox_sends_total', L, '0x30', 'result="uncertain"')], '20m', []),
 ('an uncertain record appears in the outbox (after a crash)', 'SmartChatOutboxUncertain', [s('outbox_records', L, '0 0 0 0 0 1 1 1 1 1 1 1', 'state="uncertain"'), s('outbox_sends_total', L, '0x12', 'result="uncertain"')], '8m', [{}]),
 ('a send of this pod ends uncertain', 'SmartChatOutboxUncertain', [s('outbox_records', L, '0x12', 'state="uncertain"'), s('outbox_sends_total', L, '0 0 0 0 1 1 1 1 1 1 1 1', 'result="uncertain"')], '8m', [{}]),
 ('healthy: old uncertain records, none new', 'SmartChatOutboxUncertain', [s('outbox_records', L, '3x30', 'state="uncertain"'), s('outbox_sends_total', L, '0x30', 'result="uncertain"')], '25m', []),
 ('150 sends pending for 15 minutes', 'SmartChatOutboxStuck', [s('outbox_records', L, '150x20', 'state="pending"')], '15m', [{}]),
 ('healthy: a few pending', 'SmartChatOutboxStuck', [s('outbox_records', L, '20x20', 'state="pending"')], '15m', []),
 ('breaker open, flapping with its probes', 'SmartChatPinbotBreakerOpen', [s('pinbot_breaker_state', L, '0 0 2 1 2 2 1 2 2 1 2 2', 'origin="https://pinbot.example"')], '10m', [{'origin': 'https://pinbot.example'}]),
 ('healthy: breaker opened once and closed on its first probe', 'SmartChatPinbotBreakerOpen', [s('pinbot_breaker_state', L, '0 0 2 0 0 0 0 0 0 0 0 0', 'origin="https://pinbot.example"')], '5m', []),
 ('52 of 64 shards owned', 'SmartChatShardsUnowned', [s('cluster_owned_shards', L, '32x10'), s('cluster_owned_shards', LB, '20x10')], '5m', [{}]),
 ('no pod reports shards at all', 'SmartChatShardsUnowned', [s('up', L, '0x10')], '5m', [{}]),
 ('healthy: 64 shards owned', 'SmartChatShardsUnowned', [s('cluster_owned_shards', L, '32x10'), s('cluster_owned_shards', LB, '32x10')], '5m', []),
 ('readiness failing', 'SmartChatNotReady', [s('app_ready', L, '1 1 0 0 0 0 0 0')], '6m', [Ld]),
 ('healthy: ready', 'SmartChatNotReady', [s('app_ready', L, '1x10')], '6m', []),
 ('pod not scraped', 'SmartChatPodDown', [s('up', L, '1 0 0 0 0 0')], '5m', [Ld]),
 ('healthy: pod up', 'SmartChatPodDown', [s('up', L, '1x10')], '5m', []),
 ('first dead letter since start (the series appears at 1)', 'SmartChatDeadLetters', [s('actor_effects_dead_lettered_total', L, '_ _ _ _ _ 1 1 1 1 1', 'kind="chat"')], '7m', [{'kind': 'chat'}]),
 ('dead letters increasing', 'SmartChatDeadLetters', [s('actor_effects_dead_lettered_total', L, '2x20 3 3 3 3 3', 'kind="discount"')], '23m', [{'kind': 'discount'}]),
 ('healthy: dead letters long ago, none new', 'SmartChatDeadLetters', [s('actor_effects_dead_lettered_total', L, '2x40', 'kind="chat"')], '30m', []),
 ('Communication Master queue dropping', 'SmartChatCommunicationMasterDrops', [s('forwarder_dropped_total', L, '0 0 3 5 5 5')], '4m', [Ld]),
 ('healthy: nothing dropped', 'SmartChatCommunicationMasterDrops', [s('forwarder_dropped_total', L, '0x20')], '10m', []),
]
assert set(c[1] for c in cases) == set(rules), set(rules) - set(c[1] for c in cases)
tests = []
for comment, alert, series, t, expected in cases:
    tests.append({'name': f'{alert}: {comment}', 'interval': '1m', 'input_series': series,
                  'alert_rule_test': [{'eval_time': t, 'alertname': alert, 'exp_alerts': [exp(alert, l) for l in expected]}]})
doc = {'rule_files': ['alerts.yml'], 'evaluation_interval': '1m', 'tests': tests}
hdr = ('# Unit tests of alerts.yml (promtool test rules): each alert fires on a synthetic\n'
       '# series and stays silent on a healthy one. Generated from alerts.yml by\n'
       '# deploy/prometheus/gen-alert-tests.py (run it after changing an annotation).\n')
sys.stdout.write(hdr + yaml.safe_dump(doc, sort_keys=False, width=200, allow_unicode=True))
