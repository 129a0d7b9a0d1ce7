//! PagerDuty Generic Webhooks (v3) in, Devin investigations out.
//!
//! Five layers, imports pointing one way (`tests/layers.sh` checks it):
//! - the core, the crate `pure` (`pure/`): verify, parse, decide, write the texts; bytes and
//!   structs in, decisions out, no I/O and no clock (its own crate: the compiler holds that);
//! - [`edge`]: the outside world: the Devin and PagerDuty clients, the secrets store, the retry
//!   loop they share; imports the core only;
//! - [`delivery`]: one webhook request, start to finish, orchestrating the core and the edges;
//! - [`follow_up`]: one scheduled run of the follow-up function (findings and questions on the
//!   incidents, deferred starts, the sweep), reusing the delivery's path to start sessions;
//! - [`startup`]: what a cold start builds once, for every entry point;
//! - [`policy_tool`] and `connect` (feature `connect`): the operator's commands (`policy`,
//!   `connect-pagerduty`), beside the functions, on the core alone.
//!
//! The binaries (`src/main.rs`, the webhook; `src/bin/follow_up.rs`) hold only process and
//! Lambda glue.

#[cfg(feature = "connect")]
pub mod connect;
pub mod delivery;
pub mod edge;
pub mod follow_up;
pub mod policy_tool;
pub mod startup;
