//! The delivery: one webhook request, start to finish. It orchestrates the pure core and the
//! edges: checks the request, verifies it, parses it, asks the routing policy, and starts (or
//! finds, or shows) the Devin session or forwards the event to it, inside the delivery's time
//! budget. Every way it can end is an [`Outcome`].
//!
//! - [`bridge`]: what a delivery needs, built once per cold start;
//! - [`function_url`]: the Function URL's event in, its answer out, without building a URI;
//! - [`entry`]: the request's shape, parsing, freshness, repeats and dispatch;
//! - [`checks`]: the source, the secret header and the signature, with refresh on rotation;
//! - [`investigate`]: a triggered incident: decide, defer or claim, then start or find its
//!   session (the follow-up's sweep starts missed incidents here too);
//! - [`claims`]: the ledger's claims and records, inside the budget;
//! - [`start`]: a claimed incident's session: looked up, counted against the limits, created;
//! - [`untagged`]: the create and the lookup that work where Devin refuses per-incident tags;
//! - [`group`]: storm grouping: join the group's open session, or lead a new one;
//! - [`members`]: a group session's open members: it ends only when the last one leaves;
//! - [`merge`]: a merged incident's session handed to the incident it went into;
//! - [`forward`]: a note, resolve, reopen or status change, passed on to the session;
//! - [`notes`]: a note on an incident, posted once even when PagerDuty's answer is ambiguous;
//! - [`commands`]: a responder's note command (`devin investigate`, `stop`, `status`, ...);
//! - [`calls`]: the Devin and PagerDuty calls with their budget, retries and refresh on 401;
//! - [`outcome`]: every answer the function gives.
//!
//! The delivery imports the core and the edges, never the follow-up or startup.
//! `tests/layers.sh` enforces it.

// Helpers return `Err(Outcome)` to end a delivery early: the outcome is built once per delivery
// and moved to the answer, so boxing it would buy nothing.
#![allow(clippy::result_large_err)]

pub mod bridge;
mod calls;
mod checks;
mod claims;
mod commands;
pub mod entry;
mod forward;
pub mod function_url;
mod group;
mod investigate;
mod members;
mod merge;
pub(crate) mod notes;
pub mod outcome;
mod plan;
mod start;
mod untagged;

pub use bridge::{Bridge, Options};
pub use outcome::Outcome;
