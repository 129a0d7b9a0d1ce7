//! DynamoDB's "not now": a write refused because another write holds the item for a moment
//! (a transaction conflict) or the table's throughput is exceeded. Nothing was written, so the
//! write is tried again, after a jittered pause, for as long as the caller's time allows; only
//! then does the ledger fail. The budget counters need it: in a storm, concurrent spends take
//! the same counters in their transactions, and DynamoDB cancels all but one.
//!
//! What DynamoDB answers (AWS DynamoDB API Reference):
//! - `TransactWriteItems` (Errors: `TransactionCanceledException`): the transaction is
//!   cancelled, with one `CancellationReasons` entry per item, in order; `Code` is `None` for an
//!   item without error, `TransactionConflict` ("Transaction is ongoing for the item"),
//!   `ThrottlingError`, `ProvisionedThroughputExceeded`, or `ConditionalCheckFailed` (a cap
//!   reached: a decision, not retried).
//! - `UpdateItem`, `PutItem`, `DeleteItem` (Errors): `TransactionConflictException`, when the item
//!   is part of an ongoing transaction.
//! - Every operation (Common Errors and each operation's Errors): `ThrottlingException`,
//!   `ProvisionedThroughputExceededException`, `RequestLimitExceeded`.
//!
//! The SDK's standard retry (`aws-runtime`'s `AwsErrorCodeClassifier`) already retries the three
//! throttling codes, within `max_attempts` (2, `startup::assemble`), but not the
//! `TransactionCanceledException` whose reasons are conflicts or throttling, nor
//! `TransactionConflictException`. Retried here: all of them, once the SDK gave up, while time
//! is left.

use std::future::Future;
use std::hash::{BuildHasher, Hasher, RandomState};
use std::time::Duration;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{CancellationReason, TransactWriteItem};
use tokio::time::Instant;

use super::{unavailable, DynamoLedger};
use crate::edge::ledger::LedgerError;

/// The first pause between attempts, at most; each next one doubles, up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(10);
const LONGEST_PAUSE: Duration = Duration::from_millis(160);

/// Codes of a whole request refused for a moment, nothing written.
const BUSY_CODES: &[&str] = &[
    "TransactionConflictException",
    "ThrottlingException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
];

/// Cancellation reasons of a transaction cancelled for a moment, nothing written.
const BUSY_REASONS: &[&str] = &[
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
];

/// How one attempt went: done, or refused for a moment (what DynamoDB said).
pub(super) enum Attempt<T> {
    Done(T),
    Busy(String),
}

/// Whether DynamoDB refused the whole request for a moment.
pub(super) fn is_busy(err: &impl ProvideErrorMetadata) -> bool {
    err.code().is_some_and(|code| BUSY_CODES.contains(&code))
}

/// Whether a cancelled transaction was cancelled for a moment only: some item's reason is a
/// conflict or throttling, and no item's is another (a failed condition is a decision).
fn cancelled_for_a_moment(reasons: &[CancellationReason]) -> bool {
    let code = |reason: &CancellationReason| reason.code().unwrap_or("None").to_owned();
    reasons
        .iter()
        .all(|reason| code(reason) == "None" || BUSY_REASONS.contains(&code(reason).as_str()))
        && reasons
            .iter()
            .any(|reason| BUSY_REASONS.contains(&code(reason).as_str()))
}

