use std::time::Duration;

use reqwest::header::HeaderValue;
use reqwest::{StatusCode, Url};

use super::*;
use crate::edge::retry::Transient;

fn status(code: u16, retry_after: Option<&'static str>) -> DevinError {
    DevinError::Status {
        status: StatusCode::from_u16(code).unwrap(),
        retry_after: retry_after.map(HeaderValue::from_static),
        said: String::new(),
        refused_tags: false,
    }
}

#[test]
fn a_create_is_retried_only_when_nothing_was_created() {
    for (code, retried) in [(429, true), (500, false), (502, false), (503, false)] {
        assert_eq!(status(code, None).may_retry_create(), retried, "{code}");
    }
    for code in [400, 401, 403, 404, 409, 422] {
        let refused = status(code, None);
        assert!(!refused.may_retry_create() && refused.proves_nothing_done());
    }
    assert!(!DevinError::Timeout(Duration::from_secs(1)).proves_nothing_done());
    assert!(status(422, None).is_rejection() && !status(403, None).is_rejection());
    assert!(
        !status(404, None).is_rejection(),
        "a 404 on create is the configuration"
    );
    for code in [403, 404] {
        assert!(status(code, None).is_configuration_error(), "{code}");
    }
    for code in [400, 401, 409, 422, 429, 500] {
        assert!(!status(code, None).is_configuration_error(), "{code}");
    }
    assert!(status(410, None).is_session_closed() && !status(500, None).is_session_closed());
    assert!(status(404, None).is_session_closed() && status(422, None).is_session_closed());
}

#[test]
fn rate_limits_and_server_errors_are_retried_the_rest_is_not() {
    for code in [429, 500, 502, 503, 504] {
        assert!(status(code, None).is_retryable(), "{code}");
    }
    for code in [400, 401, 403, 404, 409, 422] {
        assert!(!status(code, None).is_retryable(), "{code}");
    }
    assert!(!DevinError::Timeout(Duration::from_secs(1)).is_retryable());
    assert!(status(401, None).is_unauthorized() && !status(403, None).is_unauthorized());
}

#[test]
fn retry_after_is_read_in_seconds() {
    assert_eq!(
        status(429, Some("7")).retry_after(),
        Some(Duration::from_secs(7))
    );
    assert_eq!(status(429, Some(" 0 ")).retry_after(), Some(Duration::ZERO));
    assert_eq!(
        status(429, Some("Wed, 21 Oct 2026 07:28:00 GMT")).retry_after(),
        None
    );
    assert_eq!(status(429, None).retry_after(), None);
}

#[test]
fn ids_are_path_segments_never_paths() {
    let base = Url::parse("https://api.devin.ai/").unwrap();
    let client = DevinClient::new(reqwest::Client::new(), base, "org-1");
    assert_eq!(
        client.sessions_url.as_str(),
        "https://api.devin.ai/v3/organizations/org-1/sessions"
    );
    let url = with_segments(
        client.sessions_url.clone(),
        &["devin-../../x?y", "messages"],
    );
    assert_eq!(
        url.as_str(),
        "https://api.devin.ai/v3/organizations/org-1/sessions/devin-..%2F..%2Fx%3Fy/messages"
    );
}
