//! `GET /incidents/{id}/log_entries` (`listIncidentLogEntries` in PagerDuty/api-schema,
//! reference/REST/openapiv3.json): the incident's log entries, paged with `limit`/`offset` and
//! `more` (the `Pagination` schema). The OpenAPI states no largest page: this fake answers at
//! most two entries a page, whatever `limit` asks, so that a client must page by what came.
//! `is_overview` is a boolean (`log_entry_is_overview`), `limit`/`offset` integers
//! (`offset_limit`, `offset_offset`): anything else is refused 400.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{failure, AlertsReply, FakePagerDuty, Shared};

/// The most entries a page holds here.
const PAGE: usize = 2;

impl FakePagerDuty {
    /// The incident's log entries, in the order PagerDuty would list them.
    pub fn add_log_entries(&self, incident_id: &str, entries: Value) {
        let mut script = self.script.lock().unwrap();
        script.log_entries.push((incident_id.to_owned(), entries));
    }

    /// How every `GET .../log_entries` answers from now on (`None`: with the entries).
    pub fn log_entries_reply(&self, reply: Option<AlertsReply>) {
        self.script.lock().unwrap().log_entries_reply = reply;
    }

    /// The query of each `GET .../log_entries`, in order: incident id and query string.
    pub fn log_entry_requests(&self) -> Vec<(String, String)> {
        self.script.lock().unwrap().log_entry_requests.clone()
    }
}

pub(super) async fn list_log_entries(
    State(script): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let (reply, entries) = {
        let mut script = script.lock().unwrap();
        script.log_entry_requests.push((id.clone(), query.clone()));
        let entries = script
            .log_entries
            .iter()
            .find(|(incident, _)| *incident == id)
            .map_or(json!([]), |(_, entries)| entries.clone());
        (script.log_entries_reply, entries)
    };
    if let Some(failure) = AlertsReply::failure(reply).await {
        return failure;
    }
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let one = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let number = |name: &str| one(name).map(|v| v.parse::<usize>().map_err(|_| ()));
    let overview_ok = one("is_overview").is_none_or(|v| v == "true" || v == "false");
    let (Ok(limit), Ok(offset)) = (
        number("limit").unwrap_or(Ok(25)),
        number("offset").unwrap_or(Ok(0)),
    ) else {
        return failure(400);
    };
    if !overview_ok {
        return failure(400);
    }
    let all = entries.as_array().cloned().unwrap_or_default();
    let page: Vec<Value> = all
        .iter()
        .skip(offset)
        .take(limit.min(PAGE))
        .cloned()
        .collect();
    let more = offset + page.len() < all.len();
    Json(json!({"log_entries": page, "limit": limit, "offset": offset, "more": more}))
        .into_response()
}
