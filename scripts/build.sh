#!/usr/bin/env bash
# Configures and builds cachecar into build/<preset> (default preset: dev).
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-dev}"
if [[ "$preset" == "dev" || "$preset" == "asan" ]]; then
  export CCACHE_DIR="${CCACHE_DIR:-$PWD/.cache/ccache}"
fi
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
