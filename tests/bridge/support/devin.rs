//! A Devin v3 API on loopback: creates sessions (`POST .../sessions`), finds them by tag
//! (`GET .../sessions?tags=...`), shows one (`GET .../sessions/{id}`: status, findings, pull
//! requests, as a test sets them) and its messages, answers as scripted, and records what it
//! receives.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
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
    /// No answer for this long, and no session.
    Hang(Duration),
    /// The session is created, but the answer comes only after this long.
    SlowSession(Duration),
    /// 200 with a body that is not a session.
    Garbage,
    /// The session is created, and the answer is this status anyway.
    StoredThen(u16),
}

#[derive(Debug, Clone)]
pub struct Received {
    pub org_id: String,
    pub authorization: Option<String>,
    pub body: Value,
}

/// A message sent to a session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub devin_id: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct StoredSession {
    pub session_id: String,
    pub tags: Vec<String>,
    /// When Devin stored it: its list shows it only `list_lag` later.
    pub stored_at: std::time::Instant,
    /// Ended sessions refuse messages (404).
    pub ended: bool,
    /// What `GET .../sessions/{id}` shows, beyond the id and tags.
    pub shown: Value,
    /// Its messages, oldest first.
    pub messages: Vec<Value>,
}

#[derive(Default)]
struct Script {
    create_replies: VecDeque<Reply>,
    list_replies: VecDeque<Reply>,
    /// Every request gets this status (and `Retry-After`) while set.
    outage: Option<(u16, Option<&'static str>)>,
    /// Requests with another `Authorization: Bearer` get 401 while set.
    accepted_key: Option<String>,
    received: Vec<Received>,
    messages: Vec<Message>,
    requests: usize,
    /// Session creations received, whatever the answer.
    creates: usize,
    sessions: Vec<StoredSession>,
    /// How long a new session stays out of the list.
    list_lag: Duration,
    /// `GET .../sessions/{id}` received, by session.
    reads: Vec<String>,
    /// Sessions whose reads fail, with this status.
    failing_reads: Vec<(String, u16)>,
    /// The `org_id` `GET /v3/self` shows, when a test set one (else `org-test`).
    self_org_id: Option<Value>,
}

type Shared = Arc<Mutex<Script>>;

pub struct FakeDevin {
    pub url: String,
    script: Shared,
    server: tokio::task::JoinHandle<()>,
    connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeDevin {
    pub async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new()
            .route(
                "/v3/organizations/{org_id}/sessions",
                post(create_session).get(list_sessions),
            )
            .route(
                "/v3/organizations/{org_id}/sessions/{devin_id}",
                axum::routing::get(show_session).delete(terminate_session),
            )
            .route(
                "/v3/organizations/{org_id}/sessions/{devin_id}/messages",
                post(receive_message).get(list_messages),
            )
            .route(
                "/v3/organizations/{org_id}/sessions/{devin_id}/tags",
                post(append_tags),
            )
            .route("/v3/self", axum::routing::get(show_self))
            .with_state(script.clone());
        let loopback = super::serve_on_loopback(app).await;
        FakeDevin {
            url: format!("http://{}", loopback.address),
            script,
            server: loopback.server,
            connections: loopback.connections,
        }
    }

    /// Queues the answers to the next session creations; once they are used up, every
    /// creation succeeds.
    pub fn reply(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().create_replies.extend(replies);
    }

    /// Queues the answers to the next session look-ups; once they are used up, look-ups
    /// answer from the sessions created so far.
    pub fn reply_to_lookups(&self, replies: impl IntoIterator<Item = Reply>) {
        self.script.lock().unwrap().list_replies.extend(replies);
    }

    /// Every request gets `status` until called again with `None`.
    pub fn outage(&self, status: Option<u16>) {
        self.script.lock().unwrap().outage = status.map(|status| (status, None));
    }

    /// Every request gets `status` with this `Retry-After`, from now on.
    pub fn outage_with_retry_after(&self, status: u16, retry_after: &'static str) {
        self.script.lock().unwrap().outage = Some((status, Some(retry_after)));
    }

