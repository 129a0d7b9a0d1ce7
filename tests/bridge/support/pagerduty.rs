//! The PagerDuty REST API on loopback, for the one call the bridge makes: a note on an
//! incident (`POST /incidents/{id}/notes`). Records each request; answers as scripted.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
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

    pub fn outage(&self, status: Option<u16>) {
        self.script.lock().unwrap().outage = status;
    }

    /// Every note request received, failed or not.
    pub fn requests(&self) -> Vec<NoteRequest> {
        self.script.lock().unwrap().requests.clone()
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
    script.requests.push(NoteRequest {
        incident_id,
        headers,
        body: body.clone(),
    });
    let (status, reset) = match script.outage {
        Some(status) => (status, None),
        None => script.replies.pop_front().unwrap_or((201, None)),
    };
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