impl DynamoLedger {
    /// Sends one transaction: `Done(None)` when written; `Done(Some(index))` when the item at
    /// `index` (the first) failed its condition, a decision; `Busy` when cancelled or refused
    /// for a moment; `Err` when the ledger failed.
    pub(super) async fn transact_once(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<Attempt<Option<usize>>, LedgerError> {
        let written = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await;
        let err = match written {
            Ok(_) => return Ok(Attempt::Done(None)),
            Err(err) => err,
        };
        let detail = || DisplayErrorContext(&err).to_string();
        if let Some(TransactWriteItemsError::TransactionCanceledException(cancelled)) =
            err.as_service_error()
        {
            let reasons = cancelled.cancellation_reasons();
            let refused = reasons
                .iter()
                .position(|reason| reason.code() == Some("ConditionalCheckFailed"));
            if refused.is_some() {
                return Ok(Attempt::Done(refused));
            }
            if cancelled_for_a_moment(reasons) {
                return Ok(Attempt::Busy(detail()));
            }
        }
        match err.as_service_error() {
            Some(service) if is_busy(service) => Ok(Attempt::Busy(detail())),
            _ => Err(unavailable(detail())),
        }
    }
}

/// Runs `attempt` until it is done or fails, pausing (jittered, growing) while DynamoDB is busy;
/// when the next pause would pass `deadline`, the ledger is unavailable.
pub(super) async fn retrying<T, F>(
    deadline: Instant,
    mut attempt: impl FnMut() -> F,
) -> Result<T, LedgerError>
where
    F: Future<Output = Result<Attempt<T>, LedgerError>>,
{
    let (mut longest, mut attempts) = (FIRST_PAUSE, 0);
    loop {
        attempts += 1;
        let busy = match attempt().await? {
            Attempt::Done(done) => return Ok(done),
            Attempt::Busy(busy) => busy,
        };
        let pause = jittered(longest);
        if Instant::now() + pause >= deadline {
            return Err(unavailable(format!(
                "still busy after {attempts} attempts, out of time: {busy}"
            )));
        }
        tokio::time::sleep(pause).await;
        longest = (longest * 2).min(LONGEST_PAUSE);
    }
}

/// Between half of `longest` and all of it, at random, so that writers refused together do not
/// come back together.
fn jittered(longest: Duration) -> Duration {
    // Every `RandomState` is seeded afresh: a random number without another dependency.
    let random = RandomState::new().build_hasher().finish();
    let half = longest / 2;
    half + half.mul_f64((random % 1024) as f64 / 1024.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons(codes: &[&str]) -> Vec<CancellationReason> {
        codes
            .iter()
            .map(|code| CancellationReason::builder().code(*code).build())
            .collect()
    }

    #[test]
    fn a_transaction_cancelled_by_a_conflict_or_throttling_is_busy_a_failed_condition_is_not() {
        assert!(cancelled_for_a_moment(&reasons(&[
            "TransactionConflict",
            "None"
        ])));
        assert!(cancelled_for_a_moment(&reasons(&[
            "None",
            "ThrottlingError"
        ])));
        assert!(!cancelled_for_a_moment(&reasons(&[
            "TransactionConflict",
            "ConditionalCheckFailed"
        ])));
        assert!(!cancelled_for_a_moment(&reasons(&["None", "None"])));
        assert!(!cancelled_for_a_moment(&reasons(&["ValidationError"])));
    }

    #[test]
    fn pauses_stay_between_half_and_all_of_the_longest() {
        for _ in 0..100 {
            let pause = jittered(Duration::from_millis(100));
            assert!((Duration::from_millis(50)..=Duration::from_millis(100)).contains(&pause));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn busy_attempts_are_retried_until_done_or_out_of_time() {
        let deadline = Instant::now() + Duration::from_millis(100);
        let mut tries = 0;
        let done = retrying(deadline, || {
            tries += 1;
            let busy = tries < 4;
            async move {
                Ok(match busy {
                    true => Attempt::Busy("conflict".into()),
                    false => Attempt::Done(tries),
                })
            }
        })
        .await;
        assert_eq!(done.unwrap(), 4);

        let started = Instant::now();
        let never: Result<(), _> = retrying(started + Duration::from_millis(100), || async {
            Ok(Attempt::Busy("conflict".into()))
        })
        .await;
        assert!(
            matches!(never, Err(LedgerError::Unavailable(detail)) if detail.contains("conflict"))
        );
        assert!(started.elapsed() <= Duration::from_millis(100));
    }
}
