#!/usr/bin/env bash
# The README's first command: install what is missing, build, then run the demo
# origin on 127.0.0.1:5000 and cachecar on its default config (memory tier, no
# Redis) on 127.0.0.1:8080. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh dev
bin=build/dev

"$bin/demo_origin" --listen 127.0.0.1:5000 &
origin_pid=$!
"$bin/cachecar" --config config/cachecar.yaml &
cachecar_pid=$!
trap 'kill "$cachecar_pid" "$origin_pid" 2>/dev/null; wait 2>/dev/null' EXIT INT TERM

# Wait (bounded) until cachecar answers before telling the user to curl it.
for _ in $(seq 1 100); do
  if curl -fs -o /dev/null http://127.0.0.1:9901/healthz; then break; fi
  sleep 0.1
done
cat <<'MSG'

cachecar is listening on 127.0.0.1:8080 in front of the demo origin on 127.0.0.1:5000.
Try, twice:
  curl -si http://127.0.0.1:8080/products/1 | grep -i cache-status
The first shows "Cache-Status: cachecar; fwd=miss; stored", the second "cachecar; hit; ttl=...".
Admin: curl -s http://127.0.0.1:9901/admin/stats   Ctrl-C stops both.
MSG
wait "$cachecar_pid"
