#!/usr/bin/env bash
# Installs the Debian 12 packages cachecar needs to build, test and demo.
# Idempotent: what is installed already is not installed again.
#   scripts/install-deps.sh [--bench] [--image]
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config ccache curl
  libboost1.81-dev libhiredis-dev nlohmann-json3-dev libspdlog-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libxxhash-dev libzstd-dev liblz4-dev
  redis-server openssl python3-prometheus-client wrk chromium
  clang-14 libclang-rt-14-dev clang-format clang-tidy
)
for extra in "$@"; do
  case "$extra" in
    --bench) packages+=(nginx util-linux python3) ;;
    # The image (docker/build-image.sh) and the checks of what ships beside
    # the binary: the config schema and the Kubernetes manifests.
    --image) packages+=(mmdebstrap podman runc binutils ca-certificates kubectl python3-jsonschema python3-yaml nodejs) ;;
    *) echo "install-deps: unknown option $extra (--bench, --image)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
  export DEBIAN_FRONTEND=noninteractive
  "${sudo_cmd[@]}" apt-get update -q
  "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The manifest validator's npm packages, at the versions its lockfile pins.
if [[ " $* " == *" --image "* ]]; then
  validator="$(dirname "$0")/../deploy/kubernetes/validate"
  if [[ ! "$validator/node_modules/.package-lock.json" -nt "$validator/package-lock.json" ]]; then
    npm ci --prefix "$validator" --no-audit --no-fund --loglevel=error
  fi
fi
