#!/usr/bin/env bash
# The process tests (tests/bridge): the built binaries under the Lambda Runtime API emulator,
# `moto_server` for DynamoDB and Secrets Manager, `openssl s_server` (CONTRIBUTING.md: Test
# tiers). Installs the pinned tools, moto among them, when they changed (tests/tools.sh), then
#   cargo test --features connect --test bridge [ARGS...]
# ARGS are cargo test's: a filter, `-- --nocapture`, ... Without any, every process test, the
# 1,000-delivery replay and the model-based test included; tests/run.sh runs those two apart,
# with their figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source tests/tools.sh
exec cargo test --features connect --test bridge "$@"
