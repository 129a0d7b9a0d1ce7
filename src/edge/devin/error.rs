//! How a call to Devin failed, and what the bridge makes of each failure: retried, passed on
//! as a rate limit, a refusal of the request itself, a session that takes no more messages.

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::StatusCode;
use thiserror::Error;

use crate::edge::retry::{seconds, Transient};

#[derive(Debug, Error)]
pub enum DevinError {
    /// Shown with Devin's words on one short line.
    #[error("Devin answered {status}: {said}")]
    Status {
        status: StatusCode,
        retry_after: Option<HeaderValue>,
        /// Devin's answer, without any of the bridge's secrets, on one short line
        /// (`pure::text::refusal::read`: its body is read once, when the error is built).
        said: String,
        /// Whether Devin refused the request for its tags (`pure::text::refusal::read`).
        refused_tags: bool,
    },
    #[error("Devin did not answer within {0:?}")]
    Timeout(Duration),
    /// No connection was made: nothing reached Devin.
    #[error("could not connect to Devin: {0}")]
    NotConnected(#[source] reqwest::Error),
    /// The connection failed once the request may have been sent.
    #[error("could not reach Devin: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("Devin answered 2xx, but not with what was asked: {0}")]
    UnexpectedBody(#[source] reqwest::Error),
}

impl DevinError {
    pub fn is_unauthorized(&self) -> bool {
        matches!(self, DevinError::Status { status, .. } if *status == StatusCode::UNAUTHORIZED)
    }

    /// Devin's rate limit: passed on to PagerDuty as such, with Devin's `Retry-After`.
    pub fn is_rate_limit(&self) -> bool {
        matches!(self, DevinError::Status { status, .. } if *status == StatusCode::TOO_MANY_REQUESTS)
    }

    /// The status Devin answered, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            DevinError::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Devin refused the request itself (400, 409, 422): the same request will be refused on
    /// every try, however long PagerDuty retries it.
    pub fn is_rejection(&self) -> bool {
        self.status()
            .is_some_and(|status| matches!(status.as_u16(), 400 | 409 | 422))
    }

    /// Devin refused the request for its tags: an organization with tag validation
    /// (`pure::text::refusal::read`).
    pub fn refused_tags(&self) -> bool {
        matches!(
            self,
            DevinError::Status {
                refused_tags: true,
                ..
            }
        )
    }

    /// On a create, what no incident causes: a 404 (no such organization, or the path moved:
    /// `DEVIN_ORG_ID`) or a 403 (the service user lacks `ManageOrgSessions`). Every incident
    /// would be refused alike until the operator fixes it.
    pub fn is_configuration_error(&self) -> bool {
        self.status()
            .is_some_and(|status| matches!(status.as_u16(), 403 | 404))
    }

    /// A message was refused because the session takes none any more (ended, deleted, never
    /// there): the answers of [`DevinError::is_rejection`], 404 and 410.
    pub fn is_session_closed(&self) -> bool {
        self.is_rejection()
            || matches!(
                self.status(),
                Some(StatusCode::NOT_FOUND | StatusCode::GONE)
            )
    }

    /// Devin's words with the refusal (its body, without any of the bridge's secrets, on one
    /// short line), when it answered.
    pub fn said(&self) -> Option<&str> {
        match self {
            DevinError::Status { said, .. } => Some(said),
            _ => None,
        }
    }

    /// Whether the failure proves that the request was not carried out: a connection never
    /// made, or a 4xx answer (refused, rate limited). After a 5xx, a timeout, a broken
    /// connection or an answer that makes no sense, a create may have happened.
    pub fn proves_nothing_done(&self) -> bool {
        match self {
            DevinError::NotConnected(_) => true,
            DevinError::Status { status, .. } => status.is_client_error(),
            DevinError::Timeout(_) | DevinError::Unreachable(_) | DevinError::UnexpectedBody(_) => {
                false
            }
        }
    }

    /// Which failures a create may be tried again after, inside one delivery: only those that
    /// prove no session was created, so no retry can make a second one.
    pub fn may_retry_create(&self) -> bool {
        self.is_retryable() && self.proves_nothing_done()
    }
}

impl Transient for DevinError {
    /// Devin's rate limit and server errors, and failures to reach it. Other 4xx answers will
    /// be the same on every try.
    fn is_retryable(&self) -> bool {
        match self {
            DevinError::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            DevinError::NotConnected(_) | DevinError::Unreachable(_) => true,
            DevinError::Timeout(_) | DevinError::UnexpectedBody(_) => false,
        }
    }

    /// Devin's `Retry-After`, when it gave one in seconds.
    fn retry_after(&self) -> Option<Duration> {
        match self {
            DevinError::Status { retry_after, .. } => seconds(retry_after.as_ref()),
            _ => None,
        }
    }

    fn is_timeout(&self) -> bool {
        matches!(self, DevinError::Timeout(_))
    }
}
