#!/usr/bin/env bash
# Prometheus rules and Grafana dashboard checks (run by deploy/check.sh):
#   promtool check rules / test rules on alerts.yml, and the dashboard JSON parses.
# That every metric the dashboard and the rules name is one the service exposes
# is checked by test/e2e/metrics.test.ts against a running app's /metrics.
#
# promtool comes from Debian's `prometheus` package (2.42; ~19 MB download,
# ~20 s to install on a fresh machine), installed when missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if ! command -v promtool >/dev/null 2>&1; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "promtool missing and apt-get unavailable: install Prometheus' promtool" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "installing promtool (Debian package prometheus)"
  $sudo apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  # The package starts a Prometheus server where an init system runs; it is not wanted here.
  $sudo systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
promtool --version 2>&1 | head -1

promtool check rules "$here/alerts.yml"
promtool test rules "$here/alerts.test.yml"

dashboard="$here/../grafana/smart-chat.json"
# Parses, declares the ${DS_PROMETHEUS} input, and every query panel has queries on that datasource.
queries="$(mktemp --suffix=.yml)"
trap 'rm -f "$queries"' EXIT
python3 - "$dashboard" "$queries" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert any(i.get("name") == "DS_PROMETHEUS" and i.get("pluginId") == "prometheus" for i in d.get("__inputs", [])), "no DS_PROMETHEUS input"
queries = [p for p in d["panels"] if p["type"] != "row"]
for p in queries:
    assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", p["title"]
    assert p["targets"] and all(t["expr"].strip() and t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in p["targets"]), p["title"]
print(f"dashboard parses: {len(queries)} panels, {sum(len(p['targets']) for p in queries)} queries on ${{DS_PROMETHEUS}}")
# Its queries as recording rules (Grafana's variables substituted), for promtool to parse.
with open(sys.argv[2], "w") as out:
    out.write("groups:\n  - name: dashboard\n    rules:\n")
    for i, t in enumerate(t for p in queries for t in p["targets"]):
        expr = t["expr"].replace("$__rate_interval", "1m").replace("$pod", ".*")
        out.write(f"      - record: dashboard_query_{i}\n        expr: {json.dumps(expr)}\n")
PY
promtool check rules "$queries" | grep SUCCESS
