//! A Devin v3 API on loopback: answers `POST /v3/organizations/{org}/sessions` as told and
//! records every request it receives.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with a new session.
    Session,
    /// This status, with an optional `Retry-After`.
    Status(u16, Option<&'static str>),
    /// No answer for this long.
    Hang(Duration),
    /// 200 with a body that is not a session.
    Garbage,
}

#[derive(Debug, Clone)]
pub struct Received {
    pub org_id: String,
    pub authorization: Option<String>,
    pub body: Value,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    received: Vec<Received>,
    sessions: usize,
}

pub struct FakeDevin {
    pub url: String,
    script: Arc<Mutex<Script>>,
    server: tokio::task::JoinHandle<()>,
}

impl FakeDevin {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route("/v3/organizations/{org_id}/sessions", post(create_session))
            .with_state(script.clone());
        let (address, server) = super::serve_on_loopback(app).await;
        FakeDevin {
            url: format!("http://{address}"),
            script,
            server,
        }
    }

    /// Queues the answers to the next requests; once they are used up, every request gets a
    /// new session.
    pub fn reply(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().replies.extend(replies);
    }

    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }
}

impl Drop for FakeDevin {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn create_session(
    State(script): State<Arc<Mutex<Script>>>,
    Path(org_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (reply, number) = {
        let mut script = script.lock().unwrap();
        script.received.push(Received {
            org_id,
            authorization: headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned()),
            body: body.clone(),
        });
        let reply = script.replies.pop_front().unwrap_or(Reply::Session);
        if matches!(reply, Reply::Session) {
            script.sessions += 1;
        }
        (reply, script.sessions)
    };
    match reply {
        Reply::Session => Json(json!({
            "session_id": format!("devin-{number:032x}"),
            "url": format!("https://app.devin.ai/sessions/{number:032x}"),
            "status": "new",
            "tags": body["tags"],
            "org_id": "org-test",
            "created_at": 1795857125,
            "updated_at": 1795857125,
            "acus_consumed": 0,
            "pull_requests": [],
        }))
        .into_response(),
        Reply::Status(status, retry_after) => {
            let mut response = (
                StatusCode::from_u16(status).unwrap(),
                Json(json!({"detail": "scripted failure"})),
            )
                .into_response();
            if let Some(seconds) = retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", seconds.parse().unwrap());
            }
            response
        }
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Reply::Garbage => Json(json!({"unexpected": true})).into_response(),
    }
}
