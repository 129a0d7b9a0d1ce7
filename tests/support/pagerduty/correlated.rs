//! What PagerDuty correlated with an incident, per incident, and how each of the three
//! operations answers when scripted (a 402/403 for an account without the feature, a hang);
//! every request the fake received, and answers held back by a fixed time (the bench's 50 ms).
//!
//! Rules from PagerDuty's REST OpenAPI (PagerDuty/api-schema, `reference/REST/openapiv3.json`):
//! `listIncidentRelatedChangeEvents` answers `{"change_events": [...]}` (one page, no offset);
//! `getPastIncidents` takes `limit` from 1 to 999 (default 5) and answers
//! `{"past_incidents": [{"incident": {id, created_at, self, title}, "score"}], "total", "limit"}`;
//! `getRelatedIncidents` answers `{"related_incidents": [{"incident", "relationships"}]}` (20 at
//! most, no limit).

use axum::extract::{Path, RawQuery, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{failure, AlertsReply, FakePagerDuty, Shared};

/// One of the three correlated reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Correlated {
    /// `GET /incidents/{id}/related_change_events`.
    Changes,
    /// `GET /incidents/{id}/past_incidents`.
    Past,
    /// `GET /incidents/{id}/related_incidents`.
    Related,
}

impl FakePagerDuty {
    /// What PagerDuty correlated with the incident, as the operation's items (a JSON array).
    pub fn correlate(&self, what: Correlated, incident_id: &str, items: Value) {
        let mut script = self.script.lock().unwrap();
        script
            .correlated
            .push((what, incident_id.to_owned(), items));
    }

    /// How the operation answers from now on (`None`: with what was correlated).
    pub fn correlated_reply(&self, what: Correlated, reply: Option<AlertsReply>) {
        let mut script = self.script.lock().unwrap();
        script.correlated_replies.retain(|(w, _)| *w != what);
        if let Some(reply) = reply {
            script.correlated_replies.push((what, reply));
        }
    }

    /// Every request received, `METHOD /path`, in order.
    pub fn calls(&self) -> Vec<String> {
        self.script.lock().unwrap().calls.clone()
    }

    /// Every answer is held back this long from now on (`None`: at once).
    pub fn answer_after(&self, delay: Option<std::time::Duration>) {
        self.script.lock().unwrap().answer_after = delay;
    }
}

/// Records the request, and holds its answer back when asked to.
pub(super) async fn record(State(script): State<Shared>, request: Request, next: Next) -> Response {
    let delay = {
        let mut script = script.lock().unwrap();
        let call = format!("{} {}", request.method(), request.uri().path());
        script.calls.push(call);
        script.answer_after
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    next.run(request).await
}

/// The items stored for the incident, or the scripted answer.
async fn stored(script: &Shared, what: Correlated, id: &str) -> Result<Vec<Value>, Response> {
    let (reply, items) = {
        let script = script.lock().unwrap();
        let reply = script
            .correlated_replies
            .iter()
            .find(|(w, _)| *w == what)
            .map(|(_, reply)| *reply);
        let items: Vec<Value> = script
            .correlated
            .iter()
            .filter(|(w, incident, _)| *w == what && incident == id)
            .flat_map(|(_, _, items)| items.as_array().cloned().unwrap_or_default())
            .collect();
        (reply, items)
    };
    match AlertsReply::failure(reply).await {
        Some(failure) => Err(failure),
        None => Ok(items),
    }
}

fn limit(query: Option<String>) -> Option<Result<usize, ()>> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "limit")
        .map(|(_, limit)| limit.parse().map_err(|_| ()))
}

/// `listIncidentRelatedChangeEvents`: one page, `limit` honoured; the example's extra
/// pagination fields (all null) served as PagerDuty does.
pub(super) async fn related_change_events(
    State(script): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let items = match stored(&script, Correlated::Changes, &id).await {
        Ok(items) => items,
        Err(answer) => return answer,
    };
    let limit = match limit(query) {
        Some(Ok(limit)) => limit,
        Some(Err(())) => return failure(400),
        None => items.len(),
    };
    let page: Vec<Value> = items.into_iter().take(limit).collect();
    Json(
        json!({"change_events": page, "limit": null, "offset": null, "total": null, "more": false}),
    )
    .into_response()
}

/// `getPastIncidents`: `limit` from 1 to 999, default 5 (`past_incidents_limit`).
pub(super) async fn past_incidents(
    State(script): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let items = match stored(&script, Correlated::Past, &id).await {
        Ok(items) => items,
        Err(answer) => return answer,
    };
    let limit = match limit(query) {
        Some(Ok(limit)) if (1..=999).contains(&limit) => limit,
        Some(_) => return failure(400),
        None => 5,
    };
    let page: Vec<Value> = items.into_iter().take(limit).collect();
    Json(json!({"past_incidents": page, "total": null, "limit": limit})).into_response()
}

/// `getRelatedIncidents`: the 20 most recent, no limit parameter.
pub(super) async fn related_incidents(
    State(script): State<Shared>,
    Path(id): Path<String>,
) -> Response {
    let items = match stored(&script, Correlated::Related, &id).await {
        Ok(items) => items,
        Err(answer) => return answer,
    };
    let page: Vec<Value> = items.into_iter().take(20).collect();
    Json(json!({"related_incidents": page})).into_response()
}
