//! The pure core: bytes and structs in, decisions out.
//!
//! Everything here is deterministic and does no I/O: no network (`reqwest`), no AWS (`aws_*`),
//! no Lambda runtime (`lambda_*`), no async runtime (`tokio`), no clock reads, no files and no
//! environment. Whatever needs the time or the outside world takes it as an argument. A core
//! module imports only other core modules and plain data crates (`serde`, `http`'s types,
//! hashing). A crate of its own, so the compiler holds the rule: its manifest
//! (`pure/Cargo.toml`) names no I/O crate, and nothing here can name the bridge's outer layers.

//!
//! Grouped by the question a reader asks:
//! - [`inbound`]: what came in, and whether to trust it: the delivery's signature, its JSON, the
//!   secrets, the allowed sources, repeats, PagerDuty's timestamps and REST incidents;
//! - [`policy`]: the routing policy: which incidents reach Devin, with which brief, within which
//!   limits;
//! - [`text`]: every text that crosses to Devin or to the responders (the brief, the messages,
//!   the notes, the findings, the note commands) and the quoting that keeps PagerDuty's words data:
//!   the one place to audit prompt injection;
//! - [`life`]: an incident's life: its records, the state machine, the follow-up's decisions, the
//!   sweep, Devin's session phases;
//! - [`budget`]: time: each delivery's and each run's budget, backoff;
//! - [`metrics`]: what a delivery did, as CloudWatch metrics.

pub mod budget;
pub mod inbound;
pub mod life;
pub mod metrics;
pub mod policy;
pub mod text;

#[cfg(test)]
mod samples;
