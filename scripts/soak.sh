#!/usr/bin/env bash
# A soak on loopback (issue 10): two cachecars sharing one redis-server in
# front of the demo origin, for MINUTES (default 30), under a mix of hits,
# misses (distinct keys), purges, signed bus events, config reloads and a
# Redis restart every minute. Prints, per minute, each cachecar's RSS and
# the errors seen (non-2xx answers, failed connections, sanitizer reports).
# Exits non-zero if any error was seen. Everything it starts it stops.
#   scripts/soak.sh [MINUTES] [PRESET]     PRESET: asan (default) or dev
set -euo pipefail
cd "$(dirname "$0")/.."
minutes="${1:-30}"
preset="${2:-asan}"
scripts/install-deps.sh
scripts/build.sh "$preset" >/dev/null
bin="build/$preset"
work=$(mktemp -d /tmp/cachecar-soak.XXXXXX)
pids=()
cleanup() {
  # Newest first: the load stops before the cachecars, and they before the origin.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[$i]}" 2>/dev/null || true; done
  kill "${redis_pid:-}" 2>/dev/null || true  # the current one: restarts replace it
  wait 2>/dev/null || true
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rss_mb() { awk '/VmRSS/ {printf "%.1f", $2/1024}' "/proc/$1/status" 2>/dev/null || echo "?"; }

origin_port=$(free_port)
redis_port=$(free_port)
"$bin/demo_origin" --listen "127.0.0.1:$origin_port" >/dev/null &
pids+=($!)
start_redis() {
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
    --dir "$work" >"$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && return; sleep 0.05; done
}
start_redis

export CACHECAR_BUS_SECRET=soak-secret
ports=() admins=() cachecar_pids=()
for i in 1 2; do
  port=$(free_port)
  admin=$(free_port)
  cat >"$work/cachecar-$i.yaml" <<YAML
listen: 127.0.0.1:$port
origin: http://127.0.0.1:$origin_port
workers: 2
drain_delay: 0s
log: { format: text, level: warn }
allowed_hosts: [127.0.0.1, localhost]
admin: { listen: 127.0.0.1:$admin }
store:
  memory: { max_bytes: 16MiB, max_entry_bytes: 256KiB }
  redis: { url: "redis://127.0.0.1:$redis_port/0", timeout: 100ms }
invalidation:
  owners: { product: catalog-service }
  secret_env: CACHECAR_BUS_SECRET
routes:
  - name: product
    match: { method: GET, path: "/products/{id:int}" }
    entity: product
    ttl: 30s
    stale_while_revalidate: 10s
    query: [currency]
  - name: knobs
    match: { path: "/t/{*rest}" }
    ttl: 20s
YAML
  ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}" "$bin/cachecar" --config "$work/cachecar-$i.yaml" \
    2>"$work/cachecar-$i.log" &
  cachecar_pids+=($!)
  pids+=($!)
  ports+=("$port")
  admins+=("$admin")
done
for i in 0 1; do
  for _ in $(seq 1 200); do curl -fs -o /dev/null "http://127.0.0.1:${admins[$i]}/healthz" && break; sleep 0.05; done
done

sign_event() {  # $1: product id; prints a signed SPEC §5 event
  local ts eid text sig
  ts=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  eid="soak-$1-$RANDOM$RANDOM"
  text=$(printf 'entity-updated\nproduct\n%s\n\ncatalog-service\n\n%s\n%s\n\n\n0\n' "$1" "$ts" "$eid")
  sig=$(printf '%s\n' "$text" | openssl dgst -sha256 -hmac "$CACHECAR_BUS_SECRET" | awk '{print $NF}')
  printf '{"type":"entity-updated","entity":"product","id":"%s","source":"catalog-service","ts":"%s","eid":"%s","sig":"%s"}' \
    "$1" "$ts" "$eid" "$sig"
}

# Misses, purges, events and reloads, in the background for the whole soak;
# each failure is one line in errors.log.
churn() {
  local end=$1 n=0
  while (( $(date +%s) < end )); do
    n=$((n + 1))
    local i=$((n % 2))
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:${ports[$i]}/t/miss-$n?size=$((n % 4096))") || code=000
    [[ "$code" == 200 ]] || echo "miss $n: $code" >>"$work/errors.log"
    if (( n % 50 == 0 )); then
      curl -s -o /dev/null -X POST -d "{\"entity\":\"product\",\"id\":\"$((n % 100 + 1))\"}" \
        "http://127.0.0.1:${admins[$i]}/admin/purge" || echo "purge $n failed" >>"$work/errors.log"
    fi
    if (( n % 20 == 0 )); then
      redis-cli -p "$redis_port" PUBLISH cachecar:invalidate "$(sign_event $((n % 100 + 1)))" >/dev/null 2>&1 || true
    fi
    if (( n % 500 == 0 )); then
      code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:${admins[$i]}/admin/reload") || code=000
      [[ "$code" == 200 ]] || echo "reload $n: $code" >>"$work/errors.log"
    fi
  done
}

touch "$work/errors.log"
end=$(( $(date +%s) + minutes * 60 ))
churn "$end" &
pids+=($!)
printf '%-6s %-22s %-22s %-10s %-10s %s\n' minute "rss A (MB)" "rss B (MB)" requests errors "sanitizer reports"
total_errors=0
for minute in $(seq 1 "$minutes"); do
  # A minute of hits (hot keys, both cachecars), bounded by wrk's own clock.
  wrk_pids=()
  for i in 0 1; do
    wrk -t1 -c8 -d58s --latency "http://127.0.0.1:${ports[$i]}/products/$((minute % 100 + 1))" \
      >"$work/wrk-$minute-$i.txt" 2>&1 &
    wrk_pids+=($!)
  done
  sleep 29
  # Halfway through the minute, Redis goes away and comes back.
  kill "$redis_pid" 2>/dev/null || true
  wait "$redis_pid" 2>/dev/null || true
  sleep 1
  start_redis
  wait "${wrk_pids[@]}" 2>/dev/null || true
  requests=0 bad=0
  for i in 0 1; do
    r=$(awk '/requests in/ {print $1}' "$work/wrk-$minute-$i.txt")
    requests=$((requests + ${r:-0}))
    b=$(awk '/Non-2xx/ {print $NF}' "$work/wrk-$minute-$i.txt")
    s=$(awk -F'[ ,]+' '/Socket errors/ {print $4+$6+$8+$10}' "$work/wrk-$minute-$i.txt")
    bad=$((bad + ${b:-0} + ${s:-0}))
  done
  # Moved, not emptied: a line the churn appends meanwhile goes to a new file.
  touch "$work/errors.log"
  mv "$work/errors.log" "$work/errors-$minute.log"
  churn_errors=$(wc -l <"$work/errors-$minute.log")
  reports=$(cat "$work"/cachecar-*.log | grep -c -E 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' || true)
  errors=$((bad + churn_errors))
  total_errors=$((total_errors + errors + reports))
  printf '%-6s %-22s %-22s %-10s %-10s %s\n' "$minute" "$(rss_mb "${cachecar_pids[0]}")" \
    "$(rss_mb "${cachecar_pids[1]}")" "$requests" "$errors" "$reports"
done
echo "soak: $minutes minutes, $total_errors errors and sanitizer reports in all; logs in $work"
[[ "$total_errors" -eq 0 ]]
