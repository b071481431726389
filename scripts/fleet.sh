#!/usr/bin/env bash
# A local fleet for trying the bus and write-through: Redis on 127.0.0.1:16379,
# the demo origin on 127.0.0.1:5000, cachecar A on 127.0.0.1:8081 (admin 9911)
# and cachecar B on 127.0.0.1:8082 (admin 9912), all from docker/fleet/cachecar.yaml.
#
#   scripts/fleet.sh                  run it from the dev build; Ctrl-C stops it all
#   scripts/fleet.sh --containers     the same fleet from docker/compose.yaml's images,
#                                     under podman (docker/build-image.sh --fleet first)
#   scripts/fleet.sh [...] --check    start it, check it (a miss on A is a hit on B; a
#                                     write through B is read back on A), stop it
# Loopback only; everything it starts is stopped by PID or container name.
set -euo pipefail
cd "$(dirname "$0")/.."

containers=""
check=""
for arg in "$@"; do
  case "$arg" in
    --containers) containers=1 ;;
    --check) check=1 ;;
    *) echo "usage: scripts/fleet.sh [--containers] [--check]" >&2; exit 2 ;;
  esac
done

for port in 16379 5000 8081 8082 9911 9912 9921 9922; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "fleet: 127.0.0.1:$port is taken; stop what listens there first" >&2
    exit 1
  fi
done

pids=()
started=()
stop_all() {
  for name in "${started[@]}"; do podman rm --force --time 5 "$name" >/dev/null 2>&1 || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap stop_all EXIT INT TERM

# The cachecars start once Redis answers: one that starts first serves
# from memory and the origin until its breaker lets Redis in again.
wait_for_redis() {
  for _ in $(seq 1 200); do
    [[ "$(redis-cli -p 16379 ping 2>/dev/null)" == PONG ]] && return 0
    sleep 0.05
  done
  echo "fleet: Redis did not answer on 127.0.0.1:16379" >&2
  exit 1
}

if [[ -n "$containers" ]]; then
  source docker/podman-env.sh
  # Each service of docker/compose.yaml as `podman run --network host`: its
  # image, command, environment and volumes, in the file's order.
  while IFS= read -r line; do
    eval "run=($line)"
    podman run --pull=never --network host --detach "${run[@]}" >/dev/null
    started+=("${run[1]}")
    [[ "${run[1]}" == *-redis ]] && wait_for_redis
  done < <(python3 - <<'PY'
import os, shlex, yaml
compose = yaml.safe_load(open("docker/compose.yaml"))
for name, service in compose["services"].items():
    args = ["--name", f"cachecar-fleet-{name}"]
    for key, value in (service.get("environment") or {}).items():
        args += ["--env", f"{key}={value}"]
    for volume in service.get("volumes") or []:
        source, rest = volume.split(":", 1)
        args += ["--volume", f"{os.path.abspath(os.path.join('docker', source))}:{rest}"]
    args.append(service["image"])
    args += service.get("command") or []
    print(" ".join(shlex.quote(a) for a in args))
PY
)
else
  scripts/build.sh dev >/dev/null
  redis-server --bind 127.0.0.1 --port 16379 --save "" --appendonly no --loglevel warning &
  pids+=($!)
  wait_for_redis
  build/dev/demo_origin --listen 127.0.0.1:5000 &
  pids+=($!)
  for node in "A 8081 9911 9921" "B 8082 9912 9922"; do
    read -r name listen admin health <<<"$node"
    CACHECAR_LISTEN="127.0.0.1:$listen" CACHECAR_ADMIN_LISTEN="127.0.0.1:$admin" \
      CACHECAR_HEALTH_LISTEN="127.0.0.1:$health" build/dev/cachecar --config docker/fleet/cachecar.yaml &
    pids+=($!)
  done
fi

# Bounded wait for the condition itself: both cachecars ready, with Redis
# in use and the bus subscribed.
for health in 9921 9922; do
  ready=""
  for _ in $(seq 1 200); do
    if curl -fs "http://127.0.0.1:$health/readyz" 2>/dev/null |
        python3 -c 'import json,sys; t=sys.stdin.read(); r=json.loads(t) if t.strip() else {}; sys.exit(0 if r.get("ready") and r.get("redis")=="ok" and r.get("bus")=="subscribed" else 1)'; then
      ready=1; break
    fi
    sleep 0.05
  done
  [[ -n "$ready" ]] || { echo "fleet: the cachecar with probes on $health did not become ready" >&2; exit 1; }
done

if [[ -z "$check" ]]; then
  cat <<'MSG'

The fleet is up: cachecar A on 127.0.0.1:8081, B on 127.0.0.1:8082, sharing Redis
(127.0.0.1:16379) in front of the demo origin (127.0.0.1:5000).
  curl -si http://127.0.0.1:8081/products/1 | grep -i cache-status    # miss on A, stored in both tiers
  curl -si http://127.0.0.1:8082/products/1 | grep -i cache-status    # hit on B, from Redis
  curl -s -X PUT http://127.0.0.1:8082/products/1 -d '{"name":"renamed"}'
  curl -s http://127.0.0.1:8081/products/1                            # A reads the write
  redis-cli -p 16379 PUBLISH cachecar:invalidate \
    '{"type":"entity-updated","entity":"product","id":"1","source":"catalog-service"}'
Ctrl-C stops it all.
MSG
  if [[ -n "$containers" ]]; then
    while :; do sleep 3600; done
  else
    wait "${pids[0]}"
  fi
  exit 0
fi

fail() { echo "fleet: FAIL: $*" >&2; exit 1; }
status() { curl -fsS -D - -o /dev/null "$1" | tr -d '\r' | grep -i '^cache-status:' || true; }
first=$(status http://127.0.0.1:8081/products/1)
[[ "$first" == *"fwd=miss; stored"* ]] || fail "A: expected a stored miss, got '$first'"
second=$(status http://127.0.0.1:8082/products/1)
[[ "$second" == *"hit"* ]] || fail "B: expected a hit from the shared tier, got '$second'"
curl -fsS -X PUT -H 'Content-Type: application/json' -d '{"name":"renamed in the fleet check"}' \
  http://127.0.0.1:8082/products/1 >/dev/null || fail "B: the write failed"
after=$(curl -fsS http://127.0.0.1:8081/products/1)
[[ "$after" == *"renamed in the fleet check"* ]] || fail "A served '$after' after the write through B"
echo "fleet: ok${containers:+ (containers)}: miss on A ($first), hit on B ($second), A reads B's write"
