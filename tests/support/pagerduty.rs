//! The PagerDuty REST API on loopback, for the calls the bridge makes: a note on an incident
//! (`POST /incidents/{id}/notes`) and the incident's notes (`GET /incidents/{id}/notes`), the
//! open incidents (`GET /incidents`, filtered and paged as PagerDuty does) and one incident
//! (`GET /incidents/{id}`), both in REST's shape, what PagerDuty correlated with an incident
//! ([`correlated`]), its log entries and its custom fields ([`fields`]). Records each note and
//! each request; answers as scripted.
//!
//! Its rules follow PagerDuty's REST OpenAPI (the repository PagerDuty/api-schema,
//! `reference/REST/openapiv3.json`), each naming its operation.

mod correlated;
mod fields;
mod log_entries;

pub use correlated::Correlated;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use super::calls::{Service, Unlisted};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use pure::inbound::timestamp;
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
    /// The next notes are stored, then answered with these statuses (a 502 from a proxy after
    /// PagerDuty stored the note): before `replies`.
    stored_then: VecDeque<u16>,
    /// While set, a note is stored at once and answered only after this long.
    slow_notes: Option<std::time::Duration>,
    requests: Vec<NoteRequest>,
    /// The account's incidents, as a webhook delivery carries them; served in REST's shape.
    incidents: Vec<Value>,
    /// Notes on incidents, as `GET /incidents/{id}/notes` shows them: incident id and note.
    notes: Vec<(String, Value)>,
    /// Each incident's alerts, as `GET /incidents/{id}/alerts` shows them.
    alerts: Vec<(String, Value)>,
    /// How `GET .../alerts` answers instead, when set.
    alerts_reply: Option<AlertsReply>,
    /// The account's users: id and email.
    users: Vec<(String, String)>,
    /// Services and teams: kind (`services`, `teams`), id and name.
    directory: Vec<(&'static str, String, String)>,
    /// The webhook subscriptions, as PagerDuty keeps them (with their signing secret).
    subscriptions: Vec<Value>,
    /// What arrived at `/webhook_subscriptions`: method, subscription id, body.
    subscription_requests: Vec<(String, Option<String>, Value)>,
    /// Each incident's log entries (`log_entries.rs`), how their list answers instead when
    /// set, and the queries it got.
    log_entries: Vec<(String, Value)>,
    log_entries_reply: Option<AlertsReply>,
    log_entry_requests: Vec<(String, String)>,
    /// The incidents' custom fields ([`fields`]).
    fields: fields::FieldsScript,
    /// What PagerDuty correlated: which read, incident id, items.
    correlated: Vec<(Correlated, String, Value)>,
    /// How a correlated read answers instead, when set.
    correlated_replies: Vec<(Correlated, AlertsReply)>,
    /// Every request received: `METHOD /path`.
    calls: Vec<String>,
    /// Every answer is held back this long, when set.
    answer_after: Option<std::time::Duration>,
}

/// A scripted answer to `GET /incidents/{id}/alerts`.
#[derive(Debug, Clone, Copy)]
pub enum AlertsReply {
    Status(u16),
    /// No answer for this long.
    Hang(std::time::Duration),
}

impl AlertsReply {
    /// The scripted failure, when one is set: the status, or a 504 after the hang.
    async fn failure(reply: Option<AlertsReply>) -> Option<Response> {
        match reply? {
            AlertsReply::Status(status) => Some(failure(status)),
            AlertsReply::Hang(duration) => {
                tokio::time::sleep(duration).await;
                Some(failure(504))
            }
        }
    }
}

impl Script {
    /// The stored subscription with this id.
    fn subscription_mut(&mut self, id: &str) -> Option<&mut Value> {
        self.subscriptions.iter_mut().find(|s| s["id"] == id)
    }
}

type Shared = Arc<Mutex<Script>>;

pub struct FakePagerDuty {
    pub url: String,
    script: Shared,
    server: tokio::task::JoinHandle<()>,
    /// Requests the table of remote calls lacks: the test fails when the fake is dropped.
    unlisted: Unlisted,
}

impl FakePagerDuty {
    /// The requests this fake refused for want of a row in the table of remote calls.
    pub fn unlisted(&self) -> &Unlisted {
        &self.unlisted
    }

