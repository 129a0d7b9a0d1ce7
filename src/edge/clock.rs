//! The clocks: the one a delivery's budget is measured with (tokio's, so that tests of the
//! retry loop can pause it and let time jump instead of sleeping), and wall-clock time for what
//! other instances read (leases in the ledger).

use std::time::Instant;

/// Now, as a `std` instant the pure core can compute with.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Wall-clock time in milliseconds since the epoch: what leases in the ledger are written in,
/// so that every instance reads them alike.
pub fn epoch_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64)
}
