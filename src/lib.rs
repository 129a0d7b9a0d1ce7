//! PagerDuty Generic Webhooks (v3) in, Devin investigations out.
//!
//! Four layers, imports pointing one way (`tests/layers.sh` checks it):
//! - [`pure`]: the core: verify, parse, decide, write the brief; bytes and structs in,
//!   decisions out, no I/O and no clock;
//! - [`edge`]: the outside world: the Devin and PagerDuty clients, the secrets store, the retry
//!   loop they share; imports the core only;
//! - [`delivery`]: one webhook request, start to finish, orchestrating the core and the edges;
//! - [`startup`]: what a cold start builds once, for every entry point.
//!
//! The binaries (`src/main.rs`) hold only process and Lambda glue.

pub mod delivery;
pub mod edge;
pub mod pure;
pub mod startup;
