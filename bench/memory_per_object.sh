#!/usr/bin/env bash
# Memory per stored object (issue 10): fills OBJECTS distinct responses of
# SIZE bytes into one cachecar whose memory tier has room for all of them,
# and reports, side by side, the process' RSS growth per object and what the
# memory tier charges per object (/admin/stats). The two should agree: an
# entry holds what it is charged.
#
#   bench/memory_per_object.sh [objects=20000] [size=1024]
# CACHECAR_BENCH_PRESET=dev uses the dev build (also -O2) instead of release.
set -euo pipefail
cd "$(dirname "$0")/.."
objects="${1:-20000}"
size="${2:-1024}"
scripts/install-deps.sh --bench >/dev/null
preset="${CACHECAR_BENCH_PRESET:-release}"
scripts/build.sh "$preset" >/dev/null
bin="build/$preset"
work=$(mktemp -d /tmp/cachecar-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

"$bin/demo_origin" --listen 127.0.0.1:0 > "$work/origin.out" &
pids+=($!)
for _ in $(seq 1 100); do grep -q listening "$work/origin.out" && break; sleep 0.05; done
origin_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/origin.out")
port=$(free_port); admin=$(free_port)
cat > "$work/cachecar.yaml" <<YAML
listen: 127.0.0.1:$port
origin: http://127.0.0.1:$origin_port
admin: { listen: 127.0.0.1:$admin }
workers: 1
log: { format: text, level: warn }
store:
  memory: { max_bytes: 1GiB, max_entry_bytes: 1MiB }
routes:
  - name: objects
    match: { path: "/t/obj/{id}" }
    ttl: 1h
YAML
"$bin/cachecar" --config "$work/cachecar.yaml" 2> "$work/cachecar.err" &
cc_pid=$!
pids+=($cc_pid)
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$admin/healthz" && break; sleep 0.05; done

# Sequential GETs on one keep-alive connection; a bounded count.
fill() {  # $1: prefix, $2: count
  python3 - "$port" "$1" "$2" "$size" <<'PY'
import http.client, sys
port, prefix, count, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
for i in range(count):
    conn.request("GET", f"/t/obj/{prefix}{i}?size={size}")
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        sys.exit(f"GET {prefix}{i}: {response.status}")
PY
}
stats() { curl -fs "http://127.0.0.1:$admin/admin/stats" | python3 -c 'import json,sys; m=json.load(sys.stdin)["tiers"]["memory"]; print(m["entries"], m["bytes"])'; }

fill warm- 1000  # connections, arenas and tables settle first
read -r entries0 bytes0 < <(stats)
rss0=$(rss_kb "$cc_pid")
fill obj- "$objects"
read -r entries1 bytes1 < <(stats)
rss1=$(rss_kb "$cc_pid")
stored=$((entries1 - entries0))
python3 - "$stored" "$rss0" "$rss1" "$bytes0" "$bytes1" "$size" <<'PY'
import sys
stored, rss0, rss1, bytes0, bytes1, size = map(int, sys.argv[1:])
rss_per = (rss1 - rss0) * 1024 / stored
charged_per = (bytes1 - bytes0) / stored
print(f"objects stored: {stored} of {size} B bodies")
print(f"| measure | bytes per object |")
print(f"|---|---|")
print(f"| RSS growth | {rss_per:,.0f} |")
print(f"| charged by the memory tier (/admin/stats) | {charged_per:,.0f} |")
print(f"RSS / charge: {rss_per / charged_per:.2f}")
PY
