//! The answers that refuse a request: `4xx`, which PagerDuty never retries. Only for what no
//! retry can change: a request that is not PagerDuty's (its source, path, method, size,
//! signature) or not its envelope. A verified envelope whose data the bridge cannot use is
//! `Done` (`ignored`) instead, since three 4xx in a row disable the subscription for a day.

use http::{HeaderValue, StatusCode};
use tracing::warn;

use pure::inbound::verify::Rejection;
use pure::inbound::webhook::ParseError;
use pure::metrics::Tally;

/// A request refused for good.
#[derive(Debug)]
pub enum Refused {
    /// `ALLOWED_SOURCE_CIDRS` is set and the request came from elsewhere.
    Forbidden { source: String },
    /// Another path than the webhook's.
    NotFound,
    /// Another method than POST.
    MethodNotAllowed,
    /// A body larger than PagerDuty ever sends.
    TooLarge { bytes: usize },
    /// A body the event says is base64 and is not.
    UndecodableBody,
    /// A check failed: the same bare answer whichever it was, so a forger learns nothing.
    Unauthorized(Rejection),
    /// Not PagerDuty's envelope at all: no retry can change it.
    BadRequest(ParseError),
}

impl Refused {
    /// The status, its body's `error`, and its `detail` when there is one.
    pub fn answer(&self) -> (StatusCode, &'static str, Option<String>) {
        match self {
            Refused::Forbidden { .. } => (StatusCode::FORBIDDEN, "forbidden", None),
            Refused::NotFound => (StatusCode::NOT_FOUND, "not found", None),
            Refused::MethodNotAllowed => {
                (StatusCode::METHOD_NOT_ALLOWED, "method not allowed", None)
            }
            Refused::TooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "payload too large", None),
            Refused::UndecodableBody => {
                let detail = "the body is marked base64 and is not".to_owned();
                (StatusCode::BAD_REQUEST, "bad request", Some(detail))
            }
            Refused::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", None),
            Refused::BadRequest(err) => (
                StatusCode::BAD_REQUEST,
                "bad request",
                Some(err.to_string()),
            ),
        }
    }

    /// The `Allow` header, for another method than POST.
    pub fn allow(&self) -> Option<HeaderValue> {
        if let Refused::MethodNotAllowed = self {
            return Some(HeaderValue::from_static("POST"));
        }
        None
    }

    /// What it counts in the delivery's metrics.
    pub fn count(&self, tally: &mut Tally) {
        match self {
            Refused::Unauthorized(_) | Refused::Forbidden { .. } => {
                tally.verification_failures = 1;
            }
            Refused::BadRequest(_) => tally.deliveries_refused = 1,
            Refused::NotFound
            | Refused::MethodNotAllowed
            | Refused::TooLarge { .. }
            | Refused::UndecodableBody => {}
        }
    }

    /// Logs the line that says how the delivery ended (none for another path or method).
    pub fn log(&self) {
        match self {
            Refused::NotFound | Refused::MethodNotAllowed => {}
            Refused::Forbidden { source } => {
                warn!(source = %source, "delivery refused: the source is not in ALLOWED_SOURCE_CIDRS");
            }
            Refused::UndecodableBody => {
                warn!("delivery refused: the body is marked base64 and is not");
            }
            Refused::TooLarge { bytes } => {
                warn!(bytes, "delivery refused: body too large");
            }
            Refused::Unauthorized(rejection) => {
                warn!(check = rejection.check(), reason = %rejection, "delivery refused");
            }
            Refused::BadRequest(err) => {
                warn!(error = %err, "delivery refused: not what a webhook v3 delivery carries");
            }
        }
    }
}