    pub async fn start() -> Self {
        let script: Shared = Arc::default();
        let app = Router::new()
            .route("/incidents/{id}/notes", post(add_note).get(list_notes))
            .route("/incidents", get(list_incidents))
            .route("/incidents/{id}", get(show_incident))
            .route("/incidents/{id}/alerts", get(list_alerts))
            .route(
                "/incidents/{id}/related_change_events",
                get(correlated::related_change_events),
            )
            .route(
                "/incidents/{id}/past_incidents",
                get(correlated::past_incidents),
            )
            .route(
                "/incidents/{id}/related_incidents",
                get(correlated::related_incidents),
            )
            .route(
                "/incidents/{id}/log_entries",
                get(log_entries::list_log_entries),
            )
            .route(
                "/incidents/{id}/custom_fields/values",
                get(fields::list_values).put(fields::set_values),
            )
            .route("/users/{id}", get(show_user))
            .route("/services", get(|s, q| list_directory(s, q, "services")))
            .route(
                "/services/{id}",
                get(|s, p| show_directory(s, p, "services")),
            )
            .route("/teams", get(|s, q| list_directory(s, q, "teams")))
            .route("/teams/{id}", get(|s, p| show_directory(s, p, "teams")))
            .route(
                "/webhook_subscriptions",
                get(list_subscriptions).post(create_subscription),
            )
            .route(
                "/webhook_subscriptions/{id}",
                axum::routing::put(update_subscription).delete(delete_subscription),
            )
            .route("/webhook_subscriptions/{id}/ping", post(ping_subscription))
            .route(
                "/webhook_subscriptions/{id}/enable",
                post(enable_subscription),
            )
            .layer(axum::middleware::from_fn_with_state(
                script.clone(),
                correlated::record,
            ))
            .with_state(script.clone());
        let (app, unlisted) = Unlisted::guard(Service::PagerDuty, app);
        let loopback = super::serve_on_loopback(app).await;
        FakePagerDuty {
            url: format!("http://{}", loopback.address),
            script,
            server: loopback.server,
            unlisted,
        }
    }

