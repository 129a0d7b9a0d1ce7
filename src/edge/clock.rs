//! The clocks: the one a delivery's budget is measured with (tokio's, so that tests of the
//! retry loop can pause it and let time jump instead of sleeping), and wall-clock time for what
//! other instances read (leases in the ledger).

use std::time::Instant;

tokio::task_local! {
    /// Milliseconds added to [`epoch_ms`] inside the scope: it exists for tests to move wall
    /// time (a lease running out, a deferral coming due) without waiting for it. Nothing in
    /// production sets it, and no work of the crate is spawned onto other tasks, so a scope
    /// covers everything a delivery or a follow-up run does.
    pub static WALL_CLOCK_SHIFT_MS: u64;
}

/// Now, as a `std` instant the pure core can compute with.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// Wall-clock time in milliseconds since the epoch: what leases in the ledger are written in,
/// so that every instance reads them alike. Moved by [`WALL_CLOCK_SHIFT_MS`] when set.
pub fn epoch_ms() -> u64 {
    let real = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as u64);
    real + WALL_CLOCK_SHIFT_MS.try_with(|shift| *shift).unwrap_or(0)
}
