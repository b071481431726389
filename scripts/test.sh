#!/usr/bin/env bash
# The README's second command: install what is missing, build, run every
# test; a short run of every fuzz target (libFuzzer, from its seed corpus);
# then the same suite again under AddressSanitizer + UBSan.
#   scripts/test.sh           what CI runs
#   scripts/test.sh --quick   the dev build only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh dev
ctest --preset dev -j 2 --timeout 300
if [[ "${1:-}" != "--quick" ]]; then
  # A repeatable smoke: the same 100,000 inputs per target on every run.
  CACHECAR_FUZZ_SEED=1 CACHECAR_FUZZ_RUNS=100000 scripts/fuzz.sh 120
  scripts/build.sh asan
  ctest --preset asan -j 2 --timeout 300
fi
