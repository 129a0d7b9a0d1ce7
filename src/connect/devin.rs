//! The two Devin calls `--check` makes with the bridge's own `DEVIN_API_KEY`, reading only:
//! who the token is (`GET /v3/self`, operationId `handle_get_self_v3_self_get`,
//! https://docs.devin.ai/api-reference/v3/self/self: `org_id` is a string, or null for a
//! service user of the enterprise) and whether it may list the organization's sessions
//! (`GET /v3/organizations/{org_id}/sessions?first=1`, permission `ViewOrgSessions`).

use reqwest::header::{HeaderValue, AUTHORIZATION};
use reqwest::{StatusCode, Url};
use serde_json::Value;

/// What Devin answered.
pub enum Answer {
    /// 2xx, with its JSON body (`Null` when it is not JSON).
    Ok(Value),
    /// Another status.
    Refused(StatusCode),
    /// No answer (the detail never holds the key: reqwest's errors name the URL only).
    Unreachable(String),
}

pub struct Devin {
    http: reqwest::Client,
    api_url: Url,
    authorization: HeaderValue,
}

impl Devin {
    /// `Err` when the URL or the key cannot be used at all (the check says so).
    pub fn new(api_url: &str, key: &str) -> Result<Devin, String> {
        let api_url = Url::parse(api_url)
            .ok()
            .filter(|url| url.path_segments().is_some())
            .ok_or_else(|| format!("DevinApiUrl {api_url:?} is not a URL"))?;
        let mut authorization = HeaderValue::try_from(format!("Bearer {key}"))
            .map_err(|_| "DEVIN_API_KEY is not a header value".to_owned())?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(20))
            .build()
            .map_err(|err| err.to_string())?;
        Ok(Devin {
            http,
            api_url,
            authorization,
        })
    }

    /// `GET /v3/self`.
    pub async fn who_am_i(&self) -> Answer {
        self.get(&["v3", "self"], &[]).await
    }

    /// `GET /v3/organizations/{org_id}/sessions?first=1`.
    pub async fn list_one_session(&self, org_id: &str) -> Answer {
        self.get(
            &["v3", "organizations", org_id, "sessions"],
            &[("first", "1")],
        )
        .await
    }

    async fn get(&self, path: &[&str], query: &[(&str, &str)]) -> Answer {
        let mut url = self.api_url.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().extend(path);
        }
        let sent = self
            .http
            .get(url)
            .query(query)
            .header(AUTHORIZATION, self.authorization.clone())
            .send()
            .await;
        let response = match sent {
            Ok(response) => response,
            Err(err) => return Answer::Unreachable(err.without_url().to_string()),
        };
        let status = response.status();
        if !status.is_success() {
            return Answer::Refused(status);
        }
        let body = response.json().await.unwrap_or(Value::Null);
        Answer::Ok(body)
    }
}
