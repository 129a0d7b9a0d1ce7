//! The answers that ask PagerDuty to deliver again: `429` or `5xx`, which PagerDuty retries for
//! up to 48 hours, so nothing is lost while Devin, the ledger or the bridge's configuration
//! recovers. Their status comes from [`Again`], which has no other.

use http::{HeaderValue, StatusCode};
use tracing::{error, info, warn};

use crate::edge::devin::DevinError;
use crate::edge::ledger::LedgerError;
use crate::edge::retry::Failure;
use pure::metrics::Tally;

/// Sent with a 503 when the budget ran out, for PagerDuty's next try.
const RETRY_AFTER_SECONDS: &str = "5";

/// A delivery left for PagerDuty's retry: nothing was done that the retry would repeat.
#[derive(Debug)]
pub enum Retry {
    /// Devin failed or refused: PagerDuty retries.
    DevinFailed {
        step: DevinStep,
        failure: Failure<DevinError>,
    },
    /// Devin may have created the session (a 5xx, a timeout, a broken connection after the
    /// request went out): the claim holds until its lease ends, and PagerDuty's retry after
    /// that looks the session up before creating one.
    SessionUncertain { failure: Failure<DevinError> },
    /// Another delivery holds the claim on this incident and has not recorded its session yet.
    BeingCreated { incident_id: String },
    /// Devin refused the create for what no incident causes (404: `DEVIN_ORG_ID` or the path;
    /// 403: the service user's permission): answered 5xx, so PagerDuty retries and nothing is
    /// dropped while the operator fixes it; counted in `DevinErrors`.
    DevinMisconfigured { error: DevinError },
    /// Devin refused the create for its tags even with the routing policy's own `tags` alone
    /// (an organization with tag validation that has not allow-listed them): the same for
    /// every incident of the rule, so answered 5xx like a 404, so PagerDuty retries and nothing
    /// is dropped while the operator allow-lists them; counted in `DevinErrors`.
    PolicyTagsRefused {
        rule: String,
        tags: Vec<String>,
        error: DevinError,
    },
    /// The ledger could not be read or written: nothing was started, PagerDuty retries.
    LedgerUnavailable(LedgerError),
    /// The request waited past the delivery budget before the function got it (a slow cold
    /// start): nothing started, PagerDuty retries.
    TooLate,
}

/// What the bridge was doing with Devin when it failed, for the log.
#[derive(Debug)]
pub enum DevinStep {
    StartSession,
    FindSession,
    SendMessage { session_id: String },
}

/// When PagerDuty should come back: the only statuses a [`Retry`] can answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Again {
    /// `503` with `Retry-After: 5`: out of time, or something busy that a retry soon may find
    /// free (Devin, the ledger, another delivery's claim).
    Soon,
    /// `429`, with Devin's `Retry-After` when it sent one: Devin rate-limited the bridge for
    /// longer than the budget had left.
    RateLimited(Option<HeaderValue>),
    /// `502`: Devin's answer, or the bridge's configuration, must change before a retry
    /// succeeds; no `Retry-After`.
    AfterAFix,
}

impl Again {
    pub fn status(&self) -> StatusCode {
        match self {
            Again::Soon => StatusCode::SERVICE_UNAVAILABLE,
            Again::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Again::AfterAFix => StatusCode::BAD_GATEWAY,
        }
    }

    pub fn retry_after(&self) -> Option<HeaderValue> {
        match self {
            Again::Soon => Some(HeaderValue::from_static(RETRY_AFTER_SECONDS)),
            Again::RateLimited(retry_after) => retry_after.clone(),
            Again::AfterAFix => None,
        }
    }
}

