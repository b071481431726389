#!/usr/bin/env bash
# Installs the Debian 12 packages cachecar needs to build, test and demo.
# Idempotent: when every package is already installed it returns at once.
set -euo pipefail

packages=(
  g++ cmake ninja-build pkg-config ccache curl
  libboost1.81-dev libhiredis-dev nlohmann-json3-dev libspdlog-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libssl-dev libxxhash-dev libzstd-dev liblz4-dev
  redis-server openssl python3-prometheus-client wrk chromium
  clang-14 libclang-rt-14-dev
)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(nginx util-linux python3)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "installing: ${missing[*]}"
sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
