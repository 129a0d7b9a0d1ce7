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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_test_moves_wall_time_inside_its_scope_and_nowhere_else() {
        const HOUR_MS: u64 = 3_600_000;
        let before = epoch_ms();
        let moved = WALL_CLOCK_SHIFT_MS
            .scope(HOUR_MS, async { epoch_ms() })
            .await;
        let after = epoch_ms();
        assert!(
            moved >= before + HOUR_MS,
            "moved by an hour inside the scope"
        );
        assert!(after < before + HOUR_MS, "not outside it");
    }
}
