#!/usr/bin/env bash
# Runs the image as a pod would run it and checks it end to end: a config
# mounted over /etc/cachecar, the demo origin on loopback (started here,
# from the dev build), /healthz on the probe port, one miss and one hit
# through the image, then `podman stop`: cachecar must drain and exit 0
# well within drain_delay + shutdown_grace (no SIGKILL).
#   docker/smoke-test.sh [IMAGE]     (default: localhost/cachecar:<version>)
# Loopback only; every process it starts is stopped by PID or name.
set -euo pipefail
cd "$(dirname "$0")/.."
source docker/podman-env.sh
version=$(sed -n 's/^project(cachecar VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)
image="${1:-localhost/cachecar:$version}"
origin_bin=build/dev/demo_origin
[[ -x "$origin_bin" ]] || { echo "smoke-test: build the dev preset first ($origin_bin)" >&2; exit 1; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
origin_port=$(free_port); listen_port=$(free_port); admin_port=$(free_port); probe_port=$(free_port)
work=$(mktemp -d)
name="cachecar-smoke-$$"
origin_pid=""
cleanup() {
  podman rm --force --time 0 "$name" >/dev/null 2>&1 || true
  [[ -n "$origin_pid" ]] && kill "$origin_pid" 2>/dev/null && wait "$origin_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "smoke-test: FAIL: $*" >&2; podman logs "$name" 2>&1 | tail -20 >&2 || true; exit 1; }

# The config directory as a ConfigMap mounts it: readable by UID 65532.
chmod 755 "$work"
cat > "$work/cachecar.yaml" <<CONF
listen: 127.0.0.1:$listen_port
origin: http://127.0.0.1:$origin_port
environment: smoke
workers: 0
drain_delay: 1s
shutdown_grace: 5s
log: { format: json, level: info }
admin: { listen: 127.0.0.1:$admin_port }
health: { listen: 127.0.0.1:$probe_port }
allowed_hosts: [127.0.0.1]
routes:
  - name: product
    match: { method: [GET, HEAD], path: "/products/{id:int}" }
    ttl: 60s
CONF
chmod 644 "$work/cachecar.yaml"

"$origin_bin" --listen "127.0.0.1:$origin_port" >"$work/origin.log" 2>&1 &
origin_pid=$!

podman run --pull=never --network host --detach --name "$name" \
  --volume "$work:/etc/cachecar:ro" "$image" >/dev/null

# Bounded wait for the condition itself: the probe port answering.
healthy=""
for _ in $(seq 1 200); do
  if curl -fsS -o /dev/null "http://127.0.0.1:$probe_port/healthz" 2>/dev/null; then healthy=1; break; fi
  [[ "$(podman inspect --format '{{.State.Running}}' "$name")" == "true" ]] || fail "the container exited at start"
  sleep 0.05
done
[[ -n "$healthy" ]] || fail "/healthz did not answer on the probe port within 10 s"
curl -fsS "http://127.0.0.1:$probe_port/readyz" | grep -q '"ready":true' || fail "/readyz is not ready"

first=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$listen_port/products/1" | tr -d '\r' | grep -i '^cache-status:')
second=$(curl -fsS -D - -o /dev/null "http://127.0.0.1:$listen_port/products/1" | tr -d '\r' | grep -i '^cache-status:')
[[ "$first" == *"fwd=miss; stored"* ]] || fail "first request: expected a stored miss, got '$first'"
[[ "$second" == *"cachecar; hit"* ]] || fail "second request: expected a hit, got '$second'"
origin_count=$(curl -fsS "http://127.0.0.1:$origin_port/__stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["paths"].get("/products/1", 0))')
[[ "$origin_count" == 1 ]] || fail "the origin saw /products/1 $origin_count times, expected once"

user=$(podman inspect --format '{{.Config.User}}' "$name")
[[ "$user" == "65532:65532" ]] || fail "the container runs as '$user', expected 65532:65532"

# drain_delay (1 s) + shutdown_grace (5 s) < the 15 s podman waits before SIGKILL.
start=$(date +%s%N)
podman stop --time 15 "$name" >/dev/null
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$name")
[[ "$exit_code" == 0 ]] || fail "exit code $exit_code after podman stop (137 would be SIGKILL)"
(( elapsed_ms < 6000 )) || fail "podman stop took $elapsed_ms ms, more than drain_delay + shutdown_grace"
podman logs "$name" 2>&1 | grep -q "cachecar stopped" || fail "no 'cachecar stopped' in the log"
echo "smoke-test: ok: $image: healthz, miss then hit ($first / $second), stopped cleanly in $elapsed_ms ms"
