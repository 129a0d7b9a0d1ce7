//! The PagerDuty REST API on loopback, for the calls the bridge makes: a note on an incident
//! (`POST /incidents/{id}/notes`), the open incidents (`GET /incidents`, filtered and paged as
//! PagerDuty does) and one incident (`GET /incidents/{id}`). Records each note; answers as
//! scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pagerduty_devin_bridge::pure::timestamp;
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub struct NoteRequest {
    pub incident_id: String,
    pub headers: HeaderMap,
    pub body: Value,
}

#[derive(Default)]
struct Script {
    /// Status and `ratelimit-reset` of the next answers; then 201.
    replies: VecDeque<(u16, Option<&'static str>)>,
    /// Every request gets this status while set.
    outage: Option<u16>,
    requests: Vec<NoteRequest>,
    /// The account's incidents, as `GET /incidents` shows them.
    incidents: Vec<Value>,
}

type Shared = Arc<Mutex<Script>>;

pub struct FakePagerDuty {
    pub url: String,
    script: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl FakePagerDuty {
    pub async fn start() -> Self {
        let script: Shared = Arc::default();
        let app = Router::new()
            .route("/incidents/{id}/notes", post(add_note))
            .route("/incidents", get(list_incidents))
            .route("/incidents/{id}", get(show_incident))
            .with_state(script.clone());
        let loopback = super::serve_on_loopback(app).await;
        FakePagerDuty {
            url: format!("http://{}", loopback.address),
            script,
            server: loopback.server,
        }
    }

    pub fn reply(&self, replies: impl IntoIterator<Item = (u16, Option<&'static str>)>) {
        self.script.lock().unwrap().replies.extend(replies);
    }

    /// Forgets the scripted answers not used yet: every note succeeds again.
    pub fn clear_replies(&self) {
        self.script.lock().unwrap().replies.clear();
    }

    pub fn outage(&self, status: Option<u16>) {
        self.script.lock().unwrap().outage = status;
    }

    /// Every note request received, failed or not.
    pub fn requests(&self) -> Vec<NoteRequest> {
        self.script.lock().unwrap().requests.clone()
    }

    /// The notes added to the incident (answered 2xx), in order.
    pub fn notes_on(&self, incident_id: &str) -> Vec<String> {
        self.script
            .lock()
            .unwrap()
            .requests
            .iter()
            .filter(|request| request.incident_id == incident_id)
            .filter(|request| request.headers.get("x-fake-answered").is_none())
            .map(|request| request.body["note"]["content"].as_str().unwrap().to_owned())
            .collect()
    }

    /// An incident of the account (its `id`, `status` and `created_at` at least).
    pub fn add_incident(&self, incident: Value) {
        self.script.lock().unwrap().incidents.push(incident);
    }

    /// The incident is resolved.
    pub fn resolve(&self, incident_id: &str) {
        let mut script = self.script.lock().unwrap();
        for incident in &mut script.incidents {
            if incident["id"] == incident_id {
                incident["status"] = "resolved".into();
            }
        }
    }
}

impl Drop for FakePagerDuty {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn add_note(
    State(script): State<Shared>,
    Path(incident_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut script = script.lock().unwrap();
    let (status, reset) = match script.outage {
        Some(status) => (status, None),
        None => script.replies.pop_front().unwrap_or((201, None)),
    };
    let mut headers = headers;
    if status >= 300 {
        // Kept with the request, so that `notes_on` counts only the notes PagerDuty added.
        headers.insert("x-fake-answered", status.into());
    }
    script.requests.push(NoteRequest {
        incident_id,
        headers,
        body: body.clone(),
    });
    let mut response = if status < 300 {
        (
            StatusCode::CREATED,
            Json(
                json!({"note": {"id": "PNOTE1", "content": body["note"]["content"],
                "user": {"id": "PBRIDGE", "type": "user_reference", "summary": "Devin Bridge"}}}),
            ),
        )
            .into_response()
    } else {
        (
            StatusCode::from_u16(status).unwrap(),
            Json(json!({"error": {"message": "scripted failure"}})),
        )
            .into_response()
    };
    if let Some(reset) = reset {
        response
            .headers_mut()
            .insert("ratelimit-reset", reset.parse().unwrap());
    }
    response
}

/// `GET /incidents?statuses[]=...&since=...&until=...&limit=...&offset=...`: the incidents
/// with those statuses created in `[since, until)`, a page at a time.
async fn list_incidents(State(script): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let script = script.lock().unwrap();
    if let Some(status) = script.outage {
        return failure(status);
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let one = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    let statuses: Vec<&String> = query
        .iter()
        .filter(|(key, _)| key == "statuses[]")
        .map(|(_, value)| value)
        .collect();
    let time = |text: &str| timestamp::epoch_ms(text).expect("an RFC 3339 time");
    let (since, until) = (time(&one("since").unwrap()), time(&one("until").unwrap()));
    let limit: usize = one("limit").unwrap().parse().unwrap();
    let offset: usize = one("offset").unwrap_or_default().parse().unwrap_or(0);
    let created = |incident: &Value| time(incident["created_at"].as_str().unwrap());
    let matching: Vec<Value> = script
        .incidents
        .iter()
        .filter(|incident| statuses.iter().any(|s| incident["status"] == s.as_str()))
        .filter(|incident| created(incident) >= since && created(incident) < until)
        .cloned()
        .collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(limit).cloned().collect();
    let more = offset + page.len() < matching.len();
    Json(json!({"incidents": page, "limit": limit, "offset": offset, "more": more})).into_response()
}

async fn show_incident(State(script): State<Shared>, Path(id): Path<String>) -> Response {
    let script = script.lock().unwrap();
    if let Some(status) = script.outage {
        return failure(status);
    }
    match script
        .incidents
        .iter()
        .find(|incident| incident["id"] == id.as_str())
    {
        Some(incident) => Json(json!({"incident": incident})).into_response(),
        None => failure(404),
    }
}

fn failure(status: u16) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"error": {"message": "scripted failure"}})),
    )
        .into_response()
}
