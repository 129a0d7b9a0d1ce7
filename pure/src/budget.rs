//! Time: each delivery's budget (PagerDuty waits 5 s, Lambda stops at its deadline), the time
//! after it to record what the delivery did, and the jittered backoff between retries inside
//! it. Pure: the caller supplies the clock and the randomness.

use std::time::{Duration, Instant};

/// Left for answering after the last Devin call, so the answer still beats the Lambda deadline.
pub const ANSWER_MARGIN: Duration = Duration::from_millis(100);
/// Kept before the Lambda deadline, after a session's create, to record it (and open its
/// group): a session made but not recorded costs a lease and, for a group, a second session.
pub const RECORD_MARGIN: Duration = Duration::from_millis(1000);
/// No Devin call is started with less time than this left: it could not finish.
pub const MIN_ATTEMPT: Duration = Duration::from_millis(50);
/// The first backoff ceiling; it doubles with each retry up to [`MAX_BACKOFF`].
const BASE_BACKOFF: Duration = Duration::from_millis(100);
/// No wait between tries is shorter, whatever the jitter or the service says.
const MIN_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// A request context older than this is not a live request (a sample event, a replay by hand):
/// its time is not counted against the budget.
const PLAUSIBLE_WAIT: Duration = Duration::from_secs(60);

/// How long PagerDuty's request had been waiting when the function got it: from Lambda's
/// `requestContext.timeEpoch` (milliseconds) to `now_ms`. Zero when the time is in the future
/// or implausibly old.
pub fn waited(time_epoch_ms: i64, now_ms: u64) -> Duration {
    let Ok(received_ms) = u64::try_from(time_epoch_ms) else {
        return Duration::ZERO;
    };
    let waited = Duration::from_millis(now_ms.saturating_sub(received_ms));
    if waited > PLAUSIBLE_WAIT {
        return Duration::ZERO;
    }
    waited
}

/// The time one delivery may spend, and the time it may take after that to record what it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    deadline: Instant,
    /// The Lambda deadline (less [`ANSWER_MARGIN`]); when unknown, [`RECORD_MARGIN`] after
    /// `deadline`.
    last: Instant,
}

impl Budget {
    /// `budget` from now, but never past the Lambda deadline (less [`ANSWER_MARGIN`]).
    pub fn new(now: Instant, budget: Duration, lambda_deadline: Option<Instant>) -> Self {
        let deadline = now + budget;
        let Some(lambda) = lambda_deadline else {
            let last = deadline + RECORD_MARGIN;
            return Budget { deadline, last };
        };
        let last = lambda.checked_sub(ANSWER_MARGIN).unwrap_or(now).max(now);
        Budget {
            deadline: deadline.min(last),
            last,
        }
    }

    /// The time to record what the delivery did (the session it made, the group it opened):
    /// up to the Lambda deadline, past this budget. Answering late costs a retry of the
    /// delivery; not recording costs a lease, and the retries answered 503 until it ends.
    pub fn to_record(&self) -> Budget {
        Budget {
            deadline: self.last,
            last: self.last,
        }
    }

    /// The time a session's create may take: this budget, less what leaves [`RECORD_MARGIN`]
    /// before the Lambda deadline to record the session.
    pub fn to_create(&self) -> Budget {
        let record_from = self.last.checked_sub(RECORD_MARGIN).unwrap_or(self.last);
        Budget {
            deadline: self.deadline.min(record_from),
            last: self.last,
        }
    }

    pub fn remaining(&self, now: Instant) -> Duration {
        self.deadline.saturating_duration_since(now)
    }

    /// A budget of at most `most` from `now`, inside this one: one step of a longer run.
    pub fn at_most(&self, now: Instant, most: Duration) -> Budget {
        Budget {
            deadline: self.deadline.min(now + most),
            last: self.last,
        }
    }

    /// Whether another call, after waiting `delay`, would still have [`MIN_ATTEMPT`] to run.
    pub fn allows(&self, now: Instant, delay: Duration) -> bool {
        self.remaining(now) >= delay + MIN_ATTEMPT
    }
}

