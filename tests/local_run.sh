#!/usr/bin/env bash
# events/invoke-locally.sh as a new user runs it: a good event answers, the follow-up's dry run
# reports, and a broken policy prints the function's own error (naming the policy's path) and
# exits non-zero within 30 s, never hanging. Run by tests/run.sh, after the build.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

output=$(events/invoke-locally.sh events/incident-triggered.json 2>&1)
grep -q '^HTTP 202$' <<<"$output" || { echo "local run: no 202 for the sample event"; echo "$output"; exit 1; }
output=$(events/invoke-locally.sh --follow-up 2>&1)
grep -q '^follow-up run: done, dry run: True' <<<"$output" || { echo "local run: the follow-up's dry run did not report"; echo "$output"; exit 1; }

broken=$(mktemp --suffix=.json)
trap 'rm -f "$broken"' EXIT
echo '{"rules": [{"name": "x", "when": {"urgency": ["urgent"]}}]}' >"$broken"
started=$SECONDS
set +e
output=$(timeout 60 events/invoke-locally.sh --policy "$broken" events/incident-triggered.json 2>&1)
status=$?
set -e
took=$((SECONDS - started))
echo "$output" | tail -n 2
[ "$status" -ne 0 ] && [ "$status" -ne 124 ] || { echo "local run: a broken policy exited $status"; exit 1; }
grep -q 'ROUTING_CONFIG: rules\[0\].when.urgency\[0\]: unknown variant `urgent`' <<<"$output" ||
  { echo "local run: the policy's error did not reach the person"; exit 1; }
[ "$took" -le 30 ] || { echo "local run: a broken policy took $took s"; exit 1; }
echo "local run: a broken policy is reported in $took s, exit $status"
