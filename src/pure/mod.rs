//! The pure core: bytes and structs in, decisions out.
//!
//! Everything here is deterministic and does no I/O: no network (`reqwest`), no AWS (`aws_*`),
//! no Lambda runtime (`lambda_*`), no async runtime (`tokio`), no clock reads, no files and no
//! environment. Whatever needs the time or the outside world takes it as an argument. A core
//! module imports only other core modules and plain data crates (`serde`, `http`'s types,
//! hashing); `tests/layers.sh` enforces it.

pub mod alerts;
pub mod brief;
pub mod budget;
pub mod commands;
pub mod event_types;
pub mod findings;
pub mod follow;
pub mod ledger;
pub mod life;
pub mod lookup;
pub mod members;
pub mod messages;
pub mod metrics;
pub mod notes;
pub mod policy;
pub mod pushed;
pub mod quote;
pub mod recent;
pub mod refusal;
pub mod responder_context;
pub mod rest_incident;
pub mod route;
pub mod secret;
pub mod session;
pub mod sources;
pub mod spend;
pub mod subscribed;
pub mod subscription;
pub mod sweep;
pub mod tag_refusal;
pub mod template;
pub mod throttle;
pub mod timestamp;
pub mod verify;
pub mod webhook;

#[cfg(test)]
mod samples;
