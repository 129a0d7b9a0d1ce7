//! An incident as PagerDuty shows it (in a delivery's `data` and in the REST fake), and its
//! signed `incident.triggered` delivery.

use std::time::Duration;

use pure::inbound::timestamp;
use serde_json::{json, Value};

use super::{function_url_event, now_ms};

/// An incident as PagerDuty shows it, created `ago`.
pub fn incident_json(id: &str, ago: Duration) -> Value {
    json!({"id": id, "type": "incident", "number": 4100, "status": "triggered",
           "title": format!("Errors on {id}"), "urgency": "high",
           "created_at": timestamp::rfc3339(now_ms() - ago.as_millis() as u64),
           "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
           "service": {"id": "PSVC", "summary": "checkout-api"}, "teams": [], "assignees": []})
}

/// A signed triggered delivery of the incident.
pub fn triggered(incident: &Value) -> String {
    triggered_as(incident, &format!("EV{}", incident["id"].as_str().unwrap()))
}

/// [`triggered`], as the delivery `event_id`.
pub fn triggered_as(incident: &Value, event_id: &str) -> String {
    let body = json!({"event": {
        "id": event_id,
        "event_type": "incident.triggered", "resource_type": "incident",
        "occurred_at": incident["created_at"], "agent": null, "data": incident}});
    function_url_event("POST", "/pagerduty-alert", &body.to_string())
}

/// Everything the webhook and REST both say of an incident, as the delivery's `data` says it.
pub fn full_incident(id: &str, created_ago: Duration) -> Value {
    json!({"id": id, "type": "incident", "number": 4242, "status": "triggered",
        "title": "Checkout 5xx above 2%", "urgency": "high",
        "created_at": timestamp::rfc3339(now_ms() - created_ago.as_millis() as u64),
        "html_url": format!("https://acme.pagerduty.com/incidents/{id}"),
        "incident_key": "checkout-5xx",
        "service": {"id": "PSVC1", "type": "service_reference", "summary": "checkout-api"},
        "priority": {"id": "PSO75BM", "type": "priority_reference", "summary": "P1"},
        "escalation_policy": {"id": "PUS0KTE", "type": "escalation_policy_reference",
                              "summary": "Payments Escalation"},
        "teams": [{"id": "PFCVPS0", "type": "team_reference", "summary": "Payments"}],
        "assignees": [{"id": "PDANA", "type": "user_reference", "summary": "Dana Ops"}],
        "resolve_reason": null})
}
