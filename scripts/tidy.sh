#!/usr/bin/env bash
# clang-tidy with .clang-tidy's checks on the C++ sources a change touched.
#   scripts/tidy.sh            the files the last commit changed (HEAD~1..HEAD) and any
#                              uncommitted changes
#   scripts/tidy.sh BASE       the files changed since BASE
#   scripts/tidy.sh --all      every source under src/
# A changed header is checked through the source file of the same name.
# Needs build/dev/compile_commands.json (scripts/build.sh dev). Any finding fails.
set -euo pipefail
cd "$(dirname "$0")/.."
database=build/dev
if [[ ! -f $database/compile_commands.json ]]; then
  echo "tidy: $database/compile_commands.json is missing: run scripts/build.sh dev first" >&2
  exit 2
fi
if [[ "${1:-}" == "--all" ]]; then
  mapfile -t changed < <(git ls-files 'src/*.cpp')
else
  base="${1:-HEAD~1}"
  if ! git rev-parse -q --verify "$base^{commit}" >/dev/null; then
    base=$(git hash-object -t tree /dev/null)  # a one-commit history: everything is new
  fi
  mapfile -t changed < <({ git diff --name-only --diff-filter=d "$base" -- 'src/*.cpp' 'src/*.hpp'
                           git ls-files --others --exclude-standard -- 'src/*.cpp' 'src/*.hpp'; } | sort -u)
fi
sources=()
for file in "${changed[@]}"; do
  source="${file%.*}.cpp"
  [[ -f "$source" ]] && grep -q "\"file\": \"$PWD/$source\"" $database/compile_commands.json \
    && sources+=("$source")
done
mapfile -t sources < <(printf '%s\n' "${sources[@]}" | sort -u | sed '/^$/d')
if [[ ${#sources[@]} -eq 0 ]]; then
  echo "tidy: no changed C++ sources"
  exit 0
fi
echo "tidy: ${#sources[@]} file(s): ${sources[*]}"
# GCC's warning flags in the database are unknown to clang: not findings.
printf '%s\n' "${sources[@]}" |
  xargs -P "$(nproc)" -n 1 clang-tidy-14 -p "$database" --quiet \
    --extra-arg=-Wno-unknown-warning-option --extra-arg=-Wno-unused-command-line-argument
echo "tidy: clean"
