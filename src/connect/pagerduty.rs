//! The PagerDuty REST calls `connect-pagerduty` makes with the operator's key: find a service
//! or a team (the OpenAPI's `getService`, `listServices`, `getTeam`, `listTeams`), list,
//! create, update, delete, enable and ping webhook subscriptions (`listWebhookSubscriptions`,
//! `createWebhookSubscription`, `updateWebhookSubscription`, `deleteWebhookSubscription`,
//! `enableWebhookSubscription`, `testWebhookSubscription`).

use reqwest::header::{HeaderValue, ACCEPT, AUTHORIZATION};
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;

use crate::connect::subscription::{looks_like_id, Filter};
use crate::connect::ConnectError;

const ACCEPT_V2: &str = "application/vnd.pagerduty+json;version=2";
const PAGE: usize = 100;

pub struct PagerDuty {
    http: reqwest::Client,
    api_url: Url,
    authorization: HeaderValue,
}

impl PagerDuty {
    pub fn new(api_url: &str, key: &str) -> Result<PagerDuty, ConnectError> {
        let api_url = Url::parse(api_url).map_err(|_| {
            ConnectError::Usage(format!("PAGERDUTY_API_URL {api_url:?} is not a URL"))
        })?;
        let mut authorization = HeaderValue::try_from(format!("Token token={key}"))
            .map_err(|_| ConnectError::Usage("PAGERDUTY_API_KEY is not a header value".into()))?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()
            .map_err(|err| ConnectError::Usage(err.to_string()))?;
        Ok(PagerDuty {
            http,
            api_url,
            authorization,
        })
    }

    /// The id of the service or team (`kind`: `services` or `teams`) named or identified by
    /// `name`: an id is checked (`getService`, `getTeam`), a name must match exactly one (case
    /// aside). A name that reads like an id but is none (404) is looked up as a name.
    pub async fn find(&self, kind: &str, name: &str) -> Result<String, ConnectError> {
        if looks_like_id(name) {
            let path = [kind, name];
            let (status, text) = self.send(Method::GET, &path, &[], None).await?;
            if status != StatusCode::NOT_FOUND {
                let found = answer(&Method::GET, &path, status, &text)?;
                let one = kind.trim_end_matches('s');
                if let Some(id) = found[one]["id"].as_str() {
                    return Ok(id.to_owned());
                }
            }
        }
        let listed = self
            .call(
                Method::GET,
                &[kind],
                &[("query", name), ("limit", "100")],
                None,
            )
            .await?;
        let matching: Vec<&Value> = listed[kind]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|item| {
                item["name"]
                    .as_str()
                    .is_some_and(|found| found.eq_ignore_ascii_case(name))
            })
            .collect();
        match matching.as_slice() {
            [one] => Ok(one["id"].as_str().unwrap_or_default().to_owned()),
            [] => Err(ConnectError::PagerDuty {
                what: format!("{kind} {name:?}"),
                detail: "none has that name or id".into(),
            }),
            _ => Err(ConnectError::PagerDuty {
                what: format!("{kind} {name:?}"),
                detail: "several have that name: give the id".into(),
            }),
        }
    }

    /// The account's webhook subscriptions with this filter (all of them without one), page
    /// after page. `filter_type` is the OpenAPI's `account`, `service` or `team`.
    pub async fn subscriptions(&self, filter: Option<&Filter>) -> Result<Vec<Value>, ConnectError> {
        let mut found = Vec::new();
        for page in 0.. {
            let offset = (page * PAGE).to_string();
            let limit = PAGE.to_string();
            let mut query = vec![("limit", limit.as_str()), ("offset", offset.as_str())];
            if let Some(filter) = filter {
                query.push(("filter_type", filter.list_type()));
                if let Some(id) = &filter.id {
                    query.push(("filter_id", id.as_str()));
                }
            }
            let listed = self
                .call(Method::GET, &["webhook_subscriptions"], &query, None)
                .await?;
            let items = listed["webhook_subscriptions"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let more = listed["more"].as_bool().unwrap_or(false) && !items.is_empty();
            found.extend(items);
            if !more {
                break;
            }
        }
        Ok(found)
    }

    pub async fn create_subscription(&self, body: &Value) -> Result<Value, ConnectError> {
        let created = self
            .call(Method::POST, &["webhook_subscriptions"], &[], Some(body))
            .await?;
        Ok(created["webhook_subscription"].clone())
    }

    pub async fn update_subscription(&self, id: &str, body: &Value) -> Result<(), ConnectError> {
        self.call(Method::PUT, &["webhook_subscriptions", id], &[], Some(body))
            .await?;
        Ok(())
    }

    /// Deletes the subscription; one already gone (404) counts as deleted, so a rerun after a
    /// failure midway goes on.
    pub async fn delete_subscription(&self, id: &str) -> Result<(), ConnectError> {
        let path = ["webhook_subscriptions", id];
        let (status, text) = self.send(Method::DELETE, &path, &[], None).await?;
        if status.is_success() || status == StatusCode::NOT_FOUND {
            return Ok(());
        }
        Err(failure(&Method::DELETE, &path, status, &text))
    }

    /// Enables a subscription PagerDuty disabled (`temporarily_disabled`).
    pub async fn enable_subscription(&self, id: &str) -> Result<(), ConnectError> {
        self.call(
            Method::POST,
            &["webhook_subscriptions", id, "enable"],
            &[],
            None,
        )
        .await?;
        Ok(())
    }

    pub async fn ping(&self, id: &str) -> Result<(), ConnectError> {
        self.call(
            Method::POST,
            &["webhook_subscriptions", id, "ping"],
            &[],
            None,
        )
        .await?;
        Ok(())
    }

    async fn call(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<Value, ConnectError> {
        let (status, text) = self.send(method.clone(), path, query, body).await?;
        answer(&method, path, status, &text)
    }

    /// The answer's status and text, whatever the status.
    async fn send(
        &self,
        method: Method,
        path: &[&str],
        query: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Result<(StatusCode, String), ConnectError> {
        let mut url = self.api_url.clone();
        url.path_segments_mut()
            .map_err(|_| ConnectError::Usage("PAGERDUTY_API_URL cannot be a base URL".into()))?
            .pop_if_empty()
            .extend(path);
        let failed = |detail: String| ConnectError::PagerDuty {
            what: what(&method, path),
            detail,
        };
        let mut request = self
            .http
            .request(method.clone(), url)
            .query(query)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(ACCEPT, ACCEPT_V2);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .map_err(|err| failed(err.to_string()))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| failed(err.to_string()))?;
        Ok((status, text))
    }
}

fn what(method: &Method, path: &[&str]) -> String {
    format!("{method} /{}", path.join("/"))
}

/// A 2xx answer's JSON (`null` when empty); any other status is a failure.
fn answer(
    method: &Method,
    path: &[&str],
    status: StatusCode,
    text: &str,
) -> Result<Value, ConnectError> {
    if !status.is_success() {
        return Err(failure(method, path, status, text));
    }
    if text.trim().is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_str(text).map_err(|err| ConnectError::PagerDuty {
        what: what(method, path),
        detail: format!("an answer that is not JSON ({err})"),
    })
}

fn failure(method: &Method, path: &[&str], status: StatusCode, text: &str) -> ConnectError {
    let detail: String = text.chars().take(300).collect();
    ConnectError::PagerDuty {
        what: what(method, path),
        detail: format!("{status}: {detail}"),
    }
}
