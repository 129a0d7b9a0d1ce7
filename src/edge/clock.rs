//! The clock a delivery's budget is measured with: tokio's, so that tests of the retry loop can
//! pause it and let time jump instead of sleeping.

use std::time::Instant;

/// Now, as a `std` instant the pure core can compute with.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
