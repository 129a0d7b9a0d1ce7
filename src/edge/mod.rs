//! The edges: everything that talks to the outside world. The Devin and PagerDuty REST clients,
//! the secrets store (Secrets Manager), the ledger (DynamoDB), the one retry loop their calls
//! share, the clocks, and the one way `std` locks are taken ([`lock`]).
//!
//! An edge imports the pure core and I/O crates (`reqwest`, `aws_*`, `tokio`), never the
//! delivery or startup, and no edge imports another except the retry loop, the clocks, the
//! URL builder and the lock, which the clients share. `tests/layers.sh` checks the direction.

pub mod clock;
pub mod devin;
pub mod ledger;
pub mod lock;
pub mod pagerduty;
pub mod retry;
pub mod secrets_store;
pub mod url;
