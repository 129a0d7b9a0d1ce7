//! A delivery file as the policy tool reads it: a PagerDuty webhook body (`{"event": ...}`),
//! or a Function URL event (its `body`, base64 or not) like those in `events/`; beside it, under
//! `"pagerduty"`, what a delivery would read of PagerDuty for the brief, as a sample.

use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

use pure::inbound::webhook::{self, Event};
use pure::text::alerts::{Alert, Evidence};
use pure::text::correlated::{ChangeEvent, Correlated, PastDetail, PastIncident, RelatedIncident};

pub fn delivery(text: &str) -> Result<Event, String> {
    let json: Value = serde_json::from_str(text).map_err(|err| format!("not JSON: {err}"))?;
    let body = match json.get("body").and_then(Value::as_str) {
        None => text.as_bytes().to_vec(),
        Some(body) if json["isBase64Encoded"] == true => base64::engine::general_purpose::STANDARD
            .decode(body)
            .map_err(|_| "its body is marked base64 and is not".to_owned())?,
        Some(body) => body.as_bytes().to_vec(),
    };
    webhook::parse(&body)
        .map(|delivery| delivery.event)
        .map_err(|err| err.to_string())
}

/// `"pagerduty"` of a delivery file: each list in its operation's shape (`listIncidentAlerts`'
/// `alerts`, `listIncidentRelatedChangeEvents`' `change_events`, `getPastIncidents`'
/// `past_incidents`, `getRelatedIncidents`' `related_incidents`). A past incident's `incident`
/// may also carry what `GET /incidents/{id}` would add: `incident_number`, `status`,
/// `resolved_at`, `html_url`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Sample {
    alerts: Option<Vec<Alert>>,
    related_change_events: Option<Vec<ChangeEvent>>,
    past_incidents: Option<Vec<Value>>,
    related_incidents: Option<Vec<RelatedIncident>>,
}

/// The evidence the file's `"pagerduty"` sample makes, as a delivery would make it from
/// PagerDuty's answers; `None` when the file has none.
pub fn sample_evidence(text: &str) -> Result<Option<Evidence>, String> {
    let json: Value = serde_json::from_str(text).map_err(|err| format!("not JSON: {err}"))?;
    let Some(sample) = json.get("pagerduty") else {
        return Ok(None);
    };
    let sample = Sample::deserialize(sample).map_err(|err| format!("\"pagerduty\": {err}"))?;
    let past = sample
        .past_incidents
        .map(|past| past.iter().map(past_incident).collect());
    let correlated = Correlated {
        changes: sample.related_change_events,
        past_incidents: past,
        related_incidents: sample.related_incidents,
    };
    Ok(Evidence::gathered(sample.alerts.as_deref(), &correlated))
}

/// A sample past incident, with what `GET /incidents/{id}` would add when it carries it.
fn past_incident(value: &Value) -> PastIncident {
    let mut past = PastIncident::deserialize(value).unwrap_or_default();
    let incident = &value["incident"];
    let text = |name: &str| incident[name].as_str().map(str::to_owned);
    past.detail = Some(PastDetail {
        number: incident["incident_number"].as_u64(),
        status: text("status"),
        resolved_at: text("resolved_at"),
        html_url: text("html_url"),
    });
    past
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_body_and_a_function_url_event_read_alike() {
        let raw = r#"{"event":{"id":"E1","event_type":"pagey.ping"}}"#;
        assert_eq!(delivery(raw).unwrap().event_type, "pagey.ping");
        let wrapped = serde_json::json!({"body": raw, "isBase64Encoded": false}).to_string();
        assert_eq!(delivery(&wrapped).unwrap().id, "E1");
        let encoded = base64::engine::general_purpose::STANDARD.encode(raw);
        let wrapped = serde_json::json!({"body": encoded, "isBase64Encoded": true}).to_string();
        assert_eq!(delivery(&wrapped).unwrap().id, "E1");
        assert!(delivery("nope").unwrap_err().starts_with("not JSON"));
    }

    #[test]
    fn a_file_may_carry_what_pagerduty_would_answer_for_the_brief() {
        let raw = r#"{"event": {"id": "E1", "event_type": "incident.triggered"},
            "pagerduty": {"related_change_events": [{"summary": "Deploy v2", "routing_key": "RK",
                              "correlation_reason": {"reason": "most_recent"}}],
                          "past_incidents": [{"incident": {"id": "P1", "title": "Before",
                              "created_at": "2026-10-01T10:00:00Z", "incident_number": 8,
                              "resolved_at": "2026-10-01T10:30:00Z"}, "score": 9.5}]}}"#;
        let evidence = sample_evidence(raw).unwrap().unwrap();
        assert_eq!(evidence.changes[0]["correlation_reason"], "most_recent");
        assert!(evidence.changes[0].get("routing_key").is_none());
        assert_eq!(evidence.past_incidents[0]["number"], 8);
        assert_eq!(evidence.past_incidents[0]["time_to_resolve"], "30m");
        assert!(evidence.alerts.is_empty());
        assert_eq!(sample_evidence(r#"{"event": {}}"#), Ok(None));
        let wrong = sample_evidence(r#"{"pagerduty": {"changes": []}}"#).unwrap_err();
        assert!(
            wrong.starts_with("\"pagerduty\": unknown field `changes`"),
            "{wrong}"
        );
    }
}
