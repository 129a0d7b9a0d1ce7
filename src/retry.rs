//! Calls to Devin and PagerDuty inside a delivery's budget: failures a retry may fix are tried
//! again after a jittered backoff (or the `Retry-After` the service asked for), as long as the
//! budget leaves time for another call.

use std::collections::hash_map::RandomState;
use std::fmt::Display;
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use tracing::warn;

use crate::budget::{backoff, Budget, MIN_ATTEMPT};

/// What the retry loop needs to know of a failed call.
pub trait Transient: Display {
    /// Whether trying again may help (rate limits, server errors, connection failures).
    fn is_retryable(&self) -> bool;
    /// How long the service asked us to wait, if it said.
    fn retry_after(&self) -> Option<Duration>;
    /// The call ran out of time: the budget is spent.
    fn is_timeout(&self) -> bool;
}

/// Why a call did not succeed inside the budget.
#[derive(Debug)]
pub enum Failure<E> {
    /// The service's answer, which a retry inside this budget cannot change (including a
    /// `Retry-After` longer than the time left).
    Refused(E),
    /// No time left for another try.
    BudgetSpent,
}

/// What the calls cost: for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    pub calls: u32,
    pub errors: u32,
    /// Time spent in calls, waits between them excluded.
    pub latency: Duration,
}

/// Runs `attempt` (given the time left) until it succeeds, fails for good, or the budget ends.
/// `what` names the call in the retry log lines.
pub async fn within_budget<T, E, F, Fut>(
    what: &str,
    budget: Budget,
    stats: &mut CallStats,
    mut attempt: F,
) -> Result<T, Failure<E>>
where
    E: Transient,
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut retries = 0;
    loop {
        let left = budget.remaining(Instant::now());
        if left < MIN_ATTEMPT {
            return Err(Failure::BudgetSpent);
        }
        let started = Instant::now();
        let result = attempt(left).await;
        stats.calls += 1;
        stats.latency += started.elapsed();
        let err = match result {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        stats.errors += 1;
        if err.is_timeout() {
            return Err(Failure::BudgetSpent);
        }
        if !err.is_retryable() {
            return Err(Failure::Refused(err));
        }
        let delay = backoff(retries, err.retry_after(), random());
        if !budget.allows(Instant::now(), delay) {
            return Err(match err.retry_after() {
                // The service asked for more time than is left: pass its word on.
                Some(_) => Failure::Refused(err),
                None => Failure::BudgetSpent,
            });
        }
        warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "{what} failed; trying again inside the delivery budget");
        tokio::time::sleep(delay).await;
        retries += 1;
    }
}

/// Longest excerpt of an error body kept for the log.
const MAX_DETAIL_CHARS: usize = 300;

/// What a service's non-2xx answer tells: its status, the header saying how long to wait
/// (`wait_header`), and the start of its body.
pub async fn refusal(
    response: reqwest::Response,
    wait_header: &str,
) -> (
    reqwest::StatusCode,
    Option<reqwest::header::HeaderValue>,
    String,
) {
    let status = response.status();
    let wait = response.headers().get(wait_header).cloned();
    let body = response.text().await.unwrap_or_default();
    (status, wait, body.chars().take(MAX_DETAIL_CHARS).collect())
}

/// A header holding a number of seconds (`Retry-After`, PagerDuty's `ratelimit-reset`).
pub fn seconds(value: Option<&reqwest::header::HeaderValue>) -> Option<Duration> {
    let seconds = value?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

/// Randomness for backoff jitter, without a dependency: each `RandomState` is freshly keyed.
fn random() -> u64 {
    RandomState::new().build_hasher().finish()
}
