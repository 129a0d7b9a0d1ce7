//! A Devin v3 API on loopback: creates sessions (`POST .../sessions`), lists them
//! (`GET .../sessions` with `created_after`, `first` and the `after`
//! cursor), shows one (`GET .../sessions/{id}`: status, findings, pull
//! requests, as a test sets them) and its messages, answers as scripted, and records what it
//! receives. With tag validation on (`validate_tags`), tags outside an allow-list are refused.
//! A create that breaks Devin's published contract (a field the reference does not list, a
//! `session_links` entry that is not a Devin session) is refused as Devin refuses it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::calls::{Service, Unlisted};
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
    /// The session is created at once, and the answer comes only after this long: a create
    /// that timed out on the caller's side after Devin made the session (issue 20, item 1).
    StoredThenHang(Duration),
    /// This status with this JSON body: a refusal with Devin's own words.
    Refuse(u16, Value),
}

/// How the fake answers the write calls whose answer the bridge does not read (a message, tags,
/// a termination). Devin's reference documents no body for them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum WriteAnswer {
    /// 200 with a JSON body.
    #[default]
    Json,
    /// 204 No Content.
    NoContent,
    /// 200 with an empty body.
    EmptyOk,
    /// 200 with a body that is not JSON.
    Text,
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

/// The unit of the epoch numbers Devin shows (`created_at`) and reads (`created_after`): its
/// reference says only "integer", so tests run the bridge against both.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum EpochUnit {
    #[default]
    Seconds,
    Milliseconds,
}

#[derive(Debug, Clone)]
pub struct StoredSession {
    pub session_id: String,
    pub title: Option<String>,
    /// The brief it was created with.
    pub prompt: String,
    pub tags: Vec<String>,
    /// Wall-clock time it was stored, in milliseconds since the epoch.
    pub created_at_ms: u64,
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
    /// While set, every `GET` of a session answers only after this long.
    slow_reads: Option<Duration>,
    /// Tag validation: when set, only these tags are accepted on create and on tag updates.
    allowed_tags: Option<Vec<String>>,
    /// The unit of `created_at` and `created_after`.
    epoch_unit: EpochUnit,
    /// The most sessions one page of the list holds, below the caller's `first`.
    list_page_cap: Option<usize>,
    /// The query strings of `GET .../sessions`, in order.
    list_queries: Vec<String>,
    write_answer: WriteAnswer,
    /// The `org_id` `GET /v3/self` shows, when a test set one (else `org-test`).
    self_org_id: Option<Value>,
    /// Milliseconds the test moved wall time by (`clock::WALL_CLOCK_SHIFT_MS`): new sessions'
    /// `created_at` is read on the same clock as the bridge's `created_after`.
    clock_shift_ms: u64,
}

impl Script {
    /// The stored session with this id (as paths take it, `devin-` prefixed).
    fn session(&self, devin_id: &str) -> Option<&StoredSession> {
        self.sessions.iter().find(|s| s.session_id == devin_id)
    }

    fn session_mut(&mut self, devin_id: &str) -> Option<&mut StoredSession> {
        self.sessions.iter_mut().find(|s| s.session_id == devin_id)
    }
}

type Shared = Arc<Mutex<Script>>;

pub struct FakeDevin {
    pub url: String,
    script: Shared,
    server: tokio::task::JoinHandle<()>,
    /// Requests the table of remote calls lacks: the test fails when the fake is dropped.
    unlisted: Unlisted,
    connections: Arc<std::sync::atomic::AtomicUsize>,
}

impl FakeDevin {
    /// The requests this fake refused for want of a row in the table of remote calls.
    pub fn unlisted(&self) -> &Unlisted {
        &self.unlisted
    }

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
        let (app, unlisted) = Unlisted::guard(Service::Devin, app);
        let loopback = super::serve_on_loopback(app).await;
        FakeDevin {
            url: format!("http://{}", loopback.address),
            script,
            server: loopback.server,
            unlisted,
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
            .session_mut(session_id)
            .expect("a session the fake created");
        for (name, value) in fields.as_object().unwrap() {
            session.shown[name] = value.clone();
        }
    }

