//! PagerDuty's side of a story: the incidents as it shows them, and its signed deliveries
//! (triggers, resolves, reopens, merges, notes) at the world's time.

use pure::inbound::timestamp;
use serde_json::{json, Value};

use super::ops::{Incident, Which, INCIDENTS};
use crate::support::function_url_event;

/// The incident as PagerDuty shows it (a delivery's `data`, the REST fake's record).
pub fn incident_json(incident: Which, created_ms: u64, status: &str) -> Value {
    let Incident { id, service } = INCIDENTS[incident];
    json!({"id": id, "type": "incident", "number": 100 + incident,
           "status": status, "title": format!("Errors on {service}"),
           "urgency": "high", "created_at": timestamp::rfc3339(created_ms),
           "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
           "service": {"id": format!("PS{}", service.to_uppercase()), "summary": service},
           "teams": [], "assignees": [], "priority": null})
}

/// The incident's one `incident.triggered` (every delivery of it has the same event id).
pub fn triggered(incident: Which, created_ms: u64) -> Value {
    let data = incident_json(incident, created_ms, "triggered");
    json!({"event": {"id": format!("EVMODELTRIGGER{}", INCIDENTS[incident].id),
        "event_type": "incident.triggered", "resource_type": "incident",
        "occurred_at": data["created_at"], "agent": null, "data": data}})
}

/// `event_type` (resolved, reopened) by a responder, the incident now `status`.
pub fn by_responder(
    event_id: &str,
    incident: Which,
    created_ms: u64,
    event_type: &str,
    status: &str,
    now_ms: u64,
) -> Value {
    json!({"event": {"id": event_id, "event_type": event_type, "resource_type": "incident",
        "occurred_at": timestamp::rfc3339(now_ms),
        "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
        "data": incident_json(incident, created_ms, status)}})
}

/// A responder's note on the incident.
pub fn note(event_id: &str, incident: Which, content: &str, now_ms: u64) -> Value {
    json!({"event": {"id": event_id, "event_type": "incident.annotated",
        "resource_type": "incident", "occurred_at": timestamp::rfc3339(now_ms),
        "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
        "data": {"type": "incident_note", "id": format!("P{event_id}"), "content": content,
                 "incident": {"id": INCIDENTS[incident].id, "type": "incident_reference"}}}})
}

/// `from` resolved by its merge into `into`.
pub fn merged(event_id: &str, from: Which, into: Which, now_ms: u64) -> Value {
    json!({"event": {"id": event_id, "event_type": "incident.resolved",
        "resource_type": "incident", "occurred_at": timestamp::rfc3339(now_ms),
        "agent": {"id": "PDANA", "type": "user_reference", "summary": "Dana"},
        "data": {"type": "incident", "id": INCIDENTS[from].id, "status": "resolved",
                 "resolve_reason": {"type": "merge_resolve_reason",
                     "incident": {"id": INCIDENTS[into].id, "type": "incident_reference"}}}}})
}

/// The Function URL event PagerDuty's request of `body` becomes, signed, arriving at `now_ms`.
pub fn signed(body: &Value, now_ms: u64) -> String {
    let event = function_url_event("POST", "/pagerduty-alert", &body.to_string());
    let mut event: Value = serde_json::from_str(&event).unwrap();
    event["requestContext"]["timeEpoch"] = now_ms.into();
    event.to_string()
}
