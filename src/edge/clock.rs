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

/// The clock a part of the delivery is given, so that its tests can fix wall time: the
/// system's ([`epoch_ms`], moved by [`WALL_CLOCK_SHIFT_MS`] when set), or one that always reads
/// the same epoch milliseconds. Instants ([`now`], what budgets are measured with) are tokio's
/// either way: a test pauses tokio's time to move them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    #[default]
    System,
    /// Wall time stands still at these milliseconds since the epoch.
    Fixed(u64),
}

impl Clock {
    /// Now, for budgets: tokio's instant, whatever the clock.
    pub fn now(&self) -> Instant {
        now()
    }

    /// Wall-clock time in milliseconds since the epoch.
    pub fn epoch_ms(&self) -> u64 {
        match self {
            Clock::System => epoch_ms(),
            Clock::Fixed(epoch_ms) => *epoch_ms,
        }
    }
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

    #[tokio::test]
    async fn a_fixed_clock_reads_the_same_wall_time_and_the_system_clock_moves_with_the_shift() {
        assert_eq!(Clock::Fixed(42).epoch_ms(), 42);
        let moved = WALL_CLOCK_SHIFT_MS
            .scope(1_000_000, async { Clock::System.epoch_ms() })
            .await;
        assert!(moved >= epoch_ms() + 999_000);
        assert_eq!(
            WALL_CLOCK_SHIFT_MS
                .scope(1, async { Clock::Fixed(7).epoch_ms() })
                .await,
            7
        );
    }
}
