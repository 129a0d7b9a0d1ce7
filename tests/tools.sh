# Sourced by tests/run.sh and events/invoke-locally.sh: installs the pinned Python tools
# (tests/requirements.txt into .venv, tests/requirements-checkov.txt into .venv-checkov; both
# git-ignored) when their requirements changed, and puts them on PATH.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Installs `requirements` into the venv `dir` unless it already holds exactly those.
install_pinned() {
  local dir=$1 requirements=$2
  local stamp="$dir/installed-from.sha256"
  local wanted
  wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "==> installing the tools pinned in ${requirements#"$root"/} into ${dir#"$root"/}"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check --no-deps -r "$requirements"
    echo "$wanted" > "$stamp"
  fi
}

install_pinned "$root/.venv" "$root/tests/requirements.txt"
export PATH="$root/.venv/bin:$PATH"
export SAM_CLI_TELEMETRY=0
export MOTO_PYTHON="$root/.venv/bin/python"
