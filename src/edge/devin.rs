//! The Devin v3 API client: one `reqwest::Client` (so one pool of kept-alive connections) built
//! at cold start, used by every delivery.

use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::{StatusCode, Url};
use serde::Deserialize;
use thiserror::Error;
use tracing::warn;

use crate::edge::retry::{read_refusal, seconds, Transient};
use crate::edge::url::with_segments;
use pure::inbound::secret::Secrets;
use pure::life::lookup;
use pure::life::session::{ListedSession, Session, SessionMessage, SessionRequest, SessionState};
use pure::text::refusal;

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

/// `GET /v3/organizations/{org_id}/sessions`: one page of sessions.
#[derive(Deserialize)]
struct SessionList {
    items: Vec<ListedSession>,
    #[serde(default)]
    end_cursor: Option<String>,
    #[serde(default)]
    has_next_page: bool,
}

/// `GET .../messages`: one page, oldest first.
#[derive(Deserialize)]
struct MessagePage {
    items: Vec<SessionMessage>,
    #[serde(default)]
    end_cursor: Option<String>,
    #[serde(default)]
    has_next_page: bool,
}

/// The most messages read per page, and the most pages: a session that asks a question has
/// rarely more than a few dozen.
const MESSAGES_PER_PAGE: &str = "200";
const MAX_MESSAGE_PAGES: usize = 10;

/// The most sessions Devin lists per page, and the most pages read to find an incident's
/// session: its window is about twenty minutes (`pure::life::lookup::created_after_s`).
const SESSIONS_PER_PAGE: &str = "200";
const MAX_SESSION_PAGES: usize = 10;

pub struct DevinClient {
    http: reqwest::Client,
    /// `{api}/v3/organizations/{org_id}/sessions`.
    sessions_url: Url,
}

impl DevinClient {
    pub fn new(http: reqwest::Client, api_url: Url, org_id: &str) -> Self {
        DevinClient {
            http,
            sessions_url: with_segments(api_url, &["v3", "organizations", org_id, "sessions"]),
        }
    }

    /// The request [`DevinClient::create_session`] would send, for a dry run to show: method,
    /// URL and body (never the credentials).
    pub fn shown_create(&self, request: &SessionRequest) -> serde_json::Value {
        serde_json::json!({"method": "POST", "url": self.sessions_url.as_str(), "body": request})
    }

