#!/usr/bin/env bash
# Deployment checks (CI runs this from .ci/run): every deploy/<area>/check.sh,
# each installing what it needs from the reachable registries and failing,
# never skipping, when a check does not pass.
set -euo pipefail
cd "$(dirname "$0")"
shopt -s nullglob
checks=(*/check.sh)
for c in "${checks[@]}"; do
  printf -- '-- %s\n' "$c"
  bash "$c"
done
printf 'deploy checks: %d passed\n' "${#checks[@]}"
