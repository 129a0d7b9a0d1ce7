//! The in-process tests: the bridge and its parts in this process, with the Devin and
//! PagerDuty fakes on loopback; no `moto_server`, no built binary, no other process. With the
//! unit tests, the inner loop (`cargo fast`, CONTRIBUTING.md: Test tiers): seconds once built.
//! The tests that need moto, openssl or the built binaries are in `tests/bridge`.

// Shared by both test binaries (and benches/runtime.rs): each uses a part of it.
#[allow(dead_code)]
#[path = "../support/mod.rs"]
mod support;

mod alerts;
mod correlated;
mod deployment;
mod devin_create;
mod docs;
mod handler;
mod hostile;
mod incident_life;
mod pagerduty_rest;
mod pagerduty_vectors;
mod properties;
mod remote_calls;
mod routing;

// The ledger conformance suite: its bodies (`tests/ledger_conformance/`) and, here, their run
// on the memory ledger; `tests/bridge` runs them on DynamoDB.
#[path = "../ledger_conformance/mod.rs"]
mod ledger_suite;
mod ledger_conformance {
    crate::ledger_suite::conformance!(memory);
}
