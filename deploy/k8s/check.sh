#!/usr/bin/env bash
# Kubernetes manifests: render every overlay with kustomize and validate each
# rendered object with kubeconform -strict against the Kubernetes schemas
# (tools.sh installs the pinned tools and schemas once), then check that the
# drain timings in the rendered Deployment fit together.
set -euo pipefail
cd "$(dirname "$0")"

tools=$(bash ./tools.sh)
KUSTOMIZE=$(sed -n 's/^KUSTOMIZE=//p' <<<"$tools")
KUBECONFORM=$(sed -n 's/^KUBECONFORM=//p' <<<"$tools")
K8S_VERSION=$(sed -n 's/^K8S_VERSION=//p' <<<"$tools")
SCHEMA_LOCATION=$(sed -n 's/^SCHEMA_LOCATION=//p' <<<"$tools")

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for dir in overlays/*/; do
  overlay=$(basename "$dir")
  rendered=$out/$overlay.yaml
  "$KUSTOMIZE" build "$dir" >"$rendered"

  # -strict: unknown fields are errors. No -ignore-missing-schemas: a kind
  # without a schema (a typo in apiVersion, say) fails instead of being skipped.
  "$KUBECONFORM" -strict -summary -kubernetes-version "$K8S_VERSION" \
    -schema-location "$SCHEMA_LOCATION" "$rendered"

  # Every kind the overlay must contain was validated, not silently absent.
  for kind in Namespace ConfigMap Deployment Service PodDisruptionBudget HorizontalPodAutoscaler Ingress; do
    grep -q "^kind: $kind\$" "$rendered" || { echo "$overlay: no $kind rendered" >&2; exit 1; }
  done
  if grep -q '^kind: Secret$' "$rendered"; then
    echo "$overlay: renders a Secret; secrets are referenced, never committed" >&2; exit 1
  fi

  # Drain timings: terminationGracePeriodSeconds >= preStop sleep + SHUTDOWN_GRACE_MS + 5 s.
  grace_period=$(sed -n 's/^ *terminationGracePeriodSeconds: *\([0-9]*\)$/\1/p' "$rendered")
  # kustomize prints the exec command as a block list: `- sleep` then `- "15"`.
  prestop=$(grep -A6 'preStop:' "$rendered" | awk '/- sleep$/ { getline; gsub(/[^0-9]/, ""); print; exit }')
  shutdown_ms=$(sed -n 's/^ *SHUTDOWN_GRACE_MS: "\{0,1\}\([0-9]*\)"\{0,1\}$/\1/p' "$rendered")
  if [ -z "$grace_period" ] || [ -z "$prestop" ] || [ -z "$shutdown_ms" ]; then
    echo "$overlay: could not read terminationGracePeriodSeconds ($grace_period), preStop sleep ($prestop), SHUTDOWN_GRACE_MS ($shutdown_ms)" >&2
    exit 1
  fi
  need=$((prestop + (shutdown_ms + 999) / 1000 + 5))
  if [ "$grace_period" -lt "$need" ]; then
    echo "$overlay: terminationGracePeriodSeconds $grace_period < preStop $prestop s + SHUTDOWN_GRACE_MS $shutdown_ms ms + 5 s" >&2
    exit 1
  fi
  printf '   %s: valid for Kubernetes %s; drain %s s preStop + %s ms grace + 5 s <= %s s\n' \
    "$overlay" "$K8S_VERSION" "$prestop" "$shutdown_ms" "$grace_period"
done
