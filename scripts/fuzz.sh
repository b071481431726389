#!/usr/bin/env bash
# Builds the libFuzzer targets (preset `fuzz`: clang-14 with ASan and UBSan)
# and runs each for SECONDS (default 60) from its seed corpus,
# tests/fuzz/corpus/NAME. What a run discovers goes to build/fuzz/corpus/NAME
# (the seeds stay as committed); a crash leaves its input in
# build/fuzz/crashes/ and fails the script: turn it into a unit test.
#   scripts/fuzz.sh [SECONDS] [NAME...]     e.g. scripts/fuzz.sh 600 canonical_key
# CACHECAR_FUZZ_SEED and CACHECAR_FUZZ_RUNS make a run repeatable (the same
# inputs in the same order, at most RUNS of them): what CI's smoke uses, so
# that it fails only for a change that brings a crash within its reach.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
[[ $# -gt 0 ]] && shift
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
  targets=(request_head cache_control route_template canonical_key event resp entry_codec)
fi
scripts/install-deps.sh
export CCACHE_DIR="${CCACHE_DIR:-$PWD/.cache/ccache}"
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)" >/dev/null
mkdir -p build/fuzz/crashes
repeatable=()
[[ -n "${CACHECAR_FUZZ_SEED:-}" ]] && repeatable+=(-seed="$CACHECAR_FUZZ_SEED")
[[ -n "${CACHECAR_FUZZ_RUNS:-}" ]] && repeatable+=(-runs="$CACHECAR_FUZZ_RUNS")
failed=0
for target in "${targets[@]}"; do
  work="build/fuzz/corpus/$target"
  log="build/fuzz/$target.log"
  mkdir -p "$work"
  # -max_len: events are refused over 64 KiB; request heads over 16 KiB.
  if ! "build/fuzz/tests/fuzz/fuzz_$target" -max_total_time="$seconds" "${repeatable[@]}" -print_final_stats=1 -max_len=70000 \
      -timeout=10 -rss_limit_mb=2048 -artifact_prefix="build/fuzz/crashes/$target-" \
      "$work" "tests/fuzz/corpus/$target" >"$log" 2>&1; then
    failed=1
    echo "fuzz_$target: FAILED (see $log and build/fuzz/crashes/)"
    tail -n 30 "$log"
    continue
  fi
  runs=$(grep -oE 'stat::number_of_executed_units: [0-9]+' "$log" | grep -oE '[0-9]+$' || echo '?')
  coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || echo 'cov: ?')
  corpus=$(find "$work" -type f | wc -l)
  took=$(grep -oE 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -oE '[0-9]+ second' || echo "$seconds second")
  echo "fuzz_$target: $runs runs in ${took}s, $coverage, corpus $corpus, no crash"
done
exit "$failed"