    /// The sessions created at or after `created_after_s` (epoch seconds), every page of them
    /// up to [`MAX_SESSION_PAGES`], all inside `timeout` (needs `ViewOrgSessions`). Devin's list
    /// is in no documented order: the caller sorts.
    ///
    /// The unit of `created_after` is not documented. Seconds are asked first: if Devin means
    /// seconds, the window is right; if it means milliseconds, it lists sessions from before
    /// the window, and the list is asked again in milliseconds, so that a busy organization's
    /// whole history is never paged through. (Milliseconds first would be the year 58000 to a
    /// Devin that means seconds: an empty list, and a second session.)
    pub async fn list_sessions_since(
        &self,
        secrets: &Secrets,
        created_after_s: u64,
        timeout: Duration,
    ) -> Result<Vec<ListedSession>, DevinError> {
        let deadline = tokio::time::Instant::now() + timeout;
        let mut created_after = created_after_s;
        let mut sessions = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_SESSION_PAGES {
            let created_after_text = created_after.to_string();
            let mut request = self.http.get(self.sessions_url.clone()).query(&[
                ("created_after", created_after_text.as_str()),
                ("first", SESSIONS_PER_PAGE),
            ]);
            if let Some(cursor) = &after {
                request = request.query(&[("after", cursor)]);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let page: SessionList = self.send(request, secrets, left).await?;
            let first_in_seconds = created_after == created_after_s && after.is_none();
            if first_in_seconds && lookup::listed_before(&page.items, created_after_s) {
                created_after = created_after_s.saturating_mul(1000);
                continue;
            }
            sessions.extend(page.items);
            match page.end_cursor {
                Some(cursor) if page.has_next_page => after = Some(cursor),
                _ => return Ok(sessions),
            }
        }
        warn!(
            sessions = sessions.len(),
            "Devin listed more sessions than are read to find an incident's: the rest are not"
        );
        Ok(sessions)
    }

    /// One session as it is now (needs `ViewOrgSessions`): status, findings, pull requests.
    pub async fn get_session(
        &self,
        secrets: &Secrets,
        session_id: &str,
        timeout: Duration,
    ) -> Result<SessionState, DevinError> {
        let url = with_segments(self.sessions_url.clone(), &[&devin_id(session_id)]);
        self.send(self.http.get(url), secrets, timeout).await
    }

    /// A session's messages, oldest first (needs `ViewOrgSessions`), page after page up to
    /// [`MAX_MESSAGE_PAGES`]; `timeout` is for each page.
    pub async fn list_messages(
        &self,
        secrets: &Secrets,
        session_id: &str,
        timeout: Duration,
    ) -> Result<Vec<SessionMessage>, DevinError> {
        let url = with_segments(
            self.sessions_url.clone(),
            &[&devin_id(session_id), "messages"],
        );
        let mut messages = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_MESSAGE_PAGES {
            let mut request = self
                .http
                .get(url.clone())
                .query(&[("first", MESSAGES_PER_PAGE)]);
            if let Some(cursor) = &after {
                request = request.query(&[("after", cursor)]);
            }
            let page: MessagePage = self.send(request, secrets, timeout).await?;
            messages.extend(page.items);
            match page.end_cursor {
                Some(cursor) if page.has_next_page => after = Some(cursor),
                _ => break,
            }
        }
        Ok(messages)
    }

    /// Ends a session for good and archives it (needs `ManageOrgSessions`).
    pub async fn terminate_session(
        &self,
        secrets: &Secrets,
        session_id: &str,
        timeout: Duration,
    ) -> Result<(), DevinError> {
        let url = with_segments(self.sessions_url.clone(), &[&devin_id(session_id)]);
        let request = self.http.delete(url).query(&[("archive", "true")]);
        self.send_write(request, secrets, timeout).await
    }

    /// Sends a message to a session (needs `ManageOrgSessions`); a paused session resumes.
    pub async fn send_message(
        &self,
        secrets: &Secrets,
        session_id: &str,
        message: &str,
        timeout: Duration,
    ) -> Result<(), DevinError> {
        let url = with_segments(
            self.sessions_url.clone(),
            &[&devin_id(session_id), "messages"],
        );
        let request = self
            .http
            .post(url)
            .json(&serde_json::json!({ "message": message }));
        self.send_write(request, secrets, timeout).await
    }

    /// Adds tags to a session (needs `ManageOrgSessions`); Devin keeps at most 50.
    pub async fn add_tags(
        &self,
        secrets: &Secrets,
        session_id: &str,
        tags: &[String],
        timeout: Duration,
    ) -> Result<(), DevinError> {
        let url = with_segments(self.sessions_url.clone(), &[&devin_id(session_id), "tags"]);
        let request = self
            .http
            .post(url)
            .json(&serde_json::json!({ "tags": tags }));
        self.send_write(request, secrets, timeout).await
    }

    /// Starts a session (needs `ManageOrgSessions`).
    pub async fn create_session(
        &self,
        secrets: &Secrets,
        request: &SessionRequest,
        timeout: Duration,
    ) -> Result<Session, DevinError> {
        let request = self.http.post(self.sessions_url.clone()).json(request);
        self.send(request, secrets, timeout).await
    }

    /// A call whose answer is read as `T`.
    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        request: reqwest::RequestBuilder,
        secrets: &Secrets,
        timeout: Duration,
    ) -> Result<T, DevinError> {
        let response = self.send_raw(request, secrets, timeout).await?;
        response.json::<T>().await.map_err(|err| {
            if err.is_timeout() {
                DevinError::Timeout(timeout)
            } else {
                DevinError::UnexpectedBody(err)
            }
        })
    }

    /// A write call whose answer is not read: Devin's reference documents no body for it, so
    /// any 2xx is success, JSON or not, empty or not (a 204 too).
    async fn send_write(
        &self,
        request: reqwest::RequestBuilder,
        secrets: &Secrets,
        timeout: Duration,
    ) -> Result<(), DevinError> {
        self.send_raw(request, secrets, timeout).await?;
        Ok(())
    }

    /// Sends the request; a 2xx answer is returned unread, any other is the error.
    async fn send_raw(
        &self,
        request: reqwest::RequestBuilder,
        secrets: &Secrets,
        timeout: Duration,
    ) -> Result<reqwest::Response, DevinError> {
        let transport_error = |err: reqwest::Error| {
            if err.is_timeout() {
                DevinError::Timeout(timeout)
            } else if err.is_connect() {
                DevinError::NotConnected(err)
            } else {
                DevinError::Unreachable(err)
            }
        };
        let response = request
            .header(AUTHORIZATION, secrets.devin_authorization().clone())
            .timeout(timeout)
            .send()
            .await
            .map_err(transport_error)?;

        if !response.status().is_success() {
            let refusal = read_refusal(response, RETRY_AFTER.as_str()).await;
            // Devin may quote the request back, credentials and all: its words reach logs,
            // answers and notes only without any of the bridge's secrets.
            let reading = refusal::read(refusal.status.as_u16(), &secrets.redact(&refusal.body));
            return Err(DevinError::Status {
                status: refusal.status,
                retry_after: refusal.wait,
                said: reading.said,
                refused_tags: reading.refused_tags,
            });
        }
        Ok(response)
    }
}

/// Paths take a session's id with its `devin-` prefix; answers may show it without.
fn devin_id(session_id: &str) -> String {
    match session_id.strip_prefix("devin-") {
        Some(_) => session_id.to_owned(),
        None => format!("devin-{session_id}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
