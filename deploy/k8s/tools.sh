#!/usr/bin/env bash
# Installs, once, the pinned tools and schemas the Kubernetes checks and the
# Jenkinsfile use, into a cache outside the work tree (CI clones afresh, the
# cache survives in $HOME), and prints `KEY=path` lines:
#   KUSTOMIZE=…  KUBECONFORM=…  SCHEMA_LOCATION=…  K8S_VERSION=…
# Sources (the only registries reachable from CI): the Go module proxy for
# kustomize and kubeconform (built from source with `go install`), PyPI for
# the Kubernetes JSON schemas (the `kubernetes-validate` wheel vendors them;
# kubeconform's default source, GitHub, is not reachable).
set -euo pipefail

KUSTOMIZE_VERSION=v5.8.1         # sigs.k8s.io/kustomize/kustomize/v5 (needs Go >= 1.24)
KUBECONFORM_VERSION=v0.7.0       # github.com/yannh/kubeconform (needs Go >= 1.24)
K8S_VERSION=1.33.0               # Kubernetes API version the manifests are validated against
KUBERNETES_VALIDATE_VERSION=1.37.0  # PyPI wheel holding the schemas for Kubernetes 1.25-1.37

here=$(cd "$(dirname "$0")" && pwd)
cache=${SMART_CHAT_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smart-chat-deploy}
mkdir -p "$cache/bin"

log() { printf '   %s\n' "$*" >&2; }

go_install() { # <module path>@<version> <binary name> <target file>
  local target=$3 tmp
  [ -x "$target" ] && return 0
  command -v go >/dev/null || { echo "go is not installed (needed to build $2 from the Go module proxy)" >&2; exit 1; }
  tmp=$(mktemp -d)
  log "building $1 (go install, once)"
  # GOTOOLCHAIN=auto: a Go older than the module needs fetches the newer
  # toolchain from the same module proxy.
  GOBIN=$tmp GOFLAGS=-mod=mod GOTOOLCHAIN=auto go install "$1"
  mv "$tmp/$2" "$target"
  rmdir "$tmp"
}

kustomize=$cache/bin/kustomize-$KUSTOMIZE_VERSION
kubeconform=$cache/bin/kubeconform-$KUBECONFORM_VERSION
go_install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION" kustomize "$kustomize"
go_install "github.com/yannh/kubeconform/cmd/kubeconform@$KUBECONFORM_VERSION" kubeconform "$kubeconform"

# Schemas: kubeconform's layout <root>/v<version>-standalone-strict/<kind>-<group>-<version>.json.
schema_root=$cache/schemas/kubernetes-validate-$KUBERNETES_VALIDATE_VERSION
schema_dir=$schema_root/v$K8S_VERSION-standalone-strict
if [ ! -f "$schema_dir/.complete" ]; then
  wheels=$cache/wheels
  wheel=$wheels/kubernetes_validate-$KUBERNETES_VALIDATE_VERSION-py3-none-any.whl
  if [ ! -f "$wheel" ]; then
    command -v python3 >/dev/null || { echo "python3 is not installed" >&2; exit 1; }
    python3 -m pip --version >/dev/null 2>&1 || {
      log "installing python3-pip (apt)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pip >/dev/null
    }
    log "downloading kubernetes-validate==$KUBERNETES_VALIDATE_VERSION (PyPI, once)"
    python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --dest "$wheels" "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  fi
  log "unpacking the Kubernetes $K8S_VERSION schemas"
  rm -rf "$schema_dir"
  python3 "$here/schemas.py" "$wheel" "$K8S_VERSION" "$schema_dir"
  touch "$schema_dir/.complete"
fi

printf 'KUSTOMIZE=%s\n' "$kustomize"
printf 'KUBECONFORM=%s\n' "$kubeconform"
printf 'K8S_VERSION=%s\n' "$K8S_VERSION"
printf 'SCHEMA_LOCATION=%s\n' "$schema_root/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json"
