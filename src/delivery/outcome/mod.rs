//! Every answer the function gives, in one typed table: its HTTP status and body, the line it
//! logs and what it counts in the delivery's metrics. The class of an answer is its type, and
//! the status follows from the class, as PagerDuty's retry rules want it:
//!
//! - [`Refused`]: `4xx`, for what a retry cannot fix; PagerDuty drops it;
//! - [`Retry`]: `429` or `5xx` (with `Retry-After` when it helps), for what a retry can fix;
//!   PagerDuty comes back, so no incident is lost;
//! - [`Done`]: `202` with a body whose `status` says what was done (or deliberately not done),
//!   serialized from the variant; PagerDuty does not come back, so none is investigated twice.
//!
//! So a failure cannot be acknowledged by forgetting it: a new one is a [`Retry`] or a
//! [`Refused`] variant, and every match on them names each variant.

mod done;
mod fields;
mod refused;
mod retry;
#[cfg(test)]
mod tests;

use http::StatusCode;
use serde::Serialize;

use crate::delivery::function_url::Answer;
use pure::metrics::Tally;

pub use done::{Done, NoteStatus};
pub use refused::Refused;
pub use retry::{Again, DevinStep, Retry};

/// How a delivery ended.
#[derive(Debug)]
pub enum Outcome {
    /// Refused for good: `4xx`.
    Refused(Refused),
    /// Left for PagerDuty's retry: `429` or `5xx`.
    Retry(Retry),
    /// Done: `202`, with what was done.
    Done(Done),
    /// A repeat of a delivery this instance completed: its first answer again (`202`, with the
    /// body of the [`Done`] it was).
    Repeat { body: String },
}

impl From<Refused> for Outcome {
    fn from(refused: Refused) -> Self {
        Outcome::Refused(refused)
    }
}

impl From<Retry> for Outcome {
    fn from(retry: Retry) -> Self {
        Outcome::Retry(retry)
    }
}

impl From<Done> for Outcome {
    fn from(done: Done) -> Self {
        Outcome::Done(done)
    }
}

/// The body of a refusal or a retry.
#[derive(Serialize)]
struct ErrorBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    error: &'a str,
}

impl Outcome {
    /// Whether the delivery is done for good: a repeat of it is answered from memory.
    pub fn is_complete(&self) -> bool {
        match self {
            Outcome::Done(done) => done.is_complete(),
            Outcome::Refused(_) | Outcome::Retry(_) | Outcome::Repeat { .. } => false,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Outcome::Refused(refused) => refused.answer().0,
            Outcome::Retry(retry) => retry.again().status(),
            Outcome::Done(_) | Outcome::Repeat { .. } => StatusCode::ACCEPTED,
        }
    }

    /// The answer's JSON body, as sent.
    pub fn body(&self) -> String {
        let (error, detail) = match self {
            Outcome::Done(done) => return done.body(),
            Outcome::Repeat { body } => return body.clone(),
            Outcome::Refused(refused) => {
                let (_, error, detail) = refused.answer();
                (error, detail)
            }
            Outcome::Retry(retry) => (retry.error(), None),
        };
        let detail = detail.as_deref();
        serde_json::to_string(&ErrorBody { detail, error }).unwrap_or_default()
    }

    /// Logs the line that says how the delivery ended (inside its span).
    pub fn log(&self) {
        match self {
            Outcome::Refused(refused) => refused.log(),
            Outcome::Retry(retry) => retry.log(),
            Outcome::Done(done) => done.log(),
            Outcome::Repeat { .. } => tracing::info!(
                "repeat of a completed delivery: answered from memory, Devin not called"
            ),
        }
    }

    /// What the outcome counts in the delivery's metrics (Devin's errors and latency are
    /// counted by the calls themselves).
    pub fn count(&self, tally: &mut Tally) {
        match self {
            Outcome::Refused(refused) => refused.count(tally),
            Outcome::Retry(retry) => retry.count(tally),
            Outcome::Done(done) => done.count(tally),
            Outcome::Repeat { .. } => tally.duplicates_suppressed = 1,
        }
    }

    /// The HTTP answer, with `body` (from [`Outcome::body`]).
    pub fn answer(&self, body: String) -> Answer {
        let (retry_after, allow) = match self {
            Outcome::Refused(refused) => (None, refused.allow()),
            Outcome::Retry(retry) => (retry.again().retry_after(), None),
            Outcome::Done(_) | Outcome::Repeat { .. } => (None, None),
        };
        Answer {
            status: self.status().as_u16(),
            retry_after,
            allow,
            body,
        }
    }
}
