//! The Devin v3 API client: one `reqwest::Client` (so one pool of kept-alive connections) built
//! at cold start, used by every delivery.

use std::num::NonZeroU32;
use std::time::Duration;

use reqwest::header::{HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::secrets::Secret;

/// The body of `POST /v3/organizations/{org_id}/sessions`, with the fields the bridge sets.
/// What the routing policy leaves null is left out, so Devin applies its own default.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionRequest {
    pub prompt: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub playbook_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_acu_limit: Option<NonZeroU32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub knowledge_ids: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repos: Option<Vec<String>>,
}

/// The parts of Devin's session answer the bridge uses; unknown fields are ignored.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Session {
    pub session_id: String,
    pub url: String,
}

/// Longest excerpt of an error body kept for the log.
const MAX_DETAIL_CHARS: usize = 300;

#[derive(Debug, Error)]
pub enum DevinError {
    #[error("Devin answered {status}: {detail}")]
    Status {
        status: StatusCode,
        retry_after: Option<HeaderValue>,
        detail: String,
    },
    #[error("Devin did not answer within {0:?}")]
    Timeout(Duration),
    #[error("could not reach Devin: {0}")]
    Unreachable(#[source] reqwest::Error),
    #[error("Devin answered 2xx, but not with a session: {0}")]
    NotASession(#[source] reqwest::Error),
}

/// The API key cannot be sent: it holds characters an HTTP header cannot carry.
#[derive(Debug, Error)]
#[error("DEVIN_API_KEY holds characters an HTTP header cannot carry (a stray quote or newline?)")]
pub struct InvalidApiKey;

pub struct DevinClient {
    http: reqwest::Client,
    sessions_url: String,
    /// `Bearer <key>`, built once and marked sensitive so no debug output shows it.
    authorization: HeaderValue,
    timeout: Duration,
}

impl DevinClient {
    /// `http` should carry the request timeout; `timeout` is only reported in errors.
    pub fn new(
        http: reqwest::Client,
        api_url: &str,
        org_id: &str,
        api_key: Secret,
        timeout: Duration,
    ) -> Result<Self, InvalidApiKey> {
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", api_key.expose()))
            .map_err(|_| InvalidApiKey)?;
        authorization.set_sensitive(true);
        Ok(DevinClient {
            http,
            sessions_url: format!("{api_url}/v3/organizations/{org_id}/sessions"),
            authorization,
            timeout,
        })
    }

    /// Where sessions are created.
    pub fn sessions_url(&self) -> &str {
        &self.sessions_url
    }

    pub async fn create_session(&self, request: &SessionRequest) -> Result<Session, DevinError> {
        let response = self
            .http
            .post(&self.sessions_url)
            .header(AUTHORIZATION, self.authorization.clone())
            .json(request)
            .send()
            .await
            .map_err(|err| self.transport_error(err))?;

        let status = response.status();
        if !status.is_success() {
            let retry_after = response.headers().get(RETRY_AFTER).cloned();
            let body = response.text().await.unwrap_or_default();
            return Err(DevinError::Status {
                status,
                retry_after,
                detail: body.chars().take(MAX_DETAIL_CHARS).collect(),
            });
        }
        response.json::<Session>().await.map_err(|err| {
            if err.is_timeout() {
                DevinError::Timeout(self.timeout)
            } else {
                DevinError::NotASession(err)
            }
        })
    }

    fn transport_error(&self, err: reqwest::Error) -> DevinError {
        if err.is_timeout() {
            DevinError::Timeout(self.timeout)
        } else {
            DevinError::Unreachable(err)
        }
    }
}