    /// Devin writes a message in the session.
    pub fn say(&self, session_id: &str, event_id: &str, message: &str) {
        let mut script = self.script.lock().unwrap();
        let session = script
            .session_mut(session_id)
            .expect("a session the fake created");
        session
            .messages
            .push(json!({"event_id": event_id, "message": message,
            "source": "devin", "created_at": 1795857125}));
    }

    /// Reads of this session fail with `status` (`None`: they succeed again).
    /// While `Some`, Devin shows a session only after `delay`.
    pub fn slow_reads(&self, delay: Option<Duration>) {
        self.script.lock().unwrap().slow_reads = delay;
    }

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

    /// Turns tag validation on: from now on only these tags are accepted, on create and on
    /// tag updates.
    pub fn validate_tags(&self, allowed: &[&str]) {
        self.script.lock().unwrap().allowed_tags =
            Some(allowed.iter().map(|tag| (*tag).to_owned()).collect());
    }

    /// The session was created `ago` earlier than it was.
    pub fn backdate(&self, session_id: &str, ago: Duration) {
        let mut script = self.script.lock().unwrap();
        let session = script
            .session_mut(session_id)
            .expect("a session the fake created");
        session.created_at_ms -= ago.as_millis() as u64;
    }

    /// Shows and reads epoch numbers in this unit from now on.
    pub fn epoch_unit(&self, unit: EpochUnit) {
        self.script.lock().unwrap().epoch_unit = unit;
    }

    /// One page of the list holds at most this many sessions, so that callers must follow the
    /// cursor.
    pub fn list_page_cap(&self, cap: usize) {
        self.script.lock().unwrap().list_page_cap = Some(cap);
    }

    /// The query strings the list was asked with, in order.
    pub fn list_queries(&self) -> Vec<String> {
        self.script.lock().unwrap().list_queries.clone()
    }

    /// Wall time moved by `shift_ms` from now on, as the bridge's clock is in the test.
    pub fn shift_clock(&self, shift_ms: u64) {
        self.script.lock().unwrap().clock_shift_ms = shift_ms;
    }

    /// Forgets the queued answers to creations not used yet: every creation succeeds again.
    pub fn clear_replies(&self) {
        self.script.lock().unwrap().create_replies.clear();
    }

    /// How messages, tags and terminations are answered from now on, when they succeed.
    pub fn answer_writes(&self, answer: WriteAnswer) {
        self.script.lock().unwrap().write_answer = answer;
    }
}

/// A successful write call (message, tags, termination), answered as the test asked; `json`
/// when it asked for JSON.
fn write_answer(answer: WriteAnswer, json: Value) -> Response {
    match answer {
        WriteAnswer::Json => Json(json).into_response(),
        WriteAnswer::NoContent => StatusCode::NO_CONTENT.into_response(),
        WriteAnswer::EmptyOk => StatusCode::OK.into_response(),
        WriteAnswer::Text => (StatusCode::OK, "ok").into_response(),
    }
}

impl Drop for FakeDevin {
    fn drop(&mut self) {
        self.server.abort();
        self.unlisted.fail_if_any();
    }
}

fn session_json(session: &StoredSession, unit: EpochUnit) -> Value {
    let hex = session.session_id.trim_start_matches("devin-");
    let created_at = in_unit(session.created_at_ms, unit);
    let mut shown = json!({
        "session_id": session.session_id,
        "url": format!("https://app.devin.ai/sessions/{hex}"),
        "status": "new",
        "title": session.title,
        "tags": session.tags,
        "org_id": "org-test",
        "created_at": created_at,
        "updated_at": created_at,
        "acus_consumed": 0,
        "pull_requests": [],
    });
    for (name, value) in session.shown.as_object().into_iter().flatten() {
        shown[name] = value.clone();
    }
    shown
}

