#!/usr/bin/env bash
# Runs the bridge on this machine, as Lambda would, in dry-run mode.
#   events/invoke-locally.sh [--policy config/<policy>.json] [events/<file>.json]
#     The webhook function on one sample event (events/incident-triggered.json by default): it
#     prints the function's answer, including the exact session request it would send to Devin.
#   events/invoke-locally.sh --follow-up [--policy config/<policy>.json]
#     One run of the follow-up function (events/scheduled.json): it prints the notes it would
#     post and the sessions it would start, and posts, starts and records nothing. Point it at
#     a deployment to see what the next run will do: export LEDGER_TABLE (and AWS credentials),
#     DEVIN_API_KEY, PAGERDUTY_API_TOKEN and PAGERDUTY_FROM_EMAIL first; they win over
#     events/local/local.env. Without them it reads an empty ledger and does not sweep.
# --policy sets ROUTING_CONFIG from a file. `cargo lambda watch` emulates the Lambda Runtime API
# (the twin of `sam local invoke`, without Docker).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
function=bootstrap
event=events/incident-triggered.json
while [ $# -gt 0 ]; do
  case $1 in
    --follow-up) function=follow-up; event=events/scheduled.json; shift ;;
    --policy)
      [ -f "${2:-}" ] || { echo "usage: $0 [--follow-up] [--policy FILE] [EVENT]" >&2; exit 2; }
      # Compact JSON on one line, as the ROUTING_CONFIG variable holds it.
      ROUTING_CONFIG=$(python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))))' "$2")
      export ROUTING_CONFIG
      shift 2 ;;
    *) event=$1; shift ;;
  esac
done
source tests/tools.sh

# The function sees this shell's environment, and events/local/local.env over it, except where
# this shell exported the variable: then the exported value wins.
env_file=$(mktemp)
log=$(mktemp)
answer_file=$(mktemp)
watch_pid=
trap '[ -n "$watch_pid" ] && { kill $watch_pid 2>/dev/null; wait $watch_pid 2>/dev/null; }; rm -f "$log" "$env_file" "$answer_file"' EXIT
grep -vE '^\s*(#|$)' events/local/local.env | while IFS='=' read -r name value; do
  echo "$name=${!name:-$value}"
done >"$env_file"

port=${LOCAL_INVOKE_PORT:-9000}
echo "==> building the function ($function)"
cargo build --quiet --bin "$function"
cargo lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" --env-file "$env_file" >"$log" 2>&1 &
watch_pid=$!
for _ in $(seq 1 600); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $watch_pid 2>/dev/null || { cat "$log"; exit 1; }
  sleep 0.1
done

echo "==> invoking with $event"
# The invocation runs in the background while its log is watched: a cold start that fails
# (a wrong setting, a policy mistake) is reported at once with the function's own line, and
# nothing waits longer than LOCAL_INVOKE_TIMEOUT seconds.
cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" --data-file "$event" "$function" \
  >"$answer_file" 2>&1 &
invoke_pid=$!
deadline=$((SECONDS + ${LOCAL_INVOKE_TIMEOUT:-120}))
while kill -0 $invoke_pid 2>/dev/null; do
  if grep -q "cold start failed" "$log"; then
    kill $invoke_pid 2>/dev/null
    echo "==> the function's cold start failed:" >&2
    grep "cold start failed" "$log" | sed -e 's/^.*cold start failed error=/  /' -e 's/^.*cold start failed /  /' >&2
    exit 1
  fi
  if [ $SECONDS -ge $deadline ]; then
    kill $invoke_pid 2>/dev/null
    echo "==> no answer within ${LOCAL_INVOKE_TIMEOUT:-120} s; the function's log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  sleep 0.2
done
if ! wait $invoke_pid; then
  echo "==> the invocation failed:" >&2
  cat "$answer_file" >&2
  tail -n 20 "$log" >&2
  exit 1
fi
answer=$(cat "$answer_file")
python3 - "$answer" <<'PY'
import json, sys
answer = json.loads(sys.argv[1])
if "errorMessage" in answer:
    print(f"==> the function failed: {answer.get('errorType')}: {answer['errorMessage']}", file=sys.stderr)
    sys.exit(1)
if "actions" in answer:
    # The follow-up's report: what it would post and start.
    print(f"follow-up run: {answer['status']}, dry run: {answer['dry_run']}, "
          f"sessions checked: {answer['sessions_checked']}, errors: {answer['errors']}")
    for action in answer["actions"]:
        print(f"\n--- {action['incident_id']}: {action['action']}")
        detail = action.get("detail")
        if isinstance(detail, str):
            print(detail)
        elif detail is not None:
            print(json.dumps(detail, indent=2, ensure_ascii=False))
    if not answer["actions"]:
        print("nothing to post or start")
    sys.exit()
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
