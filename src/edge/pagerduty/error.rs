//! How a call to PagerDuty failed, and which failures are tried again.

use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::StatusCode;
use thiserror::Error;

use crate::edge::retry::{seconds, Transient};

#[derive(Debug, Error)]
pub enum PagerDutyError {
    #[error("PagerDuty answered {status}: {detail}")]
    Status {
        status: StatusCode,
        /// `ratelimit-reset`: seconds until the rate limit resets, on a 429.
        reset: Option<HeaderValue>,
        /// PagerDuty's words, on one short line (`pure::text::refusal::readable`).
        detail: String,
    },
    #[error("PagerDuty did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach PagerDuty: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("PagerDuty answered 2xx, but not with what was asked: {0}")]
    UnexpectedBody(#[source] reqwest::Error),
    #[error("PagerDuty answered an incident whose id is not a PagerDuty id")]
    BadIncidentId,
}

impl Transient for PagerDutyError {
    fn is_retryable(&self) -> bool {
        match self {
            PagerDutyError::Status { status, .. } => {
                *status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
            }
            PagerDutyError::Unreachable(_) => true,
            PagerDutyError::Timeout(_)
            | PagerDutyError::UnexpectedBody(_)
            | PagerDutyError::BadIncidentId => false,
        }
    }

    fn retry_after(&self) -> Option<Duration> {
        match self {
            PagerDutyError::Status { reset, .. } => seconds(reset.as_ref()),
            _ => None,
        }
    }

    fn is_timeout(&self) -> bool {
        matches!(self, PagerDutyError::Timeout(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limits_wait_for_the_reset() {
        let limited = PagerDutyError::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            reset: Some(HeaderValue::from_static("3")),
            detail: String::new(),
        };
        assert!(limited.is_retryable());
        assert_eq!(limited.retry_after(), Some(Duration::from_secs(3)));
        let forbidden = PagerDutyError::Status {
            status: StatusCode::FORBIDDEN,
            reset: None,
            detail: String::new(),
        };
        assert!(!forbidden.is_retryable());
    }
}