fn in_unit(epoch_ms: u64, unit: EpochUnit) -> u64 {
    match unit {
        EpochUnit::Seconds => epoch_ms / 1000,
        EpochUnit::Milliseconds => epoch_ms,
    }
}

fn store_session(script: &Shared, body: &Value) -> StoredSession {
    let tags = &body["tags"];
    let mut script = script.lock().unwrap();
    let session = StoredSession {
        title: body["title"].as_str().map(str::to_owned),
        prompt: body["prompt"].as_str().unwrap_or_default().to_owned(),
        created_at_ms: super::now_ms() + script.clock_shift_ms,
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
        if let Some(refusal) = breaks_create_contract(&body) {
            return refusal;
        }
        if let Some(refused) = refused_tags(&locked, &body["tags"]) {
            return refused;
        }
        locked.create_replies.pop_front().unwrap_or(Reply::Session)
    };
    let unit = script.lock().unwrap().epoch_unit;
    match reply {
        Reply::Session => Json(session_json(&store_session(&script, &body), unit)).into_response(),
        Reply::SlowSession(delay) => {
            // Devin finishes the work even when the caller has given up waiting.
            let created = tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                store_session(&script, &body)
            });
            Json(session_json(&created.await.unwrap(), unit)).into_response()
        }
        Reply::StoredThen(status) => {
            store_session(&script, &body);
            scripted_status(status, None)
        }
        Reply::StoredThenHang(delay) => {
            let stored = store_session(&script, &body);
            tokio::time::sleep(delay).await;
            Json(session_json(&stored, unit)).into_response()
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
    // "The session will be automatically resumed if it is suspended" (Devin's v3 reference,
    // post-organizations-sessions-messages).
    if let Some(session) = script.session_mut(&devin_id) {
        if session.shown["status"] == "suspended" {
            session.shown["status"] = "running".into();
            session.shown["status_detail"] = "working".into();
        }
    }
    script.messages.push(Message {
        devin_id,
        message: body["message"].as_str().unwrap_or_default().to_owned(),
    });
    let json = json!({"message_id": script.messages.len()});
    write_answer(script.write_answer, json)
}

