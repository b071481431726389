#!/usr/bin/env bash
# Cache-hit throughput of cachecar next to nginx's proxy_cache, in one run on
# this machine. Each proxy is pinned to core 0 with one worker; wrk runs on
# core 1; the demo origin serves the single miss. The figure that matters is
# hits per proxy CPU-second (requests / CPU time the proxy used), which does
# not depend on how fast wrk can push.
#
#   bench/hit_throughput.sh [seconds=10] [connections=32]
#
# CACHECAR_BASELINE=path/to/an/older/cachecar adds that binary to the same run
# (same config, same core), with the ratio of this build to it: how a change
# moved hit throughput, both figures from one run.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10}"
connections="${2:-32}"
scripts/install-deps.sh --bench >/dev/null
scripts/build.sh release >/dev/null
bin=build/release
work=$(mktemp -d /tmp/cachecar-bench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
debug_dump() { echo "--- cachecar stderr"; cat "$work/cachecar.err" 2>/dev/null; echo "--- nginx error.log"; cat "$work/nginx/logs/error.log" 2>/dev/null; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# utime + stime (clock ticks) of a process and its children threads.
cpu_ticks() { local total=0; for p in "$@"; do read -r -a f < "/proc/$p/stat"; total=$((total + f[13] + f[14])); done; echo "$total"; }
wait_http() { for _ in $(seq 1 100); do curl -fs -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; debug_dump >&2; return 1; }

taskset -c 1 "$bin/demo_origin" --listen 127.0.0.1:0 > "$work/origin.out" &
pids+=($!)
for _ in $(seq 1 100); do grep -q listening "$work/origin.out" && break; sleep 0.05; done
origin_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/origin.out")

cachecar_config() {  # listen-port admin-port
  cat <<YAML
listen: 127.0.0.1:$1
origin: http://127.0.0.1:$origin_port
admin: { listen: 127.0.0.1:$2 }
workers: 1
drain_delay: 0s
log: { format: text, level: warn }
routes:
  - name: product
    match: { method: [GET, HEAD], path: "/products/{id:int}" }
    ttl: 5m
YAML
}
cc_port=$(free_port)
cachecar_config "$cc_port" "$(free_port)" > "$work/cachecar.yaml"
taskset -c 0 "$bin/cachecar" --config "$work/cachecar.yaml" 2> "$work/cachecar.err" &
cc_pid=$!
pids+=($cc_pid)
baseline="${CACHECAR_BASELINE:-}"
if [[ -n "$baseline" ]]; then
  base_port=$(free_port)
  cachecar_config "$base_port" "$(free_port)" > "$work/baseline.yaml"
  taskset -c 0 "$baseline" --config "$work/baseline.yaml" 2> "$work/baseline.err" &
  base_pid=$!
  pids+=($base_pid)
fi

ng_port=$(free_port)
mkdir -p "$work/nginx/cache" "$work/nginx/logs"
# As root, nginx's workers would switch to www-data and lose the temp dir.
nginx_user=""
if [[ $(id -u) -eq 0 ]]; then nginx_user="user root;"; fi
cat > "$work/nginx/nginx.conf" <<NGINX
$nginx_user
worker_processes 1;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $work/nginx/body; proxy_temp_path $work/nginx/proxy;
  fastcgi_temp_path $work/nginx/fcgi; uwsgi_temp_path $work/nginx/uwsgi; scgi_temp_path $work/nginx/scgi;
  proxy_cache_path $work/nginx/cache keys_zone=hits:10m max_size=256m;
  upstream origin { server 127.0.0.1:$origin_port; keepalive 16; }
  server {
    listen 127.0.0.1:$ng_port;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache hits;
      proxy_cache_valid 200 5m;
      add_header X-Cache-Status \$upstream_cache_status;
    }
  }
}
NGINX
taskset -c 0 nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
ng_pid=$!
pids+=($ng_pid)

