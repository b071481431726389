#!/usr/bin/env bash
# Renders every overlay with `kubectl kustomize` (offline) and validates the
# objects: Kubernetes schemas, unknown fields, and cachecar's sidecar rules
# (validate/validate.mjs). Then checks that the validator rejects each of the
# deliberately broken objects in validate/broken.yaml.
# Needs kubectl and the validator's npm packages (scripts/install-deps.sh --image).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:-$here/../../build/manifests}"
mkdir -p "$out"
command -v kubectl >/dev/null || { echo "validate.sh: kubectl is not installed" >&2; exit 1; }
[[ -d "$here/validate/node_modules/kubernetes-models" ]] ||
  { echo "validate.sh: run scripts/install-deps.sh --image (npm ci in deploy/kubernetes/validate)" >&2; exit 1; }
rendered=()
for overlay in "$here"/overlays/*/; do
  name=$(basename "$overlay")
  kubectl kustomize "$overlay" > "$out/$name.yaml"
  rendered+=("$out/$name.yaml")
done
node "$here/validate/validate.mjs" "${rendered[@]}"
node "$here/validate/validate.mjs" --expect-invalid "$here/validate/broken.yaml"
