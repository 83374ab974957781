"""Writes smart-chat.json, the Grafana dashboard over Smart Chat's /metrics: python3 gen-dashboard.py > smart-chat.json"""
import json
import sys

DS = {'type': 'prometheus', 'uid': '${DS_PROMETHEUS}'}
P = 'pod=~"$pod"'
WEBHOOK = 'route="/api/chats/whatsapp_chat/:channel"'
RI = '$__rate_interval'

panels = []
y = 0
pid = 0


def row(title):
    global y, pid
    pid += 1
    panels.append({'type': 'row', 'title': title, 'id': pid, 'collapsed': False, 'gridPos': {'h': 1, 'w': 24, 'x': 0, 'y': y}, 'panels': []})
    y += 1


def panel(title, description, targets, unit='short', x=0, w=8, h=8, kind='timeseries', extra=None):
    global pid
    pid += 1
    p = {
        'type': kind, 'title': title, 'description': description, 'id': pid, 'datasource': DS,
        'gridPos': {'h': h, 'w': w, 'x': x, 'y': y},
        'targets': [{'datasource': DS, 'expr': e, 'legendFormat': l, 'refId': chr(65 + i)} for i, (e, l) in enumerate(targets)],
        'fieldConfig': {'defaults': {'unit': unit}, 'overrides': []},
        'options': {'legend': {'displayMode': 'list', 'placement': 'bottom', 'showLegend': True}, 'tooltip': {'mode': 'multi', 'sort': 'desc'}} if kind == 'timeseries' else {},
    }
    if extra:
        for k, v in extra.items():
            if k == 'defaults':
                p['fieldConfig']['defaults'].update(v)
            else:
                p[k] = v
    panels.append(p)


def q(quantile, metric, sel, by=''):
    return f'histogram_quantile({quantile}, sum by (le{by}) (rate({metric}_bucket{{{sel}}}[{RI}])))'


row('Webhooks')
panel('Webhooks/s by status', 'POST /api/chats/whatsapp_chat/{channel} answered per second, by HTTP status (200 once durable; 4xx/5xx codes: README "Error codes").',
      [(f'sum by (status) (rate(http_requests_total{{{WEBHOOK}, {P}}}[{RI}]))', '{{status}}')], 'reqps', x=0)
panel('Refusals by route and status', 'Every non-2xx answer per second, by route pattern and status. 503 on the webhook route: OVERLOADED (backlog at MAX_UNAPPLIED_EVENTS) or STORE_UNAVAILABLE.',
      [(f'sum by (route, status) (rate(http_requests_total{{status!~"2..", {P}}}[{RI}]))', '{{status}} {{route}}')], 'reqps', x=8)
panel('Webhook ack latency', 'Time from webhook request to its 200 (the inbox insert and stream append), p50 and p99.',
      [(q(0.5, 'http_request_duration_seconds', f'{WEBHOOK}, status="200", {P}'), 'p50'), (q(0.99, 'http_request_duration_seconds', f'{WEBHOOK}, status="200", {P}'), 'p99')], 's', x=16)
y += 8
panel('Message → agent latency', "A customer message's WhatsApp timestamp (whole seconds, so up to 1 s high; includes Meta's and Pinbot's delivery) to its new_message push to agents, p50 and p99.",
      [(q(0.5, 'chat_message_to_agent_seconds', P), 'p50'), (q(0.99, 'chat_message_to_agent_seconds', P), 'p99')], 's', x=0)
panel('Backlog: acknowledged, not yet applied', 'Events each pod acknowledged (webhook 200) and has not applied (inbox_unapplied_events), against MAX_UNAPPLIED_EVENTS (webhooks get 503 OVERLOADED there); and stream entries read but not applied (cluster_queue_lag).',
      [(f'sum by (pod) (inbox_unapplied_events{{{P}}})', 'unapplied {{pod}}'), (f'max(inbox_unapplied_limit{{{P}}})', 'limit'), (f'sum by (pod) (cluster_queue_lag{{{P}}})', 'stream lag {{pod}}')], 'short', x=8)
panel('Readiness', '1 when /api/health/ready passes (MongoDB and Redis answer within 1 s, not draining), per pod.',
      [(f'app_ready{{{P}}}', '{{pod}}')], 'short', x=16, extra={'defaults': {'min': 0, 'max': 1}})
y += 8

row('Actors and cluster')
panel('Actors resident', 'Actors held in memory per pod (idle ones are dropped after ACTOR_IDLE_MS).',
      [(f'sum by (pod) (actors_resident{{{P}}})', '{{pod}}')], 'short', x=0)
panel('Shard ownership per pod', 'Shards each pod owns; the sum must be 64 (alert SmartChatShardsUnowned).',
      [(f'sum by (pod) (cluster_owned_shards{{{P}}})', '{{pod}}'), ('sum(cluster_owned_shards)', 'all pods')], 'short', x=8,
      extra={'defaults': {'custom': {'stacking': {'mode': 'none'}}}})