    /// Only this API key is accepted from now on.
    pub fn accept_only(&self, key: &str) {
        self.script.lock().unwrap().accepted_key = Some(key.to_owned());
    }

    /// The session creations received, in order.
    pub fn received(&self) -> Vec<Received> {
        self.script.lock().unwrap().received.clone()
    }

    /// The messages sent to sessions, in order.
    pub fn messages(&self) -> Vec<Message> {
        self.script.lock().unwrap().messages.clone()
    }

    /// How many TCP connections the clients opened.
    pub fn connections(&self) -> usize {
        self.connections.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many requests of any kind arrived.
    pub fn requests(&self) -> usize {
        self.script.lock().unwrap().requests
    }

    /// How many session creations arrived, answered or not.
    pub fn creates(&self) -> usize {
        self.script.lock().unwrap().creates
    }

    /// New sessions show in the list only this long after they were stored.
    pub fn list_lag(&self, lag: Duration) {
        self.script.lock().unwrap().list_lag = lag;
    }

    /// The session ends: messages to it are refused with 404.
    pub fn end_session(&self, session_id: &str) {
        let mut script = self.script.lock().unwrap();
        for session in &mut script.sessions {
            if session.session_id == session_id {
                session.ended = true;
            }
        }
    }

    pub fn sessions(&self) -> Vec<StoredSession> {
        self.script.lock().unwrap().sessions.clone()
    }

    /// What the session shows from now on: `fields` (`status`, `status_detail`,
    /// `structured_output`, `pull_requests`, ...) replace the ones it had.
    pub fn show(&self, session_id: &str, fields: Value) {
        let mut script = self.script.lock().unwrap();
        let session = script
            .sessions
            .iter_mut()
            .find(|s| s.session_id == session_id)
            .expect("a session the fake created");
        for (name, value) in fields.as_object().unwrap() {
            session.shown[name] = value.clone();
        }
    }

    /// Devin writes a message in the session.
    pub fn say(&self, session_id: &str, event_id: &str, message: &str) {
        let mut script = self.script.lock().unwrap();
        let session = script
            .sessions
            .iter_mut()
            .find(|s| s.session_id == session_id)
            .expect("a session the fake created");
        session
            .messages
            .push(json!({"event_id": event_id, "message": message,
            "source": "devin", "created_at": 1795857125}));
    }

    /// Reads of this session fail with `status` (`None`: they succeed again).
    pub fn fail_reads(&self, session_id: &str, status: Option<u16>) {
        let mut script = self.script.lock().unwrap();
        script.failing_reads.retain(|(id, _)| id != session_id);
        if let Some(status) = status {
            script.failing_reads.push((session_id.to_owned(), status));
        }
    }

    /// The organization the token belongs to, as `GET /v3/self` shows it (`null`: a service
    /// user of the enterprise).
    #[cfg(feature = "connect")] // connect-pagerduty --check's tests
    pub fn token_of_organization(&self, org_id: Value) {
        self.script.lock().unwrap().self_org_id = Some(org_id);
    }

    /// The sessions read one by one (`GET .../sessions/{id}`), in order.
    pub fn reads(&self) -> Vec<String> {
        self.script.lock().unwrap().reads.clone()
    }
}

impl Drop for FakeDevin {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn session_json(session: &StoredSession) -> Value {
    let hex = session.session_id.trim_start_matches("devin-");
    let mut shown = json!({
        "session_id": session.session_id,
        "url": format!("https://app.devin.ai/sessions/{hex}"),
        "status": "new",
        "tags": session.tags,
        "org_id": "org-test",
        "created_at": 1795857125,
        "updated_at": 1795857125,
        "acus_consumed": 0,
        "pull_requests": [],
    });
    for (name, value) in session.shown.as_object().into_iter().flatten() {
        shown[name] = value.clone();
    }
    shown
}

fn store_session(script: &Shared, tags: &Value) -> StoredSession {
    let mut script = script.lock().unwrap();
    let session = StoredSession {
        stored_at: std::time::Instant::now(),
        ended: false,
        shown: json!({}),
        messages: Vec::new(),
        session_id: format!("devin-{:032x}", script.sessions.len() + 1),
        tags: tags
            .as_array()
            .map(|tags| {
                tags.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
    };
    script.sessions.push(session.clone());
    session
}

/// Counts the request; answers for the outage or a refused key, if either applies.
fn gate(script: &mut Script, headers: &HeaderMap) -> Option<Response> {
    script.requests += 1;
    if let Some((status, retry_after)) = script.outage {
        return Some(scripted_status(status, retry_after));
    }
    let presented = headers.get("authorization").and_then(|v| v.to_str().ok());
    match &script.accepted_key {
        Some(key) if presented != Some(format!("Bearer {key}").as_str()) => {
            Some(scripted_status(401, None))
        }
        _ => None,
    }
}

async fn create_session(
    State(script): State<Shared>,
    Path(org_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let reply = {
        let mut locked = script.lock().unwrap();
        locked.creates += 1;
        if let Some(refused) = gate(&mut locked, &headers) {
            return refused;
        }
        locked.received.push(Received {
            org_id,
            authorization: headers
                .get("authorization")
                .map(|v| v.to_str().unwrap().to_owned()),
            body: body.clone(),
        });
        locked.create_replies.pop_front().unwrap_or(Reply::Session)
    };
    match reply {
        Reply::Session => {
            Json(session_json(&store_session(&script, &body["tags"]))).into_response()
        }
        Reply::SlowSession(delay) => {
            // Devin finishes the work even when the caller has given up waiting.
            let created = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                store_session(&script, &body["tags"])
            });
            Json(session_json(&created.await.unwrap())).into_response()
        }
        Reply::StoredThen(status) => {
            store_session(&script, &body["tags"]);
            scripted_status(status, None)
        }
        other => non_session_reply(other).await,
    }
}

async fn receive_message(
    State(script): State<Shared>,
    Path((_org_id, devin_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut script = script.lock().unwrap();
    if let Some(refused) = gate(&mut script, &headers) {
        return refused;
    }
    if !script
        .sessions
        .iter()
        .any(|s| s.session_id == devin_id && !s.ended)
    {
        return scripted_status(404, None);
    }
    script.messages.push(Message {
        devin_id,
        message: body["message"].as_str().unwrap_or_default().to_owned(),
    });
    Json(json!({"message_id": script.messages.len()})).into_response()
}

/// `GET .../sessions/{devin_id}`: the session as a test set it; 404 for an unknown one.
async fn show_session(
    State(script): State<Shared>,
    Path((_org_id, devin_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut script = script.lock().unwrap();
    if let Some(refused) = gate(&mut script, &headers) {
        return refused;
    }
    script.reads.push(devin_id.clone());
    if let Some((_, status)) = script.failing_reads.iter().find(|(id, _)| *id == devin_id) {
        return scripted_status(*status, None);
    }
    match script.sessions.iter().find(|s| s.session_id == devin_id) {
        Some(session) => Json(session_json(session)).into_response(),
        None => scripted_status(404, None),
    }
}

/// `DELETE .../sessions/{devin_id}?archive=true`: the session ends for good, archived.
async fn terminate_session(
    State(script): State<Shared>,
    Path((_org_id, devin_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let mut script = script.lock().unwrap();
    if let Some(refused) = gate(&mut script, &headers) {
        return refused;
    }
    let Some(session) = script
        .sessions
        .iter_mut()
        .find(|s| s.session_id == devin_id)
    else {
        return scripted_status(404, None);
    };
    session.ended = true;
    session.shown["status"] = "exit".into();
    session.shown["is_archived"] = true.into();
    Json(json!({"session_id": devin_id})).into_response()
}

/// `GET .../messages`: one page of two at most, so that clients must follow the cursor.
async fn list_messages(
    State(script): State<Shared>,
    Path((_org_id, devin_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let mut script = script.lock().unwrap();
    if let Some(refused) = gate(&mut script, &headers) {
        return refused;
    }
    let Some(session) = script.sessions.iter().find(|s| s.session_id == devin_id) else {
        return scripted_status(404, None);
    };
    let after: usize = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "after")
        .and_then(|(_, cursor)| cursor.parse().ok())
        .unwrap_or(0);
    let page: Vec<Value> = session
        .messages
        .iter()
        .skip(after)
        .take(2)
        .cloned()
        .collect();
    let next = after + page.len();
    let more = next < session.messages.len();
    Json(
        json!({"items": page, "end_cursor": more.then(|| next.to_string()),
        "has_next_page": more}),
    )
    .into_response()
}

/// `POST .../tags`: appends, deduplicated; more than 50 in all is refused.
async fn append_tags(
    State(script): State<Shared>,
    Path((_org_id, devin_id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut script = script.lock().unwrap();
    if let Some(refused) = gate(&mut script, &headers) {
        return refused;
    }
    let Some(session) = script
        .sessions
        .iter_mut()
        .find(|s| s.session_id == devin_id)
    else {
        return scripted_status(404, None);
    };
    let mut tags = session.tags.clone();
    for tag in body["tags"].as_array().into_iter().flatten() {
        let tag = tag.as_str().unwrap_or_default().to_owned();
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > 50 {
        return scripted_status(422, None);
    }
    session.tags = tags.clone();
    Json(json!({"tags": tags})).into_response()
}

async fn list_sessions(
    State(script): State<Shared>,
    Path(_org_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let reply = {
        let mut locked = script.lock().unwrap();
        if let Some(refused) = gate(&mut locked, &headers) {
            return refused;
        }
        locked.list_replies.pop_front()
    };
    if let Some(reply) = reply {
        if !matches!(reply, Reply::Session) {
            return non_session_reply(reply).await;
        }
    }
    let wanted: Vec<String> = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .filter(|(key, _)| key == "tags")
        .map(|(_, value)| value.into_owned())
        .collect();
    let script = script.lock().unwrap();
    // Newest first, as Devin lists them.
    let items: Vec<Value> = script
        .sessions
        .iter()
        .rev()
        .filter(|session| session.stored_at.elapsed() >= script.list_lag)
        .filter(|session| wanted.iter().all(|tag| session.tags.contains(tag)))
        .map(session_json)
        .collect();
    Json(json!({
        "items": items,
        "end_cursor": null,
        "has_next_page": false,
        "total": items.len(),
    }))
    .into_response()
}

/// `GET /v3/self`: who the token is, a service user of `org-test` unless a test said
/// otherwise (https://docs.devin.ai/api-reference/v3/self/self, operationId
/// `handle_get_self_v3_self_get`: `principal_type`, `service_user_id`, `service_user_name`,
/// `org_id` string or null).
async fn show_self(State(script): State<Shared>, headers: HeaderMap) -> Response {
    let mut script = script.lock().unwrap();
    if let Some(refused) = gate(&mut script, &headers) {
        return refused;
    }
    let org_id = script
        .self_org_id
        .clone()
        .unwrap_or_else(|| "org-test".into());
    Json(
        json!({"principal_type": "service_user", "service_user_id": "su-bridge",
        "service_user_name": "pagerduty-bridge", "org_id": org_id}),
    )
    .into_response()
}

async fn non_session_reply(reply: Reply) -> Response {
    match reply {
        Reply::Status(status, retry_after) => scripted_status(status, retry_after),
        Reply::Hang(duration) => {
            tokio::time::sleep(duration).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Reply::Garbage => Json(json!({"unexpected": true})).into_response(),
        Reply::Session | Reply::SlowSession(_) | Reply::StoredThen(_) => {
            unreachable!("sessions are answered above")
        }
    }
}

fn scripted_status(status: u16, retry_after: Option<&str>) -> Response {
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
