#!/usr/bin/env bash
# Runs the bridge on this machine, as Lambda would, on one sample event, in dry-run mode: it
# prints the function's answer, including the exact session request it would send to Devin.
#   events/invoke-locally.sh [--policy config/<policy>.json] [events/<file>.json]
# The default event is events/incident-triggered.json; --policy sets ROUTING_CONFIG from a file.
# `cargo lambda watch` emulates the Lambda Runtime API (the twin of `sam local invoke`, without
# Docker); the settings and local development secrets come from events/local/local.env.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ "${1:-}" = "--policy" ]; then
  [ -f "${2:-}" ] || { echo "usage: $0 [--policy FILE] [EVENT]" >&2; exit 2; }
  # Compact JSON on one line, as the ROUTING_CONFIG variable holds it.
  ROUTING_CONFIG=$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$2")
  export ROUTING_CONFIG
  shift 2
fi
event=${1:-events/incident-triggered.json}
source tests/tools.sh

port=${LOCAL_INVOKE_PORT:-9000}
echo "==> building the function"
cargo build --quiet --bin bootstrap
log=$(mktemp)
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" --env-file events/local/local.env >"$log" 2>&1 &
watch_pid=$!
trap 'kill $watch_pid 2>/dev/null; wait $watch_pid 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $watch_pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done

echo "==> invoking with $event"
answer=$(cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" --data-file "$event" bootstrap)
python3 - "$answer" <<'PY'
import json, sys
answer = json.loads(sys.argv[1])
print(f"HTTP {answer['statusCode']}")
body = answer.get("body") or ""
try:
    body = json.loads(body)
except ValueError:
    print(body)
    sys.exit()
print(json.dumps(body, indent=2, ensure_ascii=False))
prompt = body.get("request", {}).get("body", {}).get("prompt")
if prompt:
    print("\n==> the prompt above, as Devin would read it:\n")
    print(prompt)
PY
