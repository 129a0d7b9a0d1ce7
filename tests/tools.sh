# Sourced by tests/run.sh and events/invoke-locally.sh: installs the Python-packaged tools into
# .venv (git-ignored) and the arm64 Rust target, once, and puts them on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.venv"
tools=(cargo-lambda aws-sam-cli cfn-lint "moto[server]")
if [ ! -x "$venv/bin/moto_server" ] || [ ! -x "$venv/bin/sam" ] || [ ! -x "$venv/bin/cargo-lambda" ] || [ ! -x "$venv/bin/cfn-lint" ]; then
  echo "==> installing ${tools[*]} into .venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "${tools[@]}"
fi
export PATH="$venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export MOTO_SERVER="$venv/bin/moto_server"
