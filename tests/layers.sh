#!/usr/bin/env bash
# The import rule of src/ (docs/design.md: The code map):
#   pure/       (the crate at the top level) no I/O crate in its manifest (by package name, for
#               any target; no build script); outside its unit tests no clock, environment,
#               files, processes, threads, sockets, standard streams or foreign code;
#   edge/       imports pure/ and edge/, never delivery/, follow_up/ or startup/;
#   delivery/   imports pure/, edge/ and delivery/, never follow_up/ or startup/;
#   follow_up/  imports pure/, edge/, delivery/ and follow_up/, never startup/;
#   startup/    may import everything; only the binaries and the tests import startup/;
#   connect/, policy_tool/  (the operator's commands) import pure/ only, and only their own
#               binaries (connect-pagerduty, policy) import them;
#   src/lib.rs  declares the layers and imports none of them.
# A layer re-exports (`pub use`, `pub(crate) use`, ...) only its own items, so no layer is reached
# through another; a layer's files lie in its folder; every .rs file under src/ and pure/src/ is
# compiled, so read. No two modules of a layer, or of the core, import each other (a module and
# the submodules it declares count as one). Unit tests are code of their layer.
#
# Checked by tests/layers/, a Rust test that reads what cargo compiles as rustc does (syn, every
# `mod` to its file, `#[path]` and `include!` too) and resolves every path (grouped, nested or
# glob `use`, `super::super::`, aliases, re-exports, paths in expressions, types, attributes and
# macros, over any number of lines) to the module that defines what it names. Its fixtures
# (tests/layers/fixtures/) break each rule in each of these ways. Prints each breach as
# file:line: rule; exits 1 if there is one.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# The feature `connect` as the test run of tests/run.sh: the same build serves both. The checker's
# own tests first, then the tree.
cargo test --quiet --features connect --test layers -- --skip the_bridge_keeps_its_layers
cargo test --quiet --features connect --test layers -- --nocapture --exact the_bridge_keeps_its_layers
