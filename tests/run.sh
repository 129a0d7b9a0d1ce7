#!/usr/bin/env bash
# Every check CI runs, from a fresh clone: installs what it needs, then formatting, lints, the
# import rule of src/, the single TLS stack, the template lint, the arm64 release build, a short
# fuzz run, the in-process tests, the replay, the model and the other process tests
# (CONTRIBUTING.md: Test tiers); and at the end, that the run changed nothing git tracks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# What git sees before the run: the run itself must not add to it.
tree_before=$(git status --porcelain 2>/dev/null || true)
source tests/tools.sh
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy --workspace --all-targets --all-features -- -D warnings"
cargo clippy --workspace --all-targets --all-features -- -D warnings
# The process tests (tests/bridge) are not among --all-targets: `test = false` in Cargo.toml.
cargo clippy --all-features --test bridge -- -D warnings

echo "==> the import rule of src/ (tests/layers.sh)"
bash tests/layers.sh

echo "==> the size rule: no function over 60 lines, no file over 350 (tests/sizes.py)"
python3 tests/sizes.py --self-test
python3 tests/sizes.py

echo "==> one TLS stack: rustls on hyper 1, nothing else"
tree=$(cargo tree -e normal --target aarch64-unknown-linux-gnu --prefix none --format '{p}' | sed 's/ (.*//' | sort -u)
grep -E '^(rustls|hyper|hyper-rustls|tokio-rustls|aws-lc-rs) ' <<<"$tree"
[ "$(grep -c '^rustls v' <<<"$tree")" = 1 ] || { echo "more than one rustls"; exit 1; }
[ "$(grep -c '^hyper v1\.' <<<"$tree")" = 1 ] || { echo "hyper 1 missing or doubled"; exit 1; }
if grep -E '^(hyper v0\.|native-tls|openssl|openssl-sys|hyper-tls|ring) ' <<<"$tree"; then
  echo "a second TLS or HTTP stack is in the tree"; exit 1
fi

echo "==> cfn-lint, sam validate --lint and checkov"
cfn-lint template.yaml
sam validate --lint
install_pinned "$PWD/.venv-checkov" "$PWD/tests/requirements-checkov.txt"
# Each deliberate exception is recorded next to its resource in template.yaml, with its reason.
.venv-checkov/bin/checkov --quiet --compact --skip-download --framework cloudformation -f template.yaml

echo "==> sam build (cargo-lambda and its Zig, no Docker)"
sam build

echo "==> cargo lambda build --release --arm64 (both functions)"
cargo lambda build --release --arm64 --bin bootstrap --bin follow-up
# 5.66 MB before the ledger; the DynamoDB client added 0.38 MB (6.03 MB), unwinding (so a panic
# fails one invocation, not the instance) 0.69 MB (6.72 MB), storms and deferrals reached 6.99 MB
# at opt-level "s"; "z" brought it to 6.32 MB; alerts, note commands and the compiled-in roots
# 6.59 MB; the roots compiled in already parsed 6.52 MB. The limit is the 7 MB budget: room for small changes, not for a second HTTP stack or
# an unneeded SDK. The follow-up function's binary shares the same code and the same limit.
for binary in bootstrap follow-up; do
  size=$(stat -c %s "target/lambda/$binary/bootstrap")
  echo "$binary (arm64): $size bytes"
  [ "$size" -le 7000000 ] || { echo "the arm64 $binary is over 7 MB"; exit 1; }
done

echo "==> cargo fuzz: verify_and_parse and function_url_event, 15 s each (stable Rust, no sanitizer)"
[ "$(cargo fuzz --version 2>/dev/null)" = "cargo-fuzz 0.13.2" ] ||
  cargo install cargo-fuzz --version 0.13.2 --locked --quiet
(cd fuzz && cargo fuzz run -s none verify_and_parse -- -max_total_time=15 2>&1 | tail -n 5)
# The handler prints a metrics line per event: stdout is closed (-close_fd_mask=1).
(cd fuzz && cargo fuzz run -s none function_url_event -- -max_total_time=15 -close_fd_mask=1 2>&1 | tail -n 5)

echo "==> cargo fast: the unit tests and the in-process tests (tests/in_process)"
# Benches are compiled by clippy above and run by hand (docs/design.md: Performance).
cargo fast

echo "==> the 1,000-delivery replay, with its figures"
bash tests/process.sh replay:: -- --nocapture

echo "==> the model-based test of an incident's life, both ledgers, with its figures and seed"
# One seed, the same stories every run, so that a run fails for a change and not for a story no
# run met before; unset MODEL_SEED (or choose another) to look further, as docs/design.md says.
MODEL_SEED="${MODEL_SEED:-20261130}" bash tests/process.sh model:: -- --nocapture

echo "==> the process tests (tests/bridge), but the replay and the model above"
bash tests/process.sh -- --skip replay:: --skip model::

echo "==> the local run: a sample event, the follow-up's dry run, a broken policy reported in 30 s"
bash tests/local_run.sh

echo "==> the run left the tree as it found it"
tree_after=$(git status --porcelain 2>/dev/null || true)
if [ "$tree_before" != "$tree_after" ]; then
  echo "the run changed files git tracks or sees:"
  diff <(echo "$tree_before") <(echo "$tree_after") || true
  exit 1
fi
