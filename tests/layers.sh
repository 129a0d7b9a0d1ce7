#!/usr/bin/env bash
# The import rule of src/ (docs/design.md: The code map), checked by reading the sources:
#   pure/       (the crate at the top level) no I/O crate in its manifest, no clock, environment, files;
#   edge/       imports pure/ and edge/, never delivery/, follow_up/ or startup/;
#   delivery/   imports pure/, edge/ and delivery/, never follow_up/ or startup/;
#   follow_up/  imports pure/, edge/, delivery/ and follow_up/, never startup/;
#   startup/    may import everything; only the binaries and the tests import startup/;
#   connect/, policy_tool/  (the operator's commands) import pure/ only, and nothing imports them.
# And no two modules import each other. Prints each breach; exits 1 if there is one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../src"

failed=0
breach() { echo "layers: $*"; failed=1; }

# Lines of a module's own code (its unit tests excluded) that match a pattern; comments skipped.
code() {
  awk '/^#\[cfg\(test\)\]/ { exit } { printf "%d:%s\n", NR, $0 }' "$1" |
    grep -E "$2" | grep -vE '^[0-9]+:\s*//' || true
}

# The core is the crate pure/: the compiler keeps it from naming the outer layers, and its
# manifest keeps it from I/O crates; std's clock, environment, files and sockets it could still
# reach are read here.
allowed_core_deps=" http serde serde_json subtle hmac sha2 hex thiserror regex-lite serde_path_to_error "
for dep in $(awk '/^\[/ { on = ($0 == "[dependencies]") ; next } on && /^[a-z]/ { print $1 }' ../pure/Cargo.toml); do
  [[ $allowed_core_deps == *" $dep "* ]] || breach "pure/Cargo.toml: the core depends on $dep, not a plain data crate"
done
for file in $(find ../pure/src -name '*.rs'); do
  while read -r line; do [ -n "$line" ] && breach "${file#../}:$line: the pure core reads the clock or the system"; done \
    < <(code "$file" '(Instant|SystemTime)::now|std::(env|fs|process|thread)\b|std::net::(Tcp|Udp)')
done
for file in $(find edge -name '*.rs'); do
  while read -r line; do [ -n "$line" ] && breach "$file:$line: an edge imports an outer layer"; done \
    < <(code "$file" 'crate::(delivery|follow_up|startup|connect)\b')
done
for file in $(find delivery -name '*.rs'); do
  while read -r line; do [ -n "$line" ] && breach "$file:$line: the delivery imports an outer layer"; done \
    < <(code "$file" 'crate::(follow_up|startup)\b')
done
for file in $(find connect policy_tool -name '*.rs'); do
  while read -r line; do [ -n "$line" ] && breach "$file:$line: an operator's command imports more than the core"; done \
    < <(code "$file" 'crate::(edge|delivery|follow_up|startup)\b')
done
for file in $(find . -name '*.rs' ! -path './connect/*' ! -path './policy_tool/*' ! -path './bin/*' ! -name lib.rs); do
  while read -r line; do [ -n "$line" ] && breach "$file:$line: only their binaries import the operator's commands"; done \
    < <(code "$file" 'crate::(connect|policy_tool)\b')
done
for file in $(find follow_up -name '*.rs'); do
  while read -r line; do [ -n "$line" ] && breach "$file:$line: the follow-up imports startup"; done \
    < <(code "$file" 'crate::startup\b')
done

# The module a file is: src/pure/policy/load.rs is pure::policy::load, src/edge/mod.rs is edge.
module_of() {
  local path=${1%.rs}
  path=${path%/mod}
  echo "${path//\//::}"
}
# The module a path names: its longest prefix that is a module of src/.
declare -A is_module=()
for file in $(find . -name '*.rs' ! -name main.rs ! -name lib.rs ! -path './bin/*'); do
  is_module[$(module_of "${file#./}")]=1
done
resolve() {
  local path=$1
  while [ -n "$path" ]; do
    [ -n "${is_module[$path]:-}" ] && { echo "$path"; return; }
    [[ $path == *::* ]] || return 0
    path=${path%::*}
  done
}

# Which modules each module imports (crate:: and super:: paths), then every pair both ways.
declare -A imports=()
for file in $(find . -name '*.rs' ! -name main.rs ! -name lib.rs ! -path './bin/*'); do
  file=${file#./}
  self=$(module_of "$file")
  parent=${self%::*}
  [ "$parent" = "$self" ] && parent=""
  for path in $(grep -vE '^\s*//' "$file" | grep -oE '\b(crate|super)::[a-z_]+(::[a-z_]+)*' | sort -u); do
    case $path in
      crate::*) path=${path#crate::} ;;
      super::*) path=$parent::${path#super::}; path=${path#::} ;;
    esac
    target=$(resolve "$path")
    [ -n "$target" ] && [ "$target" != "$self" ] && imports[$self]+=" $target"
  done
done
for a in "${!imports[@]}"; do
  for b in ${imports[$a]}; do
    if [[ " ${imports[$b]:-} " == *" $a "* ]] && [[ $a < $b ]]; then
      breach "$a and $b import each other"
    fi
  done
done

[ "$failed" = 0 ] && echo "layers: pure (a crate) <- edge <- delivery <- follow_up <- startup, the operator's commands on pure alone, no module pair imports each other"
exit "$failed"