impl Retry {
    /// When PagerDuty should come back, which gives the status.
    pub fn again(&self) -> Again {
        match self {
            Retry::DevinFailed { failure, .. } => match failure {
                Failure::Final(DevinError::Status {
                    status,
                    retry_after,
                    ..
                }) if *status == StatusCode::TOO_MANY_REQUESTS => {
                    Again::RateLimited(retry_after.clone())
                }
                Failure::Final(_) => Again::AfterAFix,
                Failure::TimedOut | Failure::BudgetSpent => Again::Soon,
            },
            Retry::DevinMisconfigured { .. } | Retry::PolicyTagsRefused { .. } => Again::AfterAFix,
            Retry::SessionUncertain { .. }
            | Retry::BeingCreated { .. }
            | Retry::LedgerUnavailable(_)
            | Retry::TooLate => Again::Soon,
        }
    }

    /// The body's `error`.
    pub fn error(&self) -> &'static str {
        match self {
            Retry::DevinFailed { .. } | Retry::SessionUncertain { .. } => {
                "Devin session not confirmed, retry later"
            }
            Retry::BeingCreated { .. } => "the incident's session is being started, retry later",
            Retry::DevinMisconfigured { .. } | Retry::PolicyTagsRefused { .. } => {
                "Devin refused the bridge's configuration, retry later"
            }
            Retry::LedgerUnavailable(_) => "the bridge's ledger is unavailable, retry later",
            Retry::TooLate => "too late to answer in time, retry later",
        }
    }

    /// What it counts in the delivery's metrics (Devin's errors are counted by the calls).
    pub fn count(&self, tally: &mut Tally) {
        match self {
            Retry::LedgerUnavailable(_) => tally.ledger_errors = 1,
            Retry::DevinFailed { .. }
            | Retry::SessionUncertain { .. }
            | Retry::BeingCreated { .. }
            | Retry::DevinMisconfigured { .. }
            | Retry::PolicyTagsRefused { .. }
            | Retry::TooLate => {}
        }
    }

    /// Logs the line that says how the delivery ended.
    pub fn log(&self) {
        match self {
            Retry::DevinFailed { step, failure } => devin_failed(step, failure),
            Retry::SessionUncertain { failure } => error!(
                error = %failure,
                "Devin may have started the session: the claim holds until its lease ends, then a retry looks the session up"
            ),
            Retry::BeingCreated { .. } => info!(
                "another delivery is starting this incident's session; PagerDuty will come back"
            ),
            Retry::DevinMisconfigured { error } => devin_misconfigured(error),
            Retry::PolicyTagsRefused { rule, tags, error } => error!(
                devin_status = error.status().map(|status| status.as_u16()),
                error = %error, rule = %rule, tags = ?tags,
                "Devin refused a session create for the routing policy's own tags (the incident's were already left out): allow-list the policy's tags in the Devin organization's tag settings (or change the rule's tags); no session starts until then; PagerDuty will retry the delivery"
            ),
            Retry::LedgerUnavailable(err) => error!(
                error = %err,
                "the ledger is unavailable: nothing started; PagerDuty will retry the delivery"
            ),
            Retry::TooLate => warn!(
                "the request waited past the delivery budget before the function got it (a slow cold start?): nothing started; PagerDuty will retry"
            ),
        }
    }
}

fn devin_failed(step: &DevinStep, failure: &Failure<DevinError>) {
    match step {
        DevinStep::StartSession => error!(
            error = %failure,
            "Devin session not started; PagerDuty will retry the delivery"
        ),
        DevinStep::FindSession => error!(
            error = %failure,
            "Devin session not found; PagerDuty will retry the delivery"
        ),
        DevinStep::SendMessage { session_id } => error!(
            error = %failure, session_id = %session_id,
            "message not delivered to the Devin session; PagerDuty will retry"
        ),
    }
}

fn devin_misconfigured(error: &DevinError) {
    let status = error.status().map(|status| status.as_u16());
    if status == Some(403) {
        error!(
            devin_status = status, error = %error,
            "Devin answered 403 to a session create: the service user lacks ManageOrgSessions in the organization DEVIN_ORG_ID; no session starts until it has it; PagerDuty will retry the delivery"
        );
    } else {
        error!(
            devin_status = status, error = %error,
            "Devin answered 404 to a session create: DEVIN_ORG_ID names no organization of this API key (or the API path moved); no session starts until it is fixed; PagerDuty will retry the delivery"
        );
    }
}
