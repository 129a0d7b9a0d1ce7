//! Calls to Devin and PagerDuty inside a delivery's budget: failures a retry may fix are tried
//! again after a jittered backoff (never shorter, whatever `Retry-After` the service asked for),
//! at most [`MAX_ATTEMPTS`] times, as long as the budget leaves time for another call.

use std::collections::hash_map::RandomState;
use std::fmt::{self, Display};
use std::future::Future;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::StatusCode;
use tracing::warn;

use crate::edge::clock;
use pure::budget::{backoff, Budget, MIN_ATTEMPT};

/// What the retry loop needs to know of a failed call.
pub trait Transient: Display {
    /// Whether trying again may help (rate limits, server errors, connection failures).
    fn is_retryable(&self) -> bool;
    /// How long the service asked us to wait, if it said.
    fn retry_after(&self) -> Option<Duration>;
    /// The call ran out of time: the budget is spent.
    fn is_timeout(&self) -> bool;
}

/// One call is tried at most this often in a delivery, however short the waits between.
pub const MAX_ATTEMPTS: u32 = 5;

/// Why a call did not succeed inside the budget.
#[derive(Debug)]
pub enum Failure<E> {
    /// A failure a retry inside this budget cannot change: the service's answer (including a
    /// `Retry-After` longer than the time left), or an answer that made no sense.
    Final(E),
    /// The last call ran out of time before the service answered: it may have done what was
    /// asked.
    TimedOut,
    /// No time (or no attempt) left for another try; the last call failed without an answer
    /// that says anything was done.
    BudgetSpent,
}

impl<E: Display> Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Final(err) => err.fmt(f),
            Failure::TimedOut | Failure::BudgetSpent => f.write_str("the delivery budget ran out"),
        }
    }
}

/// What the calls cost: for the metrics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    pub calls: u32,
    pub errors: u32,
    /// Time spent in calls, waits between them excluded.
    pub latency: Duration,
}

/// Runs `attempt` (given the time left) until it succeeds, fails for good, or the budget or the
/// attempts end. Only failures `retryable` accepts are tried again (usually
/// [`Transient::is_retryable`]; a create that must not happen twice accepts fewer). `what`
/// names the call in the retry log lines.
pub async fn within_budget<T, E, F, Fut>(
    what: &str,
    budget: Budget,
    stats: &mut CallStats,
    retryable: fn(&E) -> bool,
    mut attempt: F,
) -> Result<T, Failure<E>>
where
    E: Transient,
    F: FnMut(Duration) -> Fut,
    Fut: Future<Output = Result<T, E>>,
{
    let mut retries = 0;
    loop {
        let left = budget.remaining(clock::now());
        if left < MIN_ATTEMPT {
            return Err(Failure::BudgetSpent);
        }
        let started = clock::now();
        let result = attempt(left).await;
        stats.calls += 1;
        stats.latency += clock::now() - started;
        let err = match result {
            Ok(value) => return Ok(value),
            Err(err) => err,
        };
        stats.errors += 1;
        if err.is_timeout() {
            return Err(Failure::TimedOut);
        }
        if !retryable(&err) {
            return Err(Failure::Final(err));
        }
        let delay = backoff(retries, err.retry_after(), random());
        if retries + 1 >= MAX_ATTEMPTS || !budget.allows(clock::now(), delay) {
            return Err(match err.retry_after() {
                // The service asked for more time than is left: pass its word on.
                Some(_) => Failure::Final(err),
                None => Failure::BudgetSpent,
            });
        }
        warn!(error = %err, retry_in_ms = delay.as_millis() as u64, "{what} failed; trying again inside the delivery budget");
        tokio::time::sleep(delay).await;
        retries += 1;
    }
}

/// The most of an error body read. Enough for a validation error that echoes the whole
/// request back (a prompt carries up to 8 KiB of alert evidence, JSON-escaped), so that it
/// still parses (`pure::text::refusal`); what a log line or a note shows is cut after parsing.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// A service's non-2xx answer, as the clients read it.
#[derive(Debug)]
pub struct Refusal {
    pub status: StatusCode,
    /// The header saying how long to wait, when the service sent it.
    pub wait: Option<HeaderValue>,
    /// The answer's body, up to [`MAX_BODY_BYTES`]; it may quote secrets back.
    pub body: String,
}