wait_http "http://127.0.0.1:$cc_port/products/1"
wait_http "http://127.0.0.1:$ng_port/products/1"
if [[ -n "$baseline" ]]; then
  wait_http "http://127.0.0.1:$base_port/products/1"
  curl -s -o /dev/null "http://127.0.0.1:$base_port/products/1"
fi
# Warm both caches and show that the benchmarked answers are hits.
curl -s -o /dev/null "http://127.0.0.1:$cc_port/products/1"; curl -s -o /dev/null "http://127.0.0.1:$ng_port/products/1"
cc_status=$(curl -si "http://127.0.0.1:$cc_port/products/1" | tr -d '\r' | sed -n 's/^Cache-Status: //p')
ng_status=$(curl -si "http://127.0.0.1:$ng_port/products/1" | tr -d '\r' | sed -n 's/^X-Cache-Status: //p')

run() {  # name url pids...
  local name=$1 url=$2; shift 2
  local before after requests
  before=$(cpu_ticks "$@")
  taskset -c 1 wrk -t1 -c"$connections" -d"${duration}s" --latency "$url" > "$work/$name.wrk"
  after=$(cpu_ticks "$@")
  requests=$(awk '/requests in/ {print $1}' "$work/$name.wrk")
  local hz; hz=$(getconf CLK_TCK)
  local cpu; cpu=$(awk -v t=$((after - before)) -v hz="$hz" 'BEGIN {printf "%.2f", t / hz}')
  local rps; rps=$(awk '/Requests\/sec/ {print $2}' "$work/$name.wrk")
  local p99; p99=$(awk '/ 99%/ {print $2}' "$work/$name.wrk")
  local per_cpu; per_cpu=$(awk -v r="$requests" -v c="$cpu" 'BEGIN {printf "%.0f", (c > 0 ? r / c : 0)}')
  printf "%-9s %12s %10s %12s %14s\n" "$name" "$rps" "$p99" "$cpu" "$per_cpu"
  echo "$per_cpu" > "$work/$name.percpu"
}

ng_workers=$(pgrep -P "$ng_pid" | tr '\n' ' ')
echo "hit throughput, ${duration}s, ${connections} connections, proxy on core 0, wrk on core 1"
echo "cachecar Cache-Status: $cc_status | nginx X-Cache-Status: $ng_status"
printf "%-9s %12s %10s %12s %14s\n" proxy "req/s" "p99" "proxy CPU s" "hits/CPU-s"
run nginx "http://127.0.0.1:$ng_port/products/1" "$ng_pid" $ng_workers
run cachecar "http://127.0.0.1:$cc_port/products/1" "$cc_pid"
if [[ -n "$baseline" ]]; then
  # ABBA order: a drift of the machine during the run (frequency, a
  # neighbour) weighs on both binaries alike.
  cp "$work/cachecar.percpu" "$work/cachecar.first"
  run baseline "http://127.0.0.1:$base_port/products/1" "$base_pid"
  cp "$work/baseline.percpu" "$work/baseline.first"
  run baseline "http://127.0.0.1:$base_port/products/1" "$base_pid"
  run cachecar "http://127.0.0.1:$cc_port/products/1" "$cc_pid"
  awk -v a1="$(cat "$work/cachecar.first")" -v a2="$(cat "$work/cachecar.percpu")" \
      -v b1="$(cat "$work/baseline.first")" -v b2="$(cat "$work/baseline.percpu")" \
    'BEGIN {printf "cachecar %.0f vs baseline %.0f hits/CPU-s (mean of two each): ratio %.3f\n",
            (a1 + a2) / 2, (b1 + b2) / 2, (a1 + a2) / (b1 + b2)}'
fi
awk -v a="$(cat "$work/cachecar.percpu")" -v b="$(cat "$work/nginx.percpu")" \
  'BEGIN {printf "ratio cachecar/nginx (hits per CPU-second): %.2f\n", a / b}'
echo "origin requests during the run: $(curl -s "http://127.0.0.1:$origin_port/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')"
