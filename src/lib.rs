//! PagerDuty Generic Webhooks (v3) in, Devin investigations out.
//!
//! The pure core ([`verify`], [`incident`], [`route`], [`template`], [`brief`], [`budget`],
//! [`recent`], [`metrics`]) works on bytes and structs and does no I/O; [`secrets`], [`devin`]
//! and [`pagerduty`] are the edges, built once per cold start by `main.rs` and borrowed by
//! [`handler::Bridge`] for every delivery; [`retry`] keeps their calls inside a delivery's
//! budget.

pub mod brief;
pub mod budget;
pub mod devin;
pub mod handler;
pub mod incident;
pub mod metrics;
pub mod pagerduty;
pub mod recent;
pub mod retry;
pub mod route;
pub mod secrets;
pub mod settings;
pub mod template;
pub mod verify;