/// Reads a non-2xx `response`: its status, the header named `wait_header` that says how long
/// to wait (`Retry-After`, PagerDuty's `ratelimit-reset`), and its body up to
/// [`MAX_BODY_BYTES`] (a larger one is not read further).
pub async fn read_refusal(mut response: reqwest::Response, wait_header: &str) -> Refusal {
    let status = response.status();
    let wait = response.headers().get(wait_header).cloned();
    let mut body = Vec::new();
    while body.len() < MAX_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(MAX_BODY_BYTES);
    Refusal {
        status,
        wait,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// A header holding a number of seconds (`Retry-After`, PagerDuty's `ratelimit-reset`).
pub fn seconds(value: Option<&HeaderValue>) -> Option<Duration> {
    let seconds = value?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(seconds))
}

/// Randomness for backoff jitter and claim holders, without a dependency: each `RandomState` is
/// freshly keyed.
pub fn random() -> u64 {
    RandomState::new().build_hasher().finish()
}

#[cfg(test)]
mod tests {
    //! The loop under tokio's paused clock: waits are virtual, so these run in no time and
    //! measure exactly how long the loop waited.

    use std::cell::RefCell;

    use super::*;

    /// A scripted failure: retryable or not, with an optional wait asked for.
    #[derive(Debug, Clone, Copy)]
    enum Scripted {
        Busy(Option<u64>),
        Refused,
        TimedOut,
    }

    impl Display for Scripted {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "{self:?}")
        }
    }

    impl Transient for Scripted {
        fn is_retryable(&self) -> bool {
            matches!(self, Scripted::Busy(_))
        }
        fn retry_after(&self) -> Option<Duration> {
            match self {
                Scripted::Busy(seconds) => seconds.map(Duration::from_secs),
                _ => None,
            }
        }
        fn is_timeout(&self) -> bool {
            matches!(self, Scripted::TimedOut)
        }
    }

    /// Runs the loop over `script` (then success) inside `budget`: the result, the stats, the
    /// virtual time it took.
    async fn run(
        budget: Duration,
        script: &[Scripted],
    ) -> (Result<u32, Failure<Scripted>>, CallStats, Duration) {
        let started = clock::now();
        let budget = Budget::new(started, budget, None);
        let left = RefCell::new(script.iter().copied());
        let mut stats = CallStats::default();
        let result = within_budget(
            "test call",
            budget,
            &mut stats,
            Scripted::is_retryable,
            |_| {
                let next = left.borrow_mut().next();
                async move {
                    match next {
                        Some(failure) => Err(failure),
                        None => Ok(7),
                    }
                }
            },
        )
        .await;
        (result, stats, clock::now() - started)
    }

    #[tokio::test(start_paused = true)]
    async fn passing_failures_are_retried_until_the_call_succeeds() {
        let (result, stats, _) = run(
            Duration::from_secs(4),
            &[Scripted::Busy(None), Scripted::Busy(None)],
        )
        .await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!((stats.calls, stats.errors), (3, 2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_refusal_is_final_at_once() {
        let (result, stats, took) = run(Duration::from_secs(4), &[Scripted::Refused]).await;
        assert!(matches!(result, Err(Failure::Final(Scripted::Refused))));
        assert_eq!((stats.calls, stats.errors), (1, 1));
        assert_eq!(took, Duration::ZERO, "no wait before giving up");
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_is_told_apart() {
        let (result, _, _) = run(Duration::from_secs(4), &[Scripted::TimedOut]).await;
        assert!(matches!(result, Err(Failure::TimedOut)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_that_fits_is_waited_exactly() {
        let (result, _, took) = run(Duration::from_secs(4), &[Scripted::Busy(Some(2))]).await;
        assert_eq!(result.unwrap(), 7);
        assert_eq!(took, Duration::from_secs(2));
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_past_the_budget_is_passed_on() {
        let (result, stats, took) = run(Duration::from_secs(4), &[Scripted::Busy(Some(30))]).await;
        assert!(matches!(
            result,
            Err(Failure::Final(Scripted::Busy(Some(30))))
        ));
        assert_eq!(stats.calls, 1);
        assert_eq!(took, Duration::ZERO);
    }

    #[tokio::test(start_paused = true)]
    async fn a_retry_after_of_zero_cannot_spin() {
        let busy = [Scripted::Busy(Some(0)); 1000];
        let (result, stats, took) = run(Duration::from_secs(4), &busy).await;
        assert!(matches!(
            result,
            Err(Failure::Final(Scripted::Busy(Some(0))))
        ));
        assert_eq!(stats.calls, MAX_ATTEMPTS);
        assert!(took > Duration::ZERO, "waited the backoff between attempts");
    }

    #[tokio::test(start_paused = true)]
    async fn a_lasting_outage_ends_inside_the_budget() {
        let outage = [Scripted::Busy(None); 1000];
        let (result, stats, took) = run(Duration::from_secs(4), &outage).await;
        assert!(matches!(result, Err(Failure::BudgetSpent)));
        assert!(stats.calls > 2, "retried before giving up: {stats:?}");
        assert!(took <= Duration::from_secs(4), "{took:?}");
    }
}
