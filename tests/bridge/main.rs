//! The process tests: each needs a process besides the test binary. A `moto_server` for the
//! DynamoDB ledger and Secrets Manager (`support/moto.rs`), the built binaries (`bootstrap` and
//! `follow-up` under the Lambda Runtime API emulator, exactly as Lambda runs them; `policy`;
//! `connect-pagerduty`), or `openssl s_server`. (The model-based test's stories on the memory
//! ledger need none, but take minutes beside their DynamoDB twin: they stay with it.)
//!
//! Not run by a plain `cargo test` (`test = false` in Cargo.toml), which needs nothing
//! installed: `tests/process.sh` installs moto and runs them (CONTRIBUTING.md: Test tiers). The
//! in-process tests are in `tests/in_process`. One binary: each links the whole crate.

// Shared by both test binaries (and benches/runtime.rs): each uses a part of it.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

// The ledger conformance suite (`tests/ledger_conformance/`) on DynamoDB; `tests/in_process`
// runs it on the memory ledger.
#[path = "../ledger_conformance/mod.rs"]
mod ledger_suite;
mod ledger_conformance {
    crate::ledger_suite::conformance!(dynamo);
}

mod command_text;
mod commands;
#[cfg(feature = "connect")]
mod connect;
mod connection_reuse;
mod custom_fields;
mod delivery_guarantees;
mod follow_up;
mod follow_up_run;
mod group_ledger;
mod hostile;
mod incident_life;
mod lambda_e2e;
mod ledger;
mod ledger_robustness;
mod model;
mod pagerduty_loop;
mod pagerduty_rest;
mod policy_tool;
mod postmortem;
mod postmortem_ended;
mod record_time;
mod refusals;
mod replay;
mod secret_refresh;
mod shared_groups;
mod storms;
mod tag_validation;
mod tls;
