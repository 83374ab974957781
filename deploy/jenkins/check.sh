#!/usr/bin/env bash
# Pipeline lint: every `sh` step of the Jenkinsfile (extracted by
# extract-sh.py, Groovy escapes applied, as the POSIX sh Jenkins runs it with),
# every *.sh under deploy/, and .ci/run, through shellcheck (Debian package,
# installed when missing). A Jenkins server cannot run here, so the Groovy
# itself is not compiled; extract-sh.py refuses sh steps it cannot check.
set -euo pipefail
cd "$(dirname "$0")/../.."

if ! command -v shellcheck >/dev/null; then
  printf '   installing shellcheck (apt)\n'
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi

steps=$(mktemp -d)
trap 'rm -rf "$steps"' EXIT
n=$(python3 deploy/jenkins/extract-sh.py Jenkinsfile "$steps")
[ "$n" -gt 0 ] || { echo "no sh steps found in the Jenkinsfile" >&2; exit 1; }

# Step files are named after their Jenkinsfile line, so findings point there.
shellcheck --shell=sh --external-sources "$steps"/*.sh

mapfile -t scripts < <(find deploy -name '*.sh' -type f | sort)
shellcheck --external-sources "${scripts[@]}" .ci/run

printf '   shellcheck: %d Jenkinsfile sh steps, %d scripts under deploy/, .ci/run: clean\n' "$n" "${#scripts[@]}"
