//! The Devin v3 API client: one `reqwest::Client` (so one pool of kept-alive connections) built
//! at cold start, used by every delivery. How a call fails, and what each failure means, is in
//! [`error`].

mod error;

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, RETRY_AFTER};
use reqwest::Url;
use serde::Deserialize;
use tracing::warn;

use crate::edge::retry::read_refusal;
use crate::edge::url::with_segments;
use pure::inbound::secret::Secrets;
use pure::life::lookup;
use pure::life::session::{ListedSession, Session, SessionMessage, SessionRequest, SessionState};
use pure::text::refusal;

pub use error::DevinError;

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
mod tests;