panel('Takeovers and routing', 'Entries claimed from a dead or departed owner (takeovers), and events routed locally / to another pod, per second.',
      [(f'sum by (pod) (rate(cluster_takeover_claimed_total{{{P}}}[{RI}]))', 'claimed {{pod}}'),
       (f'sum(rate(cluster_routed_local_total{{{P}}}[{RI}]))', 'routed local'),
       (f'sum(rate(cluster_routed_remote_total{{{P}}}[{RI}]))', 'routed remote'),
       (f'sum(rate(cluster_consumed_total{{{P}}}[{RI}]))', 'applied as owner')], 'ops', x=16)
y += 8

row('Outbound WhatsApp')
panel('Outbox records by state', 'Records in the outbox collection (all pods; every pod reports the same count): pending and sending in all, failed and uncertain created in the last 24 h.',
      [('max by (state) (outbox_records)', '{{state}}')], 'short', x=0)
panel('Sends settled/s by result', 'Outbound sends settled per second: sent, failed (4xx or retries used up), uncertain (no answer; never re-sent), dry_run (no API key).',
      [(f'sum by (result) (rate(outbox_sends_total{{{P}}}[{RI}]))', '{{result}}')], 'ops', x=8)
panel('Pinbot latency', 'Duration of each Pinbot request that went out (POST sends, GET media), p50 and p99, by method.',
      [(q(0.5, 'pinbot_request_duration_seconds', P, ', method'), 'p50 {{method}}'), (q(0.99, 'pinbot_request_duration_seconds', P, ', method'), 'p99 {{method}}')], 's', x=16)
y += 8
panel('Pinbot attempts/s by outcome', 'ok, retry (429/5xx or nothing sent), rejected (other 4xx), uncertain (may have been sent), too_large (media).',
      [(f'sum by (outcome) (rate(pinbot_request_duration_seconds_count{{{P}}}[{RI}]))', '{{outcome}}')], 'reqps', x=0)
panel('Pinbot breaker state', 'Per origin: 0 closed, 1 half-open (one probe), 2 open (sends fail at once; alert SmartChatPinbotBreakerOpen). Openings per 5 minutes beside it.',
      [(f'max by (origin) (pinbot_breaker_state{{{P}}})', 'state {{origin}}'), (f'sum by (origin) (increase(pinbot_breaker_opened_total{{{P}}}[5m]))', 'opened {{origin}}')], 'short', x=8,
      extra={'defaults': {'mappings': [{'type': 'value', 'options': {'0': {'text': 'closed'}, '1': {'text': 'half-open'}, '2': {'text': 'open'}}}]}})
panel('Dead-lettered effects', 'Effects given up on after their last attempt, per 5 minutes, by actor kind (alert SmartChatDeadLetters; GET /api/actors/{kind}/{id} shows them).',
      [(f'sum by (kind) (increase(actor_effects_dead_lettered_total{{{P}}}[5m]))', '{{kind}}')], 'short', x=16)
y += 8

row('Agents and forwarding')
panel('WebSockets connected', 'Agent WebSocket connections per pod.',
      [(f'sum by (pod) (ws_connections{{{P}}})', '{{pod}}'), (f'sum(ws_connections{{{P}}})', 'all pods')], 'short', x=0, w=12)
panel('Communication Master drops', 'Webhook payloads dropped (oldest first) from the full forwarding queue, per 5 minutes, and bytes waiting. Only when COMMUNICATION_MASTER_URL is set.',
      [(f'sum by (pod) (increase(forwarder_dropped_total{{{P}}}[5m]))', 'dropped {{pod}}'), (f'sum by (pod) (forwarder_queued_bytes{{{P}}})', 'queued bytes {{pod}}')], 'short', x=12, w=12)
y += 8

dashboard = {
    '__inputs': [{'name': 'DS_PROMETHEUS', 'label': 'Prometheus', 'description': 'The Prometheus scraping Smart Chat /metrics', 'type': 'datasource', 'pluginId': 'prometheus', 'pluginName': 'Prometheus'}],
    '__requires': [
        {'type': 'grafana', 'id': 'grafana', 'name': 'Grafana', 'version': '10.0.0'},
        {'type': 'datasource', 'id': 'prometheus', 'name': 'Prometheus', 'version': '1.0.0'},
        {'type': 'panel', 'id': 'timeseries', 'name': 'Time series', 'version': ''},
    ],
    'title': 'Smart Chat', 'uid': 'smart-chat', 'description': 'Smart Chat (WhatsApp support chat): webhooks, backlog, cluster, outbox, Pinbot, agents. Alerts: deploy/prometheus/alerts.yml.',
    'tags': ['smart-chat'], 'timezone': 'utc', 'schemaVersion': 39, 'version': 1, 'editable': True, 'graphTooltip': 1,
    'time': {'from': 'now-6h', 'to': 'now'}, 'refresh': '30s',
    'templating': {'list': [{
        'name': 'pod', 'label': 'Pod', 'type': 'query', 'datasource': DS, 'query': {'query': 'label_values(cluster_owned_shards, pod)', 'refId': 'pod'},
        'definition': 'label_values(cluster_owned_shards, pod)', 'includeAll': True, 'multi': True, 'allValue': '.*', 'refresh': 2, 'sort': 1,
        'current': {'selected': True, 'text': ['All'], 'value': ['$__all']},
    }]},
    'annotations': {'list': []},
    'panels': panels,
}
json.dump(dashboard, sys.stdout, indent=2, ensure_ascii=False)
sys.stdout.write('\n')