/// How long to wait before retry number `retry` (0 for the first): "full jitter" (uniform up to
/// a ceiling that doubles each time, so that retries from many instances do not arrive
/// together), never under [`MIN_BACKOFF`], and at least the service's `Retry-After` when it gave
/// one (a `Retry-After: 0` cannot make the retries spin).
pub fn backoff(retry: u32, retry_after: Option<Duration>, random: u64) -> Duration {
    let ceiling = BASE_BACKOFF
        .saturating_mul(1u32.checked_shl(retry).unwrap_or(u32::MAX))
        .min(MAX_BACKOFF);
    let millis = ceiling.as_millis() as u64;
    let jitter = Duration::from_millis(random % (millis + 1)).max(MIN_BACKOFF);
    retry_after.map_or(jitter, |asked| asked.max(jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_of_a_run_ends_with_the_run_or_sooner() {
        let now = Instant::now();
        let run = Budget::new(now, Duration::from_secs(50), None);
        let step = run.at_most(now, Duration::from_secs(4));
        assert_eq!(step.remaining(now), Duration::from_secs(4));
        let late = now + Duration::from_secs(48);
        assert_eq!(
            run.at_most(late, Duration::from_secs(4)).remaining(late),
            Duration::from_secs(2)
        );
    }

    #[test]
    fn the_budget_never_passes_the_lambda_deadline() {
        let now = Instant::now();
        let four = Duration::from_secs(4);
        assert_eq!(Budget::new(now, four, None).remaining(now), four);
        let far = now + Duration::from_secs(10);
        assert_eq!(Budget::new(now, four, Some(far)).remaining(now), four);
        let near = now + Duration::from_secs(1);
        assert_eq!(
            Budget::new(now, four, Some(near)).remaining(now),
            Duration::from_secs(1) - ANSWER_MARGIN
        );
        let past = now + Duration::from_millis(10);
        assert_eq!(
            Budget::new(now, four, Some(past)).remaining(now),
            Duration::ZERO
        );
    }

    #[test]
    fn the_record_has_until_the_lambda_deadline_and_the_create_leaves_it_time() {
        let now = Instant::now();
        let four = Duration::from_secs(4);
        let lambda = now + Duration::from_secs(10);
        let budget = Budget::new(now, four, Some(lambda));
        let last = Duration::from_secs(10) - ANSWER_MARGIN;
        assert_eq!(budget.to_record().remaining(now), last);
        assert_eq!(
            budget.to_create().remaining(now),
            four,
            "far from the deadline"
        );
        let spent = now + four;
        assert_eq!(budget.remaining(spent), Duration::ZERO);
        assert_eq!(budget.to_record().remaining(spent), last - four);
        let step = budget.at_most(now, Duration::from_secs(1));
        assert_eq!(
            step.to_record().remaining(now),
            last,
            "a step records as long"
        );

        let near = Budget::new(now, four, Some(now + Duration::from_secs(3)));
        let last = Duration::from_secs(3) - ANSWER_MARGIN;
        assert_eq!(near.remaining(now), last);
        assert_eq!(near.to_create().remaining(now), last - RECORD_MARGIN);
        assert_eq!(near.to_record().remaining(now), last);
        let past = Budget::new(now, four, Some(now + Duration::from_millis(500)));
        assert_eq!(past.to_create().remaining(now), Duration::ZERO);

        let unknown = Budget::new(now, four, None);
        assert_eq!(unknown.to_create().remaining(now), four);
        assert_eq!(unknown.to_record().remaining(now), four + RECORD_MARGIN);
    }

    #[test]
    fn the_wait_before_the_function_counts_when_it_is_plausible() {
        let now_ms = 1_795_857_125_000;
        assert_eq!(
            waited(1_795_857_124_250, now_ms),
            Duration::from_millis(750)
        );
        assert_eq!(waited(1_795_857_126_000, now_ms), Duration::ZERO, "future");
        assert_eq!(waited(0, now_ms), Duration::ZERO, "no context");
        assert_eq!(waited(-5, now_ms), Duration::ZERO);
        assert_eq!(
            waited(1_795_857_000_000, now_ms),
            Duration::ZERO,
            "a sample event"
        );
    }

    #[test]
    fn a_retry_must_fit_with_time_to_run() {
        let now = Instant::now();
        let budget = Budget::new(now, Duration::from_millis(500), None);
        assert!(budget.allows(now, Duration::from_millis(400)));
        assert!(!budget.allows(now, Duration::from_millis(460)));
        let later = now + Duration::from_millis(480);
        assert!(!budget.allows(later, Duration::ZERO));
    }

    #[test]
    fn backoff_is_jittered_under_a_doubling_ceiling() {
        for retry in 0..40 {
            let ceiling = if retry < 5 {
                BASE_BACKOFF * 2u32.pow(retry)
            } else {
                MAX_BACKOFF
            };
            assert!(backoff(retry, None, u64::MAX - 1) <= ceiling);
            assert_eq!(backoff(retry, None, ceiling.as_millis() as u64), ceiling);
            assert_eq!(backoff(retry, None, 0), MIN_BACKOFF);
        }
        let spread: std::collections::HashSet<Duration> =
            (0..100u64).map(|r| backoff(3, None, r * 7919)).collect();
        assert!(spread.len() > 50, "jitter spreads the retries");
    }

    #[test]
    fn retry_after_wins_but_never_undercuts_the_backoff() {
        assert_eq!(
            backoff(0, Some(Duration::from_secs(2)), 12345),
            Duration::from_secs(2)
        );
        assert_eq!(backoff(0, Some(Duration::ZERO), 0), MIN_BACKOFF);
        assert_eq!(
            backoff(2, Some(Duration::ZERO), 350),
            Duration::from_millis(350)
        );
    }
}
