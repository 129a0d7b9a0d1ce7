//! Every integration test of the bridge, in one test binary: each binary links the whole crate
//! and its dependencies, so one binary builds once.
//!
//! Real parts on loopback (`support`): a Devin API fake, a PagerDuty REST fake, a `moto_server`
//! for Secrets Manager, and a Lambda Runtime API emulator that runs the built `bootstrap`
//! exactly as Lambda runs it.

mod support;

mod alerts;
mod command_text;
mod commands;
#[cfg(feature = "connect")]
mod connect;
mod connection_reuse;
mod delivery_guarantees;
mod deployment;
mod devin_create;
mod docs;
mod follow_up;
mod follow_up_run;
mod group_ledger;
mod handler;
mod hostile;
mod incident_life;
mod lambda_e2e;
mod ledger;
mod ledger_conformance;
mod ledger_robustness;
mod model;
mod pagerduty_loop;
mod pagerduty_rest;
mod pagerduty_vectors;
mod policy_tool;
mod properties;
mod record_time;
mod refusals;
mod remote_calls;
mod replay;
mod routing;
mod secret_refresh;
mod shared_groups;
mod storms;
mod tag_validation;
mod tls;