/// `GET .../sessions/{devin_id}`: the session as a test set it; 404 for an unknown one.
async fn show_session(
    State(script): State<Shared>,
    Path((_org_id, devin_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let slow = script.lock().unwrap().slow_reads;
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    let mut script = script.lock().unwrap();
    if let Some(refused) = gate(&mut script, &headers) {
        return refused;
    }
    script.reads.push(devin_id.clone());
    if let Some((_, status)) = script.failing_reads.iter().find(|(id, _)| *id == devin_id) {
        return scripted_status(*status, None);
    }
    match script.session(&devin_id) {
        Some(session) => Json(session_json(session, script.epoch_unit)).into_response(),
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
    let Some(session) = script.session_mut(&devin_id) else {
        return scripted_status(404, None);
    };
    session.ended = true;
    session.shown["status"] = "exit".into();
    session.shown["is_archived"] = true.into();
    write_answer(script.write_answer, json!({"session_id": devin_id}))
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
    let Some(session) = script.session(&devin_id) else {
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
    if let Some(refused) = refused_tags(&script, &body["tags"]) {
        return refused;
    }
    let Some(session) = script.session_mut(&devin_id) else {
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
    let answer = script.write_answer;
    write_answer(answer, json!({"tags": tags}))
}

/// `GET .../sessions`, as Devin's reference describes it
/// (<https://docs.devin.ai/api-reference/v3/sessions/organizations-sessions>): `first` from 1 to
/// 200 (default 100), the `after` cursor, and the one filter the bridge relies on:
/// `created_after` (an integer, in the fake's [`EpochUnit`]). The order is not documented: this fake lists the oldest first, so
/// a caller that takes the first item for the newest is caught.
async fn list_sessions(
    State(script): State<Shared>,
    Path(_org_id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let reply = {
        let mut locked = script.lock().unwrap();
        if let Some(refused) = gate(&mut locked, &headers) {
            return refused;
        }
        locked.list_queries.push(query.clone());
        locked.list_replies.pop_front()
    };
    if let Some(reply) = reply {
        if !matches!(reply, Reply::Session) {
            return non_session_reply(reply).await;
        }
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let all = |name: &str| -> Vec<&str> {
        params
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
            .collect()
    };
    // An integer query parameter; the name of one that is not, as the error.
    let integer = |name: &'static str| -> Result<Option<u64>, &'static str> {
        match all(name).last() {
            None => Ok(None),
            Some(value) => value.parse().map(Some).map_err(|_| name),
        }
    };
    let parsed = (|| {
        Ok::<_, &'static str>((
            integer("first")?.unwrap_or(100),
            integer("after")?.unwrap_or(0),
            integer("created_after")?,
        ))
    })();
    let (first, after, created_after) = match parsed {
        Ok(parsed) => parsed,
        Err(name) => {
            return validation_error_at(json!(["query", name]), "Input should be a valid integer");
        }
    };
    if !(1..=200).contains(&first) {
        return validation_error_at(
            json!(["query", "first"]),
            "Input should be between 1 and 200",
        );
    }
    let script = script.lock().unwrap();
    let unit = script.epoch_unit;
    let matching: Vec<&StoredSession> = script
        .sessions
        .iter()
        .filter(|session| session.stored_at.elapsed() >= script.list_lag)
        .filter(|session| {
            created_after.is_none_or(|after| in_unit(session.created_at_ms, unit) > after)
        })
        .collect();
    let page_size = script
        .list_page_cap
        .map_or(first as usize, |cap| cap.min(first as usize));
    let page: Vec<Value> = matching
        .iter()
        .skip(after as usize)
        .take(page_size)
        .map(|session| session_json(session, unit))
        .collect();
    let next = after as usize + page.len();
    let more = next < matching.len();
    Json(json!({
        "items": page,
        "end_cursor": more.then(|| next.to_string()),
        "has_next_page": more,
        "total": matching.len(),
    }))
    .into_response()
}

/// Tag validation: with it on, a create or a tag update carrying a tag outside the
/// organization's allow-list is refused. Source: Devin's API release notes, Dec 2025
/// (<https://docs.devin.ai/api-reference/release-notes>): "when tag validation is enabled,
/// session creation and tag updates enforce allow-listed tags". The wording and status of the
/// refusal are not documented: the fake answers 422 in the form Devin's reference gives its
/// validation errors, naming the tag.
fn refused_tags(script: &Script, tags: &Value) -> Option<Response> {
    let allowed = script.allowed_tags.as_ref()?;
    let (index, refused) = tags
        .as_array()
        .into_iter()
        .flatten()
        .enumerate()
        .find(|(_, tag)| {
            !tag.as_str()
                .is_some_and(|tag| allowed.iter().any(|a| a == tag))
        })?;
    let name = refused.as_str().unwrap_or_default();
    Some(validation_error_at(
        json!(["body", "tags", index]),
        &format!("Tag '{name}' is not in the organization's allowed tags"),
    ))
}

/// Devin's 422: `{"detail": [{"loc": [...], "msg": ..., "type": ...}]}`, the form its v3
/// reference gives validation errors (HTTPValidationError).
fn validation_error_at(loc: Value, msg: &str) -> Response {
    validation_errors(vec![json!({"loc": loc, "msg": msg, "type": "value_error"})])
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
        Reply::Refuse(status, body) => {
            (StatusCode::from_u16(status).unwrap(), Json(body)).into_response()
        }
        Reply::Session
        | Reply::SlowSession(_)
        | Reply::StoredThen(_)
        | Reply::StoredThenHang(_) => {
            unreachable!("sessions are answered above")
        }
    }
}

/// The body fields of `POST /v3/organizations/{org_id}/sessions` in Devin's v3 reference
/// (https://docs.devin.ai/api-reference/v3/sessions/post-organizations-sessions): a create with
/// any other field is refused.
const CREATE_FIELDS: [&str; 19] = [
    "prompt",
    "title",
    "tags",
    "playbook_id",
    "knowledge_ids",
    "secret_ids",
    "max_acu_limit",
    "repos",
    "session_links",
    "structured_output_schema",
    "structured_output_required",
    "create_as_user_id",
    "devin_mode",
    "platform",
    "attachment_urls",
    "advanced_mode",
    "child_playbook_id",
    "bypass_approval",
    "session_secrets",
];

/// What Devin's v3 reference refuses in a create, as it refuses it: 422 with
/// `{"detail": [{"loc", "msg", "type"}]}` (the "Validation Error" answer of
/// https://docs.devin.ai/api-reference/v3/sessions/post-organizations-sessions). `prompt` is
/// the one required field; a field the reference does not list is refused; `devin_mode` is
/// `normal` or `fast`; `session_links` are
/// links to Devin sessions (the reference: "links to Devin sessions" for `advanced_mode`), so an
/// entry that is not `https://app.devin.ai/sessions/<id>` is refused.
fn breaks_create_contract(body: &Value) -> Option<Response> {
    let mut problems = Vec::new();
    let Some(fields) = body.as_object() else {
        problems.push(
            json!({"loc": ["body"], "msg": "Input should be a valid dictionary",
            "type": "dict_type"}),
        );
        return Some(validation_errors(problems));
    };
    if !fields.get("prompt").is_some_and(Value::is_string) {
        problems
            .push(json!({"loc": ["body", "prompt"], "msg": "Field required", "type": "missing"}));
    }
    for name in fields
        .keys()
        .filter(|name| !CREATE_FIELDS.contains(&name.as_str()))
    {
        problems.push(
            json!({"loc": ["body", name], "msg": "Extra inputs are not permitted",
            "type": "extra_forbidden"}),
        );
    }
    if let Some(mode) = fields.get("devin_mode").filter(|mode| !is_devin_mode(mode)) {
        problems.push(json!({"loc": ["body", "devin_mode"],
            "msg": "Input should be 'normal' or 'fast'", "type": "enum",
            "input": mode, "ctx": {"expected": "'normal' or 'fast'"}}));
    }
    let links = fields.get("session_links").and_then(Value::as_array);
    for (n, link) in links.into_iter().flatten().enumerate() {
        if !link.as_str().is_some_and(is_devin_session_url) {
            problems.push(json!({"loc": ["body", "session_links", n],
                "msg": "Value error, not a Devin session URL", "type": "value_error"}));
        }
    }
    (!problems.is_empty()).then(|| validation_errors(problems))
}

/// `devin_mode`: the two modes Devin's v3 create reference documents ("normal", "fast"; section
/// "Devin mode"), refused otherwise as FastAPI refuses a value outside an enum (type `enum`).
/// Devin's SDK lists preview modes too; the bridge's policy takes only these two, and the fake
/// holds it to them.
fn is_devin_mode(mode: &Value) -> bool {
    matches!(mode.as_str(), Some("normal" | "fast"))
}

fn is_devin_session_url(link: &str) -> bool {
    link.strip_prefix("https://app.devin.ai/sessions/")
        .is_some_and(|id| {
            !id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Several problems in one 422, as Devin lists every field it refuses.
fn validation_errors(problems: Vec<Value>) -> Response {
    (
        StatusCode::UNPROCESSABLE_ENTITY,
        Json(json!({ "detail": problems })),
    )
        .into_response()
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
