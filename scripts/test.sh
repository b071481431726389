#!/usr/bin/env bash
# The README's second command: install what is missing, check the C++
# files are clang-formatted, build, clang-tidy the changed files, run every
# test; build the runtime image from the binary just tested and smoke-test
# it and the local fleet under podman; a short run of every fuzz target (libFuzzer, from its
# seed corpus); then the same suite again under AddressSanitizer + UBSan.
#   scripts/test.sh           what CI runs
#   scripts/test.sh --quick   the dev build's tests only
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --image
scripts/format.sh --check
scripts/build.sh dev
# .clang-tidy's checks on the sources the last commit (and any uncommitted change) touched.
scripts/tidy.sh
ctest --preset dev -j 2 --timeout 300
if [[ "${1:-}" != "--quick" ]]; then
  docker/build-image.sh --binary build/dev/cachecar --fleet
  docker/smoke-test.sh
  # The local fleet (two cachecars, Redis, the demo origin), with and
  # without containers: a fill on one is a hit on the other, a write
  # through one is read back on the other.
  scripts/fleet.sh --containers --check
  scripts/fleet.sh --check
  # A repeatable smoke: the same 100,000 inputs per target on every run.
  CACHECAR_FUZZ_SEED=1 CACHECAR_FUZZ_RUNS=100000 scripts/fuzz.sh 120
  scripts/build.sh asan
  ctest --preset asan -j 2 --timeout 300
fi