    pub fn reply(&self, replies: impl IntoIterator<Item = (u16, Option<&'static str>)>) {
        self.script.lock().unwrap().replies.extend(replies);
    }

    /// Forgets the scripted answers not used yet (`stored_then`'s too): every note succeeds
    /// again.
    pub fn clear_replies(&self) {
        let mut script = self.script.lock().unwrap();
        script.replies.clear();
        script.stored_then.clear();
    }

    /// The next `times` notes are stored, then answered `status`: the answer says failed, the
    /// incident shows the note (what a gateway's 5xx or a lost answer looks like to a client;
    /// `createIncidentNote` is not idempotent, so a retry adds another copy).
    pub fn stored_then(&self, status: u16, times: usize) {
        let mut script = self.script.lock().unwrap();
        script
            .stored_then
            .extend(std::iter::repeat_n(status, times));
    }

    /// While `Some`, notes are stored at once and answered 201 only after `delay`.
    pub fn slow_notes(&self, delay: Option<std::time::Duration>) {
        self.script.lock().unwrap().slow_notes = delay;
    }

    /// The notes the incident shows (`listIncidentNotes`), bridge's and responders', in order.
    pub fn stored_notes_on(&self, incident_id: &str) -> Vec<String> {
        let script = self.script.lock().unwrap();
        script
            .notes
            .iter()
            .filter(|(incident, _)| incident == incident_id)
            .map(|(_, note)| note["content"].as_str().unwrap_or_default().to_owned())
            .collect()
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

    /// An incident of the account (its `id`, `status` and `created_at` at least), written as a
    /// webhook delivery's `data` carries it (`number`, `assignees`): the fake serves it in REST's
    /// shape, so one value can be both delivered and read.
    pub fn add_incident(&self, incident: Value) {
        self.script.lock().unwrap().incidents.push(incident);
    }

    /// A note on the incident, whole, as a responder wrote it (`id`, `content`, `user`).
    pub fn add_note_on(&self, incident_id: &str, note: Value) {
        let mut script = self.script.lock().unwrap();
        script.notes.push((incident_id.to_owned(), note));
    }

    /// The incident's alerts, newest first.
    pub fn add_alerts(&self, incident_id: &str, alerts: Value) {
        let mut script = self.script.lock().unwrap();
        script.alerts.push((incident_id.to_owned(), alerts));
    }

    /// How every `GET .../alerts` answers from now on (`None`: with the alerts).
    pub fn alerts_reply(&self, reply: Option<AlertsReply>) {
        self.script.lock().unwrap().alerts_reply = reply;
    }

    /// A service (`services`) or a team (`teams`) of the account.
    #[cfg(feature = "connect")] // connect-pagerduty's tests
    pub fn add_to_directory(&self, kind: &'static str, id: &str, name: &str) {
        let mut script = self.script.lock().unwrap();
        script
            .directory
            .push((kind, id.to_owned(), name.to_owned()));
    }

    /// The webhook subscriptions PagerDuty keeps.
    #[cfg(feature = "connect")] // connect-pagerduty's tests
    pub fn subscriptions(&self) -> Vec<Value> {
        self.script.lock().unwrap().subscriptions.clone()
    }

    /// PagerDuty disables the subscription, as it does after three dropped deliveries in a
    /// row (`delivery_method.temporarily_disabled`).
    #[cfg(feature = "connect")] // connect-pagerduty's tests
    pub fn disable_temporarily(&self, id: &str) {
        let mut script = self.script.lock().unwrap();
        for subscription in &mut script.subscriptions {
            if subscription["id"] == id {
                subscription["delivery_method"]["temporarily_disabled"] = true.into();
            }
        }
    }

    /// The requests to `/webhook_subscriptions...`: method (`PING`, `ENABLE` for those
    /// two), subscription id, body.
    #[cfg(feature = "connect")] // connect-pagerduty's tests
    pub fn subscription_requests(&self) -> Vec<(String, Option<String>, Value)> {
        self.script.lock().unwrap().subscription_requests.clone()
    }

    /// A user of the account.
    pub fn add_user(&self, id: &str, email: &str) {
        let mut script = self.script.lock().unwrap();
        script.users.push((id.to_owned(), email.to_owned()));
    }

    /// The incident was created `ago` earlier than it was.
    pub fn backdate(&self, incident_id: &str, ago: std::time::Duration) {
        let mut script = self.script.lock().unwrap();
        for incident in &mut script.incidents {
            if incident["id"] == incident_id {
                let created = incident["created_at"].as_str().unwrap();
                let created = timestamp::epoch_ms(created).unwrap();
                incident["created_at"] =
                    timestamp::rfc3339(created - ago.as_millis() as u64).into();
            }
        }
    }

    /// The incident is open again (triggered).
    pub fn reopen(&self, incident_id: &str) {
        let mut script = self.script.lock().unwrap();
        for incident in &mut script.incidents {
            if incident["id"] == incident_id {
                incident["status"] = "triggered".into();
            }
        }
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
        self.unlisted.fail_if_any();
    }
}

async fn add_note(
    State(script): State<Shared>,
    Path(incident_id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let (response, slow) = {
        let mut script = script.lock().unwrap();
        let slow = script.slow_notes;
        (store_note(&mut script, incident_id, headers, body), slow)
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    response
}

fn store_note(
    script: &mut Script,
    incident_id: String,
    headers: HeaderMap,
    body: Value,
) -> Response {
    let stored_then = match script.outage {
        Some(_) => None,
        None => script.stored_then.pop_front(),
    };
    let (status, reset) = match (script.outage, stored_then) {
        (Some(status), _) => (status, None),
        (None, Some(_)) => (201, None),
        (None, None) => script.replies.pop_front().unwrap_or((201, None)),
    };
    // `createIncidentNote`: the `From` header (a user's email) and `note.content` are required;
    // without them PagerDuty answers 400 (`ArgumentError`).
    let refused = if !headers.get("from").is_some_and(|from| {
        from.to_str()
            .is_ok_and(|email| email.contains('@') && !email.trim().is_empty())
    }) {
        Some("From header is required and must be a user's email")
    } else if !body["note"]["content"].is_string() {
        Some("note.content is required")
    } else {
        None
    };
    let status = if refused.is_some() { 400 } else { status };
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
    let mut response = if let Some(message) = refused {
        (
            StatusCode::BAD_REQUEST,
            Json(
                json!({"error": {"message": "Invalid Input Provided", "code": 2001,
                "errors": [message]}}),
            ),
        )
            .into_response()
    } else if status < 300 {
        let note = json!({"id": format!("PNOTE{}", script.requests.len()),
            "content": body["note"]["content"],
            "user": {"id": "PBRIDGE", "type": "user_reference", "summary": "Devin Bridge"}});
        let incident_id = script.requests.last().unwrap().incident_id.clone();
        script.notes.push((incident_id, note.clone()));
        match stored_then {
            Some(status) => failure(status),
            None => (StatusCode::CREATED, Json(json!({"note": note}))).into_response(),
        }
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

/// `GET /incidents?statuses[]=...&since=...&until=...&limit=...&offset=...` (`listIncidents`),
/// with `service_ids[]` and `team_ids[]` when given: the incidents with those statuses created
/// in `[since, until)`, of those services and teams, a page at a time.
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
    // `listIncidents`: `statuses[]` takes `triggered`, `acknowledged`, `resolved` only.
    if statuses
        .iter()
        .any(|status| !["triggered", "acknowledged", "resolved"].contains(&status.as_str()))
    {
        return failure(400);
    }
    let time = |text: &str| timestamp::epoch_ms(text).expect("an RFC 3339 time");
    let (since, until) = (time(&one("since").unwrap()), time(&one("until").unwrap()));
    let limit: usize = one("limit").unwrap().parse().unwrap();
    let offset: usize = one("offset").unwrap_or_default().parse().unwrap_or(0);
    let created = |incident: &Value| time(incident["created_at"].as_str().unwrap());
    // `service_ids[]`: "Returns only the incidents associated with the passed service(s)";
    // `team_ids[]`: "Only results related to these teams will be returned". Given both, an
    // incident must match both, as every other filter of the operation narrows the list.
    let listed = |name: &str| -> Vec<&String> {
        query
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value)
            .collect()
    };
    let (services, teams) = (listed("service_ids[]"), listed("team_ids[]"));
    let in_scope = |incident: &Value| {
        let service = &incident["service"]["id"];
        let on_team = |team: &String| {
            incident["teams"]
                .as_array()
                .is_some_and(|teams| teams.iter().any(|t| t["id"] == team.as_str()))
        };
        (services.is_empty() || services.iter().any(|id| service == id.as_str()))
            && (teams.is_empty() || teams.iter().any(|team| on_team(team)))
    };
    let matching: Vec<Value> = script
        .incidents
        .iter()
        .filter(|incident| statuses.iter().any(|s| incident["status"] == s.as_str()))
        .filter(|incident| created(incident) >= since && created(incident) < until)
        .filter(|incident| in_scope(incident))
        .map(rest_shape)
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
        Some(incident) => Json(json!({"incident": rest_shape(incident)})).into_response(),
        None => failure(404),
    }
}

/// An incident as `getIncident` and `listIncidents` answer it: the OpenAPI's `Incident` schema
/// says `incident_number` and `assignments: [{at, assignee}]` where a delivery's `data` says
/// `number` and `assignees`, and adds a `summary` (`[#1234] title`). Only REST's names are
/// served, so a client that reads REST with the webhook's names finds no number and no
/// assignees, as it would against PagerDuty.
fn rest_shape(delivered: &Value) -> Value {
    let mut incident = delivered.clone();
    let fields = incident.as_object_mut().unwrap();
    let number = fields.remove("number").unwrap_or(Value::Null);
    let assignees = fields.remove("assignees").unwrap_or(Value::Null);
    let at = fields.get("created_at").cloned().unwrap_or(Value::Null);
    let assignments: Vec<Value> = assignees
        .as_array()
        .into_iter()
        .flatten()
        .map(|assignee| json!({"at": at, "assignee": assignee}))
        .collect();
    let summary = format!(
        "[#{}] {}",
        number,
        fields.get("title").and_then(Value::as_str).unwrap_or("")
    );
    fields.insert("type".into(), "incident".into());
    fields.insert("incident_number".into(), number);
    fields.insert("assignments".into(), assignments.into());
    fields.insert("summary".into(), summary.into());
    fields.insert(
        "alert_counts".into(),
        json!({"all": 1, "triggered": 1, "resolved": 0}),
    );
    incident
}

/// `listIncidentNotes`: `{"notes": [...]}`, every note of the incident whole, unpaged.
async fn list_notes(State(script): State<Shared>, Path(id): Path<String>) -> Response {
    let script = script.lock().unwrap();
    if let Some(status) = script.outage {
        return failure(status);
    }
    let notes: Vec<&Value> = script
        .notes
        .iter()
        .filter(|(incident, _)| *incident == id)
        .map(|(_, note)| note)
        .collect();
    Json(json!({"notes": notes})).into_response()
}

fn failure(status: u16) -> Response {
    (
        StatusCode::from_u16(status).unwrap(),
        Json(json!({"error": {"message": "scripted failure"}})),
    )
        .into_response()
}

async fn list_alerts(
    State(script): State<Shared>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (reply, alerts) = {
        let script = script.lock().unwrap();
        let alerts = script
            .alerts
            .iter()
            .find(|(incident, _)| *incident == id)
            .map_or(json!([]), |(_, alerts)| alerts.clone());
        (script.alerts_reply, alerts)
    };
    if let Some(failure) = AlertsReply::failure(reply).await {
        return failure;
    }
    let limit: usize = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "limit")
        .and_then(|(_, limit)| limit.parse().ok())
        .unwrap_or(25);
    let page: Vec<Value> = alerts
        .as_array()
        .unwrap()
        .iter()
        .take(limit)
        .cloned()
        .collect();
    Json(json!({"alerts": page, "limit": limit, "offset": 0, "more": false})).into_response()
}

async fn show_user(State(script): State<Shared>, Path(id): Path<String>) -> Response {
    let script = script.lock().unwrap();
    match script.users.iter().find(|(user, _)| *user == id) {
        Some((id, email)) => {
            Json(json!({"user": {"id": id, "email": email, "type": "user"}})).into_response()
        }
        None => failure(404),
    }
}

async fn list_directory(
    State(script): State<Shared>,
    RawQuery(query): RawQuery,
    kind: &'static str,
) -> Response {
    let script = script.lock().unwrap();
    let wanted = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "query")
        .map(|(_, value)| value.to_lowercase())
        .unwrap_or_default();
    // PagerDuty's query matches parts of names.
    let found: Vec<Value> = script
        .directory
        .iter()
        .filter(|(k, _, name)| *k == kind && name.to_lowercase().contains(&wanted))
        .map(|(_, id, name)| json!({"id": id, "name": name}))
        .collect();
    Json(json!({kind: found, "more": false})).into_response()
}

/// `GET /services/{id}` (`getService`) and `GET /teams/{id}` (`getTeam`): `{"service": {...}}`
/// or `{"team": {...}}` with the fields the OpenAPI's examples show for both (`id`, `type`,
/// `summary`, `self`, `html_url`, `name`); an unknown id is 404 (`NotFound`).
async fn show_directory(
    State(script): State<Shared>,
    Path(id): Path<String>,
    kind: &'static str,
) -> Response {
    let script = script.lock().unwrap();
    let one = kind.trim_end_matches('s');
    match script
        .directory
        .iter()
        .find(|(k, i, _)| *k == kind && *i == id)
    {
        Some((_, id, name)) => Json(json!({one: {"id": id, "type": one, "summary": name,
            "self": format!("https://api.pagerduty.com/{kind}/{id}"),
            "html_url": format!("https://subdomain.pagerduty.com/{kind}/{id}"),
            "name": name}}))
        .into_response(),
        None => failure(404),
    }
}

/// A subscription as PagerDuty answers with it: custom header values redacted on every read
/// ("The header values are redacted in GET requests": the OpenAPI's `WebhookSubscription`
/// schema, `delivery_method.custom_headers`; its examples show `"-- redacted --"`), and the
/// signing secret only in the create's answer ("Only provided on the initial create response",
/// `delivery_method.secret`).
fn as_answered(subscription: &Value, with_secret: bool) -> Value {
    let mut shown = subscription.clone();
    if !with_secret {
        shown["delivery_method"]["secret"] = Value::Null;
    }
    if let Some(headers) = shown["delivery_method"]["custom_headers"].as_array_mut() {
        for header in headers {
            header["value"] = "-- redacted --".into();
        }
    }
    shown
}

/// `GET /webhook_subscriptions?filter_type=&filter_id=&limit=&offset=`: a page of one, so that
/// clients must page. `filter_type` outside `account|service|team` is refused 400, and
/// `service`/`team` need a `filter_id` (PagerDuty/api-schema, reference/REST/openapiv3.json,
/// operation `listWebhookSubscriptions`, parameters `webhooks_filter_type`/`webhooks_filter_id`).
async fn list_subscriptions(State(script): State<Shared>, RawQuery(query): RawQuery) -> Response {
    let script = script.lock().unwrap();
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    let one = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    let filter_type = one("filter_type");
    match filter_type.as_deref() {
        None | Some("account") => {}
        Some("service" | "team") if one("filter_id").is_some() => {}
        Some(_) => return failure(400),
    }
    let offset: usize = one("offset").and_then(|o| o.parse().ok()).unwrap_or(0);
    let matching: Vec<Value> = script
        .subscriptions
        .iter()
        .filter(|s| {
            filter_type
                .as_ref()
                .is_none_or(|t| s["filter"]["type"] == format!("{t}_reference").as_str())
        })
        .filter(|s| one("filter_id").is_none_or(|id| s["filter"]["id"] == id.as_str()))
        .map(|s| as_answered(s, false))
        .collect();
    let page: Vec<Value> = matching.iter().skip(offset).take(1).cloned().collect();
    let more = offset + page.len() < matching.len();
    Json(json!({"webhook_subscriptions": page, "offset": offset, "more": more})).into_response()
}

/// `POST /webhook_subscriptions` (`createWebhookSubscription`): a `filter.type` outside
/// `account_reference|service_reference|team_reference` is refused 400 (the
/// `WebhookSubscription` schema's enum); an account filter is kept with `"id": null`, as
/// PagerDuty lists it; `active` defaults to true.
async fn create_subscription(State(script): State<Shared>, Json(body): Json<Value>) -> Response {
    let mut script = script.lock().unwrap();
    script
        .subscription_requests
        .push(("POST".into(), None, body.clone()));
    let mut subscription = body["webhook_subscription"].clone();
    match subscription["filter"]["type"].as_str() {
        Some("account_reference") => subscription["filter"]["id"] = Value::Null,
        Some("service_reference" | "team_reference") => {}
        _ => return failure(400),
    }
    // Ids are never reused, deleted ones included.
    let created = script
        .subscription_requests
        .iter()
        .filter(|(method, _, _)| method == "POST")
        .count();
    let id = format!("PSUB{created}");
    subscription["id"] = id.clone().into();
    subscription["active"] = subscription["active"].as_bool().unwrap_or(true).into();
    subscription["delivery_method"]["secret"] = format!("pd-signing-secret-{id}").into();
    subscription["delivery_method"]["temporarily_disabled"] = false.into();
    script.subscriptions.push(subscription.clone());
    (
        StatusCode::CREATED,
        Json(json!({"webhook_subscription": as_answered(&subscription, true)})),
    )
        .into_response()
}

/// `PUT /webhook_subscriptions/{id}` (`updateWebhookSubscription`): changes `description`,
/// `events`, `filter` and `active` only; "This operation does not support updating the
/// `delivery_method`", so a `delivery_method` in the body is ignored, as the real API does
/// (its body schema `WebhookSubscriptionUpdate` has no such field).
async fn update_subscription(
    State(script): State<Shared>,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    let mut script = script.lock().unwrap();
    script
        .subscription_requests
        .push(("PUT".into(), Some(id.clone()), body.clone()));
    let Some(existing) = script.subscription_mut(&id) else {
        return failure(404);
    };
    for field in ["description", "events", "filter", "active"] {
        if let Some(value) = body["webhook_subscription"].get(field) {
            existing[field] = value.clone();
        }
    }
    Json(json!({"webhook_subscription": as_answered(existing, false)})).into_response()
}

/// `DELETE /webhook_subscriptions/{id}` (`deleteWebhookSubscription`): 204, or 404.
async fn delete_subscription(State(script): State<Shared>, Path(id): Path<String>) -> Response {
    let mut script = script.lock().unwrap();
    script
        .subscription_requests
        .push(("DELETE".into(), Some(id.clone()), Value::Null));
    let before = script.subscriptions.len();
    script.subscriptions.retain(|s| s["id"] != id.as_str());
    if script.subscriptions.len() == before {
        return failure(404);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `POST /webhook_subscriptions/{id}/enable` (`enableWebhookSubscription`): no body; clears
/// `temporarily_disabled`; 404 for an unknown one.
async fn enable_subscription(State(script): State<Shared>, Path(id): Path<String>) -> Response {
    let mut script = script.lock().unwrap();
    script
        .subscription_requests
        .push(("ENABLE".into(), Some(id.clone()), Value::Null));
    let Some(existing) = script.subscription_mut(&id) else {
        return failure(404);
    };
    existing["delivery_method"]["temporarily_disabled"] = false.into();
    Json(json!({"webhook_subscription": as_answered(existing, false)})).into_response()
}

async fn ping_subscription(State(script): State<Shared>, Path(id): Path<String>) -> Response {
    let mut script = script.lock().unwrap();
    script
        .subscription_requests
        .push(("PING".into(), Some(id), Value::Null));
    StatusCode::ACCEPTED.into_response()
}
